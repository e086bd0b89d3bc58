"""The back office's alerts (issue 20): what someone should look at before a customer notices.

- `unsynced`: devices in use (not revoked) that have not synced for a day (STALE): their last push
  or pull is older, or they never synced and were enrolled over a day ago. A kiosk that stopped
  syncing keeps registering offline: its tickets reach no desk and no page here.
- `parked`: devices holding what they could not pass on. Central keeps no refused event (a
  refused push stores nothing: ingest.py), so this is what each device says on its pulls
  (kiosk/sync/outbox.py ParkedReport: the events central refused, the changes that failed there,
  the newest reasons' names; central/devices.py record_parked), and what central counted itself
  of the events it refused (devices.record_refused): a device too old to report is listed when
  central refused it anything, a reporting one when it reports something parked or central
  refused it more since its last report.

Both per site (central/settings.py sites), from the device rows alone (a few hundred at a
province's scale): no event is read. No personal data: device names, counts and reason words.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.domain.clock import utc_now

from .storage import Storage, as_datetime, ts

STALE = timedelta(hours=24)

COLUMNS = (
    "uid",
    "name",
    "role",
    "site",
    "enrolled_at",
    "last_seen_at",
    "last_push_at",
    "last_pull_at",
    "parked_events",
    "parked_changes",
    "parked_reasons",
    "parked_reported_at",
    "refused_events",
    "refused_at",
    "refused_reasons",
)


def alerts(storage: Storage, now: datetime | None = None) -> dict:
    """{"unsynced": [...], "parked": [...], "sites": {site: {"unsynced": n, "parked": n}}, "since": ...}."""
    now = now or utc_now()
    with storage.read() as tx:
        rows = [
            dict(zip(COLUMNS, row))
            for row in tx.all(
                f"SELECT {', '.join(COLUMNS)} FROM device WHERE revoked_at IS NULL ORDER BY site, name, uid"
            )
        ]
    unsynced, parked = [], []
    for device in rows:
        synced = _latest(device["last_seen_at"], device["last_push_at"], device["last_pull_at"])
        if (synced or as_datetime(device["enrolled_at"])) <= now - STALE:
            unsynced.append(
                {
                    **_who(device),
                    "synced_at": _iso(synced),
                    "never": synced is None,
                    "hours": int((now - (synced or as_datetime(device["enrolled_at"]))).total_seconds() // 3600),
                }
            )
        if _parks(device):
            parked.append(
                {
                    **_who(device),
                    "events": device["parked_events"],
                    "changes": device["parked_changes"],
                    "reasons": _words(device["parked_reasons"]),
                    "reported_at": _iso(as_datetime(device["parked_reported_at"])),
                    "refused": device["refused_events"],
                    "refused_at": _iso(as_datetime(device["refused_at"])),
                    "refused_reasons": _words(device["refused_reasons"]),
                }
            )
    sites: dict[str, dict[str, int]] = {}
    for name, listed in (("unsynced", unsynced), ("parked", parked)):
        for device in listed:
            sites.setdefault(device["site"], {"unsynced": 0, "parked": 0})[name] += 1
    return {
        "unsynced": unsynced,
        "parked": parked,
        "sites": dict(sorted(sites.items())),
        "stale_hours": int(STALE.total_seconds() // 3600),
        "at": ts(now),
    }


def _parks(device: dict) -> bool:
    if device["parked_reported_at"] is None:  # never reported: what central refused is all it knows
        return bool(device["refused_events"])
    if (device["parked_events"] or 0) + (device["parked_changes"] or 0) > 0:
        return True
    refused_at = as_datetime(device["refused_at"])
    return refused_at is not None and refused_at > as_datetime(device["parked_reported_at"])


def _latest(*values) -> datetime | None:
    moments = [as_datetime(v) for v in values if v is not None]
    return max(moments) if moments else None


def _who(device: dict) -> dict:
    return {
        "uid": device["uid"],
        "name": device["name"] or device["uid"],
        "role": device["role"],
        "site": device["site"],
    }


def _words(text: str | None) -> list[str]:
    return [word for word in (text or "").split(",") if word]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else ts(value)
