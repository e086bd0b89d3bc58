"""好差评 in the back office (issue 21): the ratings in the provincial platform's shape (CSV and
JSON: kiosk/domain/ratings_export.py owns the shape, the same as `kiosk satisfaction --export`),
and the window pads' ratings by counter, clerk, stage and week.

The export is read from the events, like a follow-up's state: every
`feedback.given` in force (not voided) whose `at` falls on the period's local days (first arrival
of a rating uid counts once), and the appeals' state from `rating.appealed` / `appeal.decided`
(central/appeals.py). A rating an appeal upheld is exported, marked; the figures leave it out.
The office streams it (issue 20, `streamed`, `csv_chunks`, `json_chunks`): the events read a
chunk at a time in (created_at, id) order, the ratings handed over in time order as soon as no
rating stored later can come before them; `ratings` reads the whole, as the tests' reference.
The window groups are read from the sums the rating read model keeps (schema 24: rating_sum's
window kinds, central/readmodels/rating.py `window`): tests/central/test_window_ratings_read_model.py
holds them to what the events say. A rating any appeal of which was upheld is set aside there
and exported as upheld (申诉成立), as in the figures (central/appeals.py states). Nothing personal is exported: no
phone, comment, customer or clerk name (kiosk/domain/ratings_export.py).

The department the export names: $CENTRAL_RATINGS_DEPARTMENT, else the institute file's
`[ratings] department` (as central holds the file: central/institute.py), else its `[name] zh`.
"""

from __future__ import annotations

import heapq
import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from kiosk.domain import ratings_export
from kiosk.domain.clock import local, start_of
from kiosk.domain.ratings_export import ExportRating, from_payload, window_counts

from . import appeals, institute, work_orders
from .readmodels import rating
from .storage import Storage, as_datetime
from .words import ARRIVAL

PAD = timedelta(days=2)  # a device's `created_at` and the payload's `at` may differ (a clamped clock)
EXPORT_CHUNK = 1_000  # ratings a statement while an export streams


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
    where, params = _stored_in(storage, first, last)
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
        rated = _rated(payload, known, states, first, last)
        if rated is None or rated.uid in seen:
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


def streamed(storage: Storage, first: date | None, last: date | None,
             chunk: int = EXPORT_CHUNK) -> Iterator[list[ExportRating]]:
    """What `ratings` gives (the same ratings, oldest first), in pieces as they are read: the
    period's `feedback.given` in (created_at, id) order, `chunk` a statement, each its own short
    read (no snapshot held while the client downloads), through a buffer that hands over every
    rating given more than PAD before the last one read was stored (a later one cannot come
    before it: a payload's `at` is within PAD of its `created_at`, the rule the period's bounds
    already read by). So the memory held is the ratings of about 2 × PAD, whatever the period.
    A rating uid stored twice counts once, its first arrival, as in `ratings`, among those
    within 2 × PAD of each other; an `at` more than PAD before its `created_at` is handed over
    as it is read (late), not moved back."""
    where, bounds = _stored_in(storage, first, last)
    with storage.read() as tx:
        states = appeals.states(tx, storage)
    waiting: list[tuple] = []  # heap of (given_at, uid, arrival, rating): not yet handed over
    pending: set[str] = set()  # their uids
    held: dict[str, tuple] = {}  # uid -> the arrival of the one waiting or handed over lately
    handed: list[tuple[datetime, str]] = []  # (given_at, uid) handed over, oldest first: `held` pruned by it
    place: tuple | None = None
    while True:
        key = " AND (e.created_at, e.id) > (?, ?)" if place else ""
        with storage.read() as tx:
            rows = tx.all(f"SELECT e.created_at, e.id, e.received_at, {storage.json_text('e.payload')} FROM event e "
                          f"WHERE {' AND '.join(where)}{key} ORDER BY e.created_at, e.id LIMIT {int(chunk)}",
                          [*bounds, *(place or ())])
            payloads = [(json.loads(text) if isinstance(text, str) else text) for *_, text in rows]
            known = _served(tx, storage, sorted({p["ticket"] for p in payloads if isinstance(p, dict)
                                                 and isinstance(p.get("ticket"), str) and not p.get("steps")}))
        for (created, event_id, received, _), payload in zip(rows, payloads, strict=True):
            rated = _rated(payload, known, states, first, last)
            if rated is None:
                continue
            arrival = (as_datetime(received), as_datetime(created), event_id)
            if rated.uid in held and (rated.uid not in pending or held[rated.uid] <= arrival):
                continue
            if rated.uid in held:  # this one arrived first (a rare case: the one waiting is replaced)
                waiting = [w for w in waiting if w[1] != rated.uid]
                heapq.heapify(waiting)
            held[rated.uid] = arrival
            pending.add(rated.uid)
            heapq.heappush(waiting, (rated.given_at, rated.uid, arrival, rated))
        if len(rows) < chunk:
            break
        place = (rows[-1][0], rows[-1][1])
        ready = as_datetime(rows[-1][0]) - PAD
        out = _hand_over(waiting, pending, handed, ready)
        while handed and handed[0][0] < ready - PAD:
            held.pop(heapq.heappop(handed)[1], None)
        if out:
            yield out
    out = _hand_over(waiting, pending, handed, None)
    if out:
        yield out


def csv_chunks(storage: Storage, first: date | None, last: date | None, department_name: str,
               chunk: int = EXPORT_CHUNK) -> Iterator[bytes]:
    """The CSV of `streamed`, as kiosk/domain/ratings_export.py to_csv writes the whole (its
    header, then each piece's rows: formulas neutralised there), a piece at a time, UTF-8."""
    header = ratings_export.to_csv([], department_name)
    yield header.encode("utf-8")
    for rated in streamed(storage, first, last, chunk):
        yield ratings_export.to_csv(rated, department_name)[len(header):].encode("utf-8")


def json_chunks(storage: Storage, first: date | None, last: date | None, department_name: str,
                chunk: int = EXPORT_CHUNK) -> Iterator[bytes]:
    """The JSON of `streamed`, the same text as to_json writes the whole (an object: the
    department, then the array of ratings), a piece at a time, UTF-8."""
    yield (f'{{\n "department": {json.dumps(department_name, ensure_ascii=False)},\n "ratings": [').encode()
    first_item = True
    for rated in streamed(storage, first, last, chunk):
        items = [textwrap.indent(json.dumps(ratings_export.record(r, department_name), ensure_ascii=False,
                                            indent=1), "  ") for r in rated]
        yield (("\n" if first_item else ",\n") + ",\n".join(items)).encode("utf-8")
        first_item = False
    yield ("]\n}" if first_item else "\n ]\n}").encode("utf-8")


def _stored_in(storage: Storage, first: date | None, last: date | None) -> tuple[list[str], list]:
    """The conditions (and their values) on the `feedback.given` events in force that can hold a
    rating of the local days first..last: stored within PAD of them."""
    where, params = ["e.kind = 'feedback.given'", "e.void_id IS NULL"], []
    if first is not None:
        where.append("e.created_at >= ?")
        params.append(storage.timestamp(start_of(first) - PAD))
    if last is not None:
        where.append("e.created_at < ?")
        params.append(storage.timestamp(start_of(last + timedelta(days=1)) + PAD))
    return where, params


def _hand_over(waiting: list[tuple], pending: set[str], handed: list, ready: datetime | None) -> list[ExportRating]:
    """The ratings waiting that were given before `ready` (None: all), oldest first."""
    out = []
    while waiting and (ready is None or waiting[0][0] < ready):
        given_at, uid, _, rated = heapq.heappop(waiting)
        pending.discard(uid)
        heapq.heappush(handed, (given_at, uid))
        out.append(rated)
    return out


def _rated(payload, known: dict, states: dict, first: date | None, last: date | None) -> ExportRating | None:
    """A `feedback.given` payload as exported (`ratings`' rule), None: not one of the period's."""
    if not isinstance(payload, dict):
        return None
    if not payload.get("steps") and payload.get("ticket") in known:  # a lobby kiosk knew no steps: central's
        payload = payload | {"steps": _steps_then(known[payload["ticket"]], payload.get("at"))}
    rated = from_payload(payload, states.get(str(payload.get("feedback"))))
    if rated is None:
        return None
    day = local(rated.given_at).date()
    if (first is not None and day < first) or (last is not None and day > last):
        return None
    return rated


def _counter(rated: ExportRating, device_name: str | None) -> ExportRating:
    """The window named with its desk: "1号收件窗口 · 3" (two sites may both have a window 3)."""
    if rated.counter is None:
        return rated
    return replace(rated, counter=f"{device_name} · {rated.counter}" if device_name else rated.counter)


def window_report(storage: Storage, first: date | None, last: date | None,
                  orders: work_orders.Orders = work_orders.FIRST, appealed: appeals.Asked = appeals.FIRST) -> dict:
    """The pads' ratings by counter, clerk, stage and week (kiosk/domain/ratings_export.py
    window_groups' rule), read from the sums the rating read model keeps (central/readmodels/rating.py
    `window`: a few rows a year, month, week or day, not every rating of the period), one page of
    the appeals (central/appeals.py page: every appeal, whatever the period, newest filed first;
    `appeals_next`, `appeals_previous` its neighbours' page links, `appeals_count` counted up to
    COUNT_CAP, `appeals_more` beyond), and one page of the work orders (central/work_orders.py),
    `next` and `previous` its neighbours' page links."""
    from .satisfaction import group_dict

    with storage.read() as tx:
        parts = rating.window(tx, first, last)
    found = work_orders.page(storage, first, last, orders)
    filed = appeals.page(storage, appealed)
    groups = {"counter": window_counts(_alike(parts["counter"], lambda counter, name: {"counter": counter}, True)),
              "clerk": window_counts(_alike(parts["clerk"], lambda staff, _: {"staff_number": staff})),
              "stage": window_counts(_alike(parts["stage"], lambda stage, _: {"stage": stage})),
              "week": window_counts(_alike(parts["week"], lambda _, monday: {"given_at": start_of(monday)}))}
    stages = [(aside, n) for *_, aside, n in parts["stage"]]
    return {"from": first.isoformat() if first else None, "to": last.isoformat() if last else None,
            "count": sum(n for _, n in stages), "set_aside": sum(n for aside, n in stages if aside),
            **{view: [group_dict(g) for g in groups[view][view]] for view in ("counter", "clerk", "stage", "week")},
            "appeals": filed.appeals, "appeals_count": filed.count, "appeals_more": filed.more,
            "appeals_next": filed.next.link(True) if filed.next else None,
            "appeals_previous": filed.previous.link(False) if filed.previous else None,
            "work_orders": found.orders,
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
