"""好差评 in the back office (issue 21): the ratings in the provincial platform's shape (CSV and
JSON: kiosk/domain/ratings_export.py owns the shape, the same as `kiosk satisfaction --export`),
and the window pads' ratings by counter, clerk, stage and week.

The export is read from the events, like a follow-up's state: every
`feedback.given` in force (not voided) whose `at` falls on the period's local days (first arrival
of a rating uid counts once), and the appeals' state from `rating.appealed` / `appeal.decided`
(central/appeals.py). A rating an appeal upheld is exported, marked; the figures leave it out.
The window groups are read from the sums the rating read model keeps (schema 24: rating_sum's
window kinds, central/readmodels/rating.py `window`): tests/central/test_window_ratings_read_model.py
holds them to what the events say. A rating any appeal of which was upheld is set aside there
and exported as upheld (申诉成立), as in the figures (central/appeals.py states). Nothing personal is exported: no
phone, comment, customer or clerk name (kiosk/domain/ratings_export.py).

The department the export names: $CENTRAL_RATINGS_DEPARTMENT, else the institute file's
`[ratings] department` (as central holds the file: central/institute.py), else its `[name] zh`.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from kiosk.domain.clock import local, start_of
from kiosk.domain.ratings_export import ExportRating, from_payload, window_counts

from . import appeals, institute, work_orders
from .readmodels import rating
from .storage import Storage, as_datetime
from .words import ARRIVAL

PAD = timedelta(days=2)  # a device's `created_at` and the payload's `at` may differ (a clamped clock)


def department(storage: Storage) -> str:
    configured = os.environ.get("CENTRAL_RATINGS_DEPARTMENT", "").strip()
    if configured:
        return configured
    try:
        info = institute.current(storage)
    except institute.InstituteFileError:
        return ""
    return info.ratings.department or info.name.zh


def ratings(storage: Storage, first: date | None, last: date | None) -> list[tuple[ExportRating, str | None]]:
    """The ratings given on the local days first..last (None: no bound), oldest first, each with
    the name of the device it was pushed by (None: not known)."""
    where, params = ["e.kind = 'feedback.given'", "e.void_id IS NULL"], []
    if first is not None:
        where.append("e.created_at >= ?")
        params.append(storage.timestamp(start_of(first) - PAD))
    if last is not None:
        where.append("e.created_at < ?")
        params.append(storage.timestamp(start_of(last + timedelta(days=1)) + PAD))
    with storage.read() as tx:
        rows = tx.all(f"SELECT {storage.json_text('e.payload')}, d.name FROM event e LEFT JOIN device d "
                      f"ON d.id = e.device_id WHERE {' AND '.join(where)} ORDER BY {ARRIVAL}", params)
        states = appeals.states(tx, storage)
        payloads = [(json.loads(text) if isinstance(text, str) else text, name) for text, name in rows]
        known = _served(tx, storage, sorted({p["ticket"] for p, _ in payloads if isinstance(p, dict)
                                             and isinstance(p.get("ticket"), str) and not p.get("steps")}))
    seen: set[str] = set()
    result = []
    for payload, device_name in payloads:
        if not isinstance(payload, dict):
            continue
        if not payload.get("steps") and payload.get("ticket") in known:  # a lobby kiosk knew no steps: central's
            payload = payload | {"steps": _steps_then(known[payload["ticket"]], payload.get("at"))}
        rated = from_payload(payload, states.get(str(payload.get("feedback"))))
        if rated is None or rated.uid in seen:
            continue
        day = local(rated.given_at).date()
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        seen.add(rated.uid)
        result.append((rated, device_name))
    result.sort(key=lambda pair: (pair[0].given_at, pair[0].uid))
    return result


def _served(tx, storage: Storage, tickets: list[str]) -> dict[str, tuple]:
    """ticket uid -> (received clerk, picked-up clerk, picked up at), as central knows them (ticket_state)."""
    found: dict[str, tuple] = {}
    for start in range(0, len(tickets), 1000):
        where, params = storage.in_list("uid", tickets[start:start + 1000])
        for uid, received, picked_up, picked_up_at in tx.all(
                f"SELECT uid, received_clerk, picked_up_clerk, picked_up_at FROM ticket_state WHERE {where}", params):
            found[uid] = (received, picked_up, as_datetime(picked_up_at))
    return found


def _steps_then(served: tuple, at) -> dict:
    """The steps a rating given at `at` followed: picked up (if before it), and received."""
    received, picked_up, picked_up_at = served
    steps = {"received": {"clerk": received}} if received else {}
    try:
        given = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        given = None
    if picked_up and picked_up_at is not None and given is not None and picked_up_at <= given:
        steps["picked_up"] = {"clerk": picked_up}
    return steps


def exported(storage: Storage, first: date | None, last: date | None) -> list[ExportRating]:
    return [rated for rated, _ in ratings(storage, first, last)]


def _counter(rated: ExportRating, device_name: str | None) -> ExportRating:
    """The window named with its desk: "1号收件窗口 · 3" (two sites may both have a window 3)."""
    if rated.counter is None:
        return rated
    return replace(rated, counter=f"{device_name} · {rated.counter}" if device_name else rated.counter)


def window_report(storage: Storage, first: date | None, last: date | None,
                  orders: work_orders.Orders = work_orders.FIRST) -> dict:
    """The pads' ratings by counter, clerk, stage and week (kiosk/domain/ratings_export.py
    window_groups' rule), read from the sums the rating read model keeps (central/readmodels/rating.py
    `window`: a few rows a year, month, week or day, not every rating of the period), the appeals
    (central/appeals.py), and one page of the work orders (central/work_orders.py), `next` and
    `previous` its neighbours' page links."""
    from .satisfaction import group_dict

    with storage.read() as tx:
        parts = rating.window(tx, first, last)
    found = work_orders.page(storage, first, last, orders)
    groups = {"counter": window_counts(_alike(parts["counter"], lambda counter, name: {"counter": counter}, True)),
              "clerk": window_counts(_alike(parts["clerk"], lambda staff, _: {"staff_number": staff})),
              "stage": window_counts(_alike(parts["stage"], lambda stage, _: {"stage": stage})),
              "week": window_counts(_alike(parts["week"], lambda _, monday: {"given_at": start_of(monday)}))}
    stages = [(aside, n) for *_, aside, n in parts["stage"]]
    return {"from": first.isoformat() if first else None, "to": last.isoformat() if last else None,
            "count": sum(n for _, n in stages), "set_aside": sum(n for aside, n in stages if aside),
            **{view: [group_dict(g) for g in groups[view][view]] for view in ("counter", "clerk", "stage", "week")},
            "appeals": appeals.listed(storage), "work_orders": found.orders,
            "next": found.next.link(True) if found.next else None,
            "previous": found.previous.link(False) if found.previous else None}


def _alike(rows, fields, named: bool = False) -> list[tuple[ExportRating, int]]:
    """window_counts' (a rating, how many alike) of one part of rating.window's rows: (key, second
    key, rating, set aside, how many), `fields` the rating's fields its keys give; `named`: the
    second key is the desk's name its counter is shown with. Those set aside are left out."""
    alike = []
    for k1, k2, stars, aside, n in rows:
        if aside:
            continue
        rated = replace(ALIKE, rating=stars, **fields(k1, k2))
        alike.append((_counter(rated, k2) if named else rated, int(n)))
    return alike


# What the groups read of a rating summed in SQL (its part's keys and level set on it).
ALIKE = ExportRating("", datetime.min.replace(tzinfo=UTC), 1, None, None, None, None, None, channel="window")


def export_name(kind: str, now: datetime | None = None) -> str:
    from kiosk.domain.clock import utc_now

    return f"ratings-{local(now or utc_now()):%Y-%m-%d}.{kind}"
