"""The back office's view: tickets by status (counts and the latest of each, from the read
models central/readmodels/ keeps: a few indexed rows, whatever the history's size), devices with
their role and when each last synced, and what was voided (central/voiding.py: a voided
registration's ticket is counted nowhere and listed there). JSON for tools, one plain HTML page
for people (central/templates/overview.html).

Customer phone numbers are masked everywhere here (138****5678): the office needs to see
that a ticket exists and who it is for, not to read contact data off a screen.
"""

from __future__ import annotations

from collections import Counter

from . import voiding
from .alerts import alerts
from .devices import list_devices
from .readmodels import office_count, ticket_state
from .storage import Storage, as_datetime, ts
from .templating import render
from .words import STATUSES

RECENT = 50  # tickets listed per status

STATUS_NAMES = {"registered": ("已登记", "registered"), "received": ("已收件", "received"),
                "ready": ("待取件", "ready for pickup"), "picked_up": ("已取件", "picked up")}


def mask_phone(phone: str | None) -> str:
    phone = (phone or "").strip()
    n = len(phone)
    if n >= 8:
        return phone[:3] + "*" * (n - 7) + phone[-4:]
    if n >= 3:
        return phone[0] + "*" * (n - 2) + phone[-1]
    return "*" * n


def _iso(value) -> str | None:
    value = as_datetime(value)
    return None if value is None else ts(value)


def summary(storage: Storage) -> dict:
    with storage.read() as tx:
        recent = {status: [_ticket(row) for row in ticket_state.latest(tx, rank, RECENT)]
                  for rank, status in enumerate(STATUSES)}
        counts = office_count.counts(tx)
        clock = tx.one("SELECT seq FROM feed_clock WHERE id = 1")[0]
        latest = tx.one("SELECT id, sha256, imported_at FROM catalog_version ORDER BY id DESC LIMIT 1")
    return {
        "tickets": {"counts": counts, "total": sum(counts.values()), "recent": recent},
        "devices": list_devices(storage),
        "catalog": None if latest is None else {"version": latest[0], "sha256": latest[1],
                                                "imported_at": _iso(latest[2])},
        "feed_seq": clock,
        "voidings": [_voiding(v) for v in voiding.voidings(storage)[:RECENT]],
        "alerts": alerts(storage),  # devices not synced for a day, parked events (central/alerts.py)
    }


def _voiding(v: voiding.Voiding) -> dict:
    return {"id": v.id, "device": v.device_name or v.device_uid, "since": ts(v.since), "reason": v.reason,
            "created_at": ts(v.created_at), "events": len(v.events), "kinds": dict(Counter(e.kind for e in v.events)),
            "tickets": [e.number for e in v.events if e.kind == "ticket.registered"][:RECENT]}


def _ticket(row: dict) -> dict:
    # total_fen: the total the customer's receipt and signed code say (the kiosk's, to the fen): the
    # same figure every desk charges for the ticket as registered (kiosk/store/desk.py price_intake).
    return {"uid": row["uid"], "number": row["number"], "status_at": ts(row["status_at"]),
            "organisation": row["organisation"], "phone": mask_phone(row["phone"]),
            "total_fen": row["total_fen"], "taken_in_fen": row["taken_in_fen"]}


def render_html(data: dict, viewer) -> str:
    statuses = [(status, *STATUS_NAMES[status]) for status in STATUSES]
    return render("overview.html", title="中心系统 · Central", refresh=30, viewer=viewer, statuses=statuses, **data)
