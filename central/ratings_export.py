"""好差评 in the back office (issue 21): the ratings in the provincial platform's shape (CSV and
JSON: kiosk/domain/ratings_export.py owns the shape, the same as `kiosk satisfaction --export`),
and the window pads' ratings by counter, clerk, stage and week.

The export is the ratings that count, the rating read model's rows (central/readmodels/rating.py:
a ticket's first rating to arrive, of each stage a window pad rates, and every anonymous one),
whose `at` falls on the period's local days, in the institute's zone. The office streams it
(issue 20, `streamed`, `csv_chunks`, `json_chunks`): a chunk of rows at a time by the index
rating_given (given_at, rated), so in exact time order and each rating once however late or often
its event was stored; what the row lacks of the payload read from its event by id, a chunk at a
time, and its appeals' state from the appeal read model (schema 28), by rating: a rating any appeal
of which was upheld (set aside in the figures) is exported marked upheld (申诉成立), else with the
state of its latest appeal (申诉不成立, 申诉待审核: readmodels/appealed.py rating_states). `ratings` reads
every rating event of the period at once (first arrival of a rating uid counts once): the tests'
reference.
The window groups are read from the sums the rating read model keeps (schema 24: rating_sum's
window kinds, central/readmodels/rating.py `window`): tests/central/test_window_ratings_read_model.py
holds them to what the events say. Nothing personal is exported: no phone, comment, customer or
clerk name (kiosk/domain/ratings_export.py).

The department the export names: $CENTRAL_RATINGS_DEPARTMENT, else the institute file's
`[ratings] department` (as central holds the file: central/institute.py), else its `[name] zh`.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from kiosk.domain import ratings_export
from kiosk.domain.clock import local, start_of
from kiosk.domain.ratings_export import ExportRating, from_payload, window_counts

from . import appeals, institute, work_orders
from .readmodels import appeal, rating
from .readmodels.appealed import rating_states
from .storage import Storage, Tx, as_datetime
from .words import ARRIVAL

PAD = timedelta(days=2)  # `ratings`: a device's `created_at` and the payload's `at` may differ (a clamped clock)
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
    the name of the device it was pushed by (None: not known), read from every rating event at
    once (a rating uid's first arrival; its `created_at` within PAD of the period): the tests'
    reference for the window groups and the export (which reads the read model: `streamed`)."""
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
    """The ratings that count (the rating read model's rows: a ticket's first rating, of each
    stage a window rates, and every anonymous one, set aside or not) given on the local days
    first..last (None: no bound), oldest first by (given_at, rating uid), in pieces as they are
    read: `chunk` rows a statement by the index rating_given (given_at, rated), so the order is
    exact and each row comes once whenever and however often its event was stored. A piece ends
    with every rating given at its last moment (a tie is never split, so to_csv's order within a
    piece is the whole's). Each piece is its own short read (no snapshot held while the client
    downloads): its rows' payloads read by their events' ids, central's clerks by ticket
    (ticket_state), their appeals' states by rating (the appeal read model, schema 28)."""
    bounds, params = _given_in(storage, first, last)
    after = None
    while True:
        where, values = (bounds, params) if after is None else ([*bounds, "given_at > ?"], [*params, after])
        with storage.read() as tx:
            rows = tx.all(f"SELECT {RATED} FROM rating WHERE {' AND '.join(where) or 'TRUE'} "
                          f"ORDER BY given_at, rated LIMIT {int(chunk)}", values)
            whole = len(rows) < chunk
            if rows and not whole:  # the rest of the last moment's ratings: a tie is not split
                rows += tx.all(f"SELECT {RATED} FROM rating WHERE given_at = ? AND rated > ? ORDER BY rated",
                               rows[-1][:2])
            out = _exported(tx, storage, rows, first, last)
        if out:
            yield out
        if whole:
            return
        after = rows[-1][0]


RATED = "given_at, rated, arrival, feedback, ticket"  # what `streamed` reads of a rating's row


def _given_in(storage: Storage, first: date | None, last: date | None) -> tuple[list[str], list]:
    """The conditions (and their values) on rating's `given_at` of the local days first..last:
    from the first day's start to the next day's after the last, in the institute's zone now."""
    where, params = [], []
    if first is not None:
        where.append("given_at >= ?")
        params.append(storage.timestamp(start_of(first)))
    if last is not None:
        where.append("given_at < ?")
        params.append(storage.timestamp(start_of(last + timedelta(days=1))))
    return where, params


def _exported(tx: Tx, storage: Storage, rows: list[tuple], first: date | None,
              last: date | None) -> list[ExportRating]:
    """A piece's rating rows (RATED) as exported: each from its event's payload (`arrival` ends
    with its id), a rating uid stored under two keys (an anonymous rating stored twice) once,
    its first arrival, as the export always counted it (by the index rating_feedback); each with
    its appeals' state (readmodels/appealed.py rating_states: upheld if any was, else its latest appeal's)."""
    if not rows:
        return []
    ids = sorted({int(arrival.rsplit("|", 1)[1]) for _, _, arrival, *_ in rows})
    where, params = storage.in_list("e.id", ids)
    payloads = {event_id: json.loads(text) if isinstance(text, str) else text for event_id, text in
                tx.all(f"SELECT e.id, {storage.json_text('e.payload')} FROM event e WHERE {where}", params)}
    # An anonymous rating is keyed by its event's uid: one stored twice is two rows of one rating uid.
    feedbacks = sorted({feedback for *_, feedback, ticket in rows if feedback and ticket is None})
    firsts: dict[str, tuple] = {}
    if feedbacks:
        where, params = storage.in_list("feedback", feedbacks)
        for feedback, rated, arrival in tx.all(f"SELECT feedback, rated, arrival FROM rating WHERE {where}", params):
            firsts[feedback] = min(firsts.get(feedback, (arrival, rated)), (arrival, rated))
    states = rating_states(appeal.of_ratings(tx, storage, [feedback for *_, feedback, _ in rows if feedback]))
    chosen = [(rated, arrival) for _, rated, arrival, feedback, *_ in rows
              if not feedback or firsts.get(feedback, (arrival, rated)) == (arrival, rated)]
    found = [payloads.get(int(arrival.rsplit("|", 1)[1])) for _, arrival in chosen]
    known = _served(tx, storage, sorted({p["ticket"] for p in found if isinstance(p, dict)
                                         and isinstance(p.get("ticket"), str) and not p.get("steps")}))
    rated = [r for r in (_rated(payload, known, states, first, last) for payload in found) if r is not None]
    return sorted(rated, key=lambda r: (r.given_at, r.uid))  # the export's order (a tie by the rating's uid)


def csv_chunks(storage: Storage, first: date | None, last: date | None, department_name: str,
               chunk: int = EXPORT_CHUNK, *, free_text: bool = True,
               sent: Callable[[int], None] = lambda rows: None) -> Iterator[bytes]:
    """The CSV of `streamed`, as kiosk/domain/ratings_export.py to_csv writes the whole (its
    header, then each piece's rows: formulas neutralised there), a piece at a time, UTF-8.
    `free_text` False: the reasons' labels without what the rater typed (`_labels_only`).
    `sent(rows)` after each piece (the audit log's count)."""
    header = ratings_export.to_csv([], department_name)
    yield header.encode("utf-8")
    for rated in streamed(storage, first, last, chunk):
        rated = rated if free_text else _labels_only(rated)
        sent(len(rated))
        yield ratings_export.to_csv(rated, department_name)[len(header):].encode("utf-8")


def json_chunks(storage: Storage, first: date | None, last: date | None, department_name: str,
                chunk: int = EXPORT_CHUNK, *, free_text: bool = True,
                sent: Callable[[int], None] = lambda rows: None) -> Iterator[bytes]:
    """The JSON of `streamed`, the same text as to_json writes the whole (an object: the
    department, then the array of ratings), a piece at a time, UTF-8; `free_text` and `sent` as csv_chunks'."""
    yield (f'{{\n "department": {json.dumps(department_name, ensure_ascii=False)},\n "ratings": [').encode()
    first_item = True
    for rated in streamed(storage, first, last, chunk):
        rated = rated if free_text else _labels_only(rated)
        sent(len(rated))
        items = [textwrap.indent(json.dumps(ratings_export.record(r, department_name), ensure_ascii=False,
                                            indent=1), "  ") for r in rated]
        yield (("\n" if first_item else ",\n") + ",\n".join(items)).encode("utf-8")
        first_item = False
    yield ("]\n}" if first_item else "\n ]\n}").encode("utf-8")


def _labels_only(rated: list[ExportRating]) -> list[ExportRating]:
    """The ratings without the reason a rater typed ("other: ..."), which may name a customer or
    hold a phone: for a role that may not see personal data (an auditor, the office token), who
    sees it on no page either (the follow-ups and the ticket's page, which show it, are clerks' and
    directors')."""
    return [replace(r, reason_text="") if r.reason_text else r for r in rated]


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


def _rated(payload, known: dict, states: Mapping[str, str], first: date | None,
           last: date | None) -> ExportRating | None:
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
    the appeals of a state (central/appeals.py page, whatever the period: `appeals_state`, waiting
    by default; `appeals_next`, `appeals_previous` its neighbours' page links, `appeals_count`
    the state's appeals counted up to COUNT_CAP, `appeals_more` beyond, `appeals_counts` every
    state's {count, more}), and one page of the work orders (central/work_orders.py), `next` and
    `previous` its neighbours' page links."""
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
            "appeals": filed.appeals, "appeals_state": filed.state, "appeals_count": filed.count,
            "appeals_more": filed.more, "appeals_counts": filed.counts,
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
