"""figures: the director's figures (issue 20 item 4) as per-day sums, so a page over a year reads
a few hundred rows instead of every ticket.

Two tables:
- `figure_ticket`: each taken-in ticket's contribution, a pure function of its ticket_state row
  (the earliest intake, the earliest ready, the earliest registration's promise) and of what its
  earliest intake says (lines, and the estimate as priced: kiosk.domain.fees.Estimate.to_dict()),
  kept as `cells` (JSON) with a digest of the `basis` it was made from;
- `figure_day`: the sum of every contribution per (local day, field, service), kept by adding
  the difference between a ticket's new and old contribution whenever its basis changes (a
  push, a voiding, an erasure), so a build (every contribution added up again) gives the same
  rows. Rows whose sums are all 0 are removed.

A contribution's cells, `*` meaning every field or service:
- on the local day of the earliest intake, for (`*`, `*`), each field (`F`, `*`) and each
  (field, service) of its lines: tickets (1), instruments taken in (refused lines not counted),
  revenue (the estimate's lines: amount + urgent surcharge + the line's share of its discount,
  so a ticket's cells add up to its estimate's total), the value of free compulsory
  verification waived (the lines' `waived_fen`) and the instruments it was waived on;
- on the local day of the earliest ready, for (`*`, `*`) and each field: ready (1), turnaround
  minutes (intake to ready, elapsed time), promised (1 when there was a promise) and on time
  (1 when ready by it). The promise is the work list's (kiosk/domain/worklist.py WorkItem.due):
  the end of the receipt's ready_on day for normal lines, intake + urgent_hours for urgent ones,
  the earliest of those that apply to the field's lines.

A field is a catalogue code's first letter (kiosk/domain/catalog.py FeeRow.field), `?` when it
is not one of kiosk/domain/vocabulary.py FIELDS. Without estimate lines (an older desk), revenue
comes from the earliest registration's lines (`amount_fen`, nothing waived known), else the
intake's total under (`?`, `?`).

figure_day is written just before the change feed's clock, at commit, in key order, as
office_count is (every push of an intake adds to the same day's rows). Days are local dates on
the institute's clock when stored: a change of zone needs `kiosk central rebuild-read-models`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, start_of
from kiosk.domain.vocabulary import FIELDS

from ..storage import Storage, Tx, as_datetime, ts

CHUNK = 1000  # tickets a statement
ALL = "*"
MEASURES = ("tickets", "instruments", "revenue_fen", "waived_fen", "waived_instruments", "ready",
            "turnaround_minutes", "promised", "on_time")
INTAKE = MEASURES[:5]
STATEMENTS = (
    "CREATE TABLE figure_ticket (ticket TEXT PRIMARY KEY, basis TEXT NOT NULL, cells TEXT NOT NULL)",
    # field and service first: a page reads the (*, *) row of each day in a range as one index range.
    f"""CREATE TABLE figure_day (field TEXT NOT NULL, service TEXT NOT NULL, day TEXT NOT NULL,
        {', '.join(f'{m} BIGINT NOT NULL' for m in MEASURES)}, PRIMARY KEY (field, service, day))""",
    "CREATE INDEX figure_day_day ON figure_day (day)",
    # Satisfaction per week or month: counted from the index alone.
    "CREATE INDEX rating_day_rating ON rating (day, rating)",
)
# Schema 26: figure_ticket by its ticket's id (ticket_state.id) instead of its uid: a new table filled by
# uid (a contribution's ticket always has its row: one without is deleted with it), then in its place.
ID_STATEMENTS = (
    "CREATE TABLE figure_ticket_26 (ticket BIGINT NOT NULL, basis TEXT NOT NULL, cells TEXT NOT NULL)",
    ("INSERT INTO figure_ticket_26 (ticket, basis, cells) SELECT s.id, f.basis, f.cells FROM figure_ticket f "
     "JOIN ticket_state s ON s.uid = f.ticket"),
    "DROP TABLE figure_ticket",
    "ALTER TABLE figure_ticket_26 RENAME TO figure_ticket",
    "CREATE UNIQUE INDEX figure_ticket_pkey ON figure_ticket (ticket)",
)

Key = tuple[str, str, str]  # (field, service, day)


def _field(code: object) -> str:
    letter = str(code or "")[:1].upper()
    return letter if letter in FIELDS else "?"


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0  # None, and JSON's lists and objects (which int() refuses too)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _basis(state: tuple) -> str:
    """What the contribution was made from, as a 128-bit digest (schema 21): it is only ever compared
    for equality, and the full text (about 200 bytes) was a third of every row (33 bytes now). A row
    stored before 21 holds the full text: it differs from any digest, so its ticket's contribution is
    made again when next refreshed (the same cells: figure_day's difference is 0) and stored with one."""
    _, intake, _, ready_at, ready_on, urgent_hours, registration, taken_in_fen = state
    # Schema 25: the intake and the registration as their events' ids (their keys before: a row
    # stored before 25 differs, and is made again, the same cells, when its ticket is next refreshed).
    text = "|".join(str(v) for v in (intake, ts(as_datetime(ready_at)) if ready_at else "", ready_on,
                                   urgent_hours, registration, taken_in_fen))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _loads(text: str | None):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _shares(amounts: list[int], total: int) -> list[int]:
    """`total` split over `amounts` in proportion, whole fen, the remainder to the largest
    fractions (then the first lines): the shares add up to `total` exactly."""
    base = sum(amounts)
    if not base:
        return [0] * len(amounts)
    exact = [total * a / base for a in amounts]
    shares = [int(x // 1) for x in exact]
    rest = total - sum(shares)
    order = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


def _priced_lines(estimate, registration_lines) -> list[dict] | None:
    """[{field, service, revenue, waived, waived_instruments, urgent}] from the estimate's lines,
    else the registration's; None when neither has lines."""
    lines = estimate.get("lines") if isinstance(estimate, dict) else None
    if isinstance(lines, list) and lines:
        found: list[dict] = []
        for ln in lines:
            if not isinstance(ln, dict):
                continue
            free = bool(ln.get("free_reason"))
            found.append({"index": ln.get("index"), "field": _field(ln.get("code")),
                          "service": str(ln.get("service") or "?"),
                          "revenue": _int(ln.get("amount_fen")) + _int(ln.get("urgent_fen")),
                          "base": _int(ln.get("amount_fen")), "waived": _int(ln.get("waived_fen")),
                          "waived_instruments": _int(ln.get("quantity")) if free else 0,
                          "urgent": ln.get("urgent_percent") is not None})
        for discount in estimate.get("discounts") or ():
            if not isinstance(discount, dict):
                continue
            applies = [ln for ln in found if ln["index"] in set(discount.get("lines") or ())]
            for ln, share in zip(applies, _shares([ln["base"] for ln in applies], _int(discount.get("amount_fen")))):
                ln["revenue"] += share
        return found
    if isinstance(registration_lines, list) and registration_lines:
        return [{"field": _field(ln.get("code")), "service": str(ln.get("service") or "?"),
                 "revenue": _int(ln.get("amount_fen")), "waived": 0,
                 "waived_instruments": _int(ln.get("quantity")) if ln.get("free_reason") else 0, "urgent": None}
                for ln in registration_lines if isinstance(ln, dict)]
    return None


def contribution(state: tuple, intake: dict, registration_lines) -> dict[Key, list[int]]:
    """A ticket's cells from its ticket_state columns (uid, intake_event, received_at, ready_at,
    ready_on, urgent_hours, registration_event, taken_in_fen) and its earliest intake's payload
    fields ({"lines", "estimate"}, JSON text)."""
    _, _, received_at, ready_at, ready_on, urgent_hours, _, taken_in_fen = state
    received_at, ready_at = as_datetime(received_at), as_datetime(ready_at)
    cells: dict[Key, list[int]] = {}

    def add(key: Key, **values: int) -> None:
        row = cells.setdefault(key, [0] * len(MEASURES))
        for name, value in values.items():
            row[MEASURES.index(name)] += value

    if received_at is None:
        return cells
    day = local(received_at).date().isoformat()
    taken = _loads(intake.get("lines"))
    taken = [ln for ln in taken if isinstance(ln, dict) and not ln.get("refused")] if isinstance(taken, list) else []
    priced = _priced_lines(_loads(intake.get("estimate")), registration_lines)
    if priced is None and taken_in_fen is not None:
        priced = [{"field": "?", "service": "?", "revenue": _int(taken_in_fen), "waived": 0,
                   "waived_instruments": 0, "urgent": None}]
    seen: set[Key] = set()

    def once(key: Key) -> None:
        if key not in seen:
            seen.add(key)
            add(key, tickets=1)

    once((ALL, ALL, day))
    for ln in taken:
        field, service, count = _field(ln.get("code")), str(ln.get("service") or "?"), _int(ln.get("quantity"))
        for key in ((ALL, ALL, day), (field, ALL, day), (field, service, day)):
            once(key)
            add(key, instruments=count)
    for ln in priced or ():
        for key in ((ALL, ALL, day), (ln["field"], ALL, day), (ln["field"], ln["service"], day)):
            once(key)
            add(key, revenue_fen=ln["revenue"], waived_fen=ln["waived"], waived_instruments=ln["waived_instruments"])
    if ready_at is None:
        return cells
    fields: dict[str, list] = {}
    for ln in priced or ():
        fields.setdefault(ln["field"], []).append(ln["urgent"])
    for ln in taken:  # a field the prices do not name: both promises may apply
        fields.setdefault(_field(ln.get("code")), [None])
    ready_day = local(ready_at).date().isoformat()
    minutes = max(0, int((ready_at - received_at).total_seconds() // 60))
    urgent_by = received_at + timedelta(hours=_int(urgent_hours)) if _int(urgent_hours) else None
    normal_by = start_of(date.fromisoformat(ready_on) + timedelta(days=1)) if ready_on else None
    for field, urgency in (*fields.items(), (ALL, [u for us in fields.values() for u in us] or [None])):
        due = _due(urgency, urgent_by, normal_by)
        add((field, ALL, ready_day), ready=1, turnaround_minutes=minutes, promised=int(due is not None),
            on_time=int(due is not None and ready_at <= due))
    return cells


def _due(urgency: list, urgent_by: datetime | None, normal_by: datetime | None) -> datetime | None:
    """The earliest promise that applies to lines of this urgency (None: not known, both apply)."""
    applies = []
    if any(u is None or u for u in urgency):
        applies.append(urgent_by)
    if any(u is None or not u for u in urgency):
        applies.append(normal_by)
    return min((m for m in applies if m is not None), default=None)


def _encode(cells: dict[Key, list[int]]) -> str:
    """Each cell's measures without their trailing zeros (schema 21): an intake day's cells end in
    the ready measures, all 0 (60 of the 632 bytes a row held at 50,000 tickets)."""
    return json.dumps([[*key, *_trimmed(values)] for key, values in sorted(cells.items())], separators=(",", ":"))


def _trimmed(values: list[int]) -> list[int]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


def _decode(text: str | None) -> dict[Key, list[int]]:
    """Cells as _encode wrote them, with or without trailing zeros (rows stored before schema 21)."""
    return ({(f, s, d): [*values, *[0] * (len(MEASURES) - len(values))] for f, s, d, *values in json.loads(text)}
            if text else {})


def refresh(tx: Tx, storage: Storage, tickets: Sequence[str], pending: dict[Key, list[int]] | None = None,
            ids: dict[str, int] | None = None) -> None:
    """The contributions of `tickets` made again from what ticket_state holds of them now (call
    it after ticket_state changed, in the same transaction), their differences added to
    figure_day at commit (or to `pending`, a build's sums). `ids`: the tickets' ids as they were
    (ticket_state.recompute's), for those whose row is gone (every fact of theirs voided)."""
    tickets = sorted(set(tickets))
    if not tickets:
        return
    deltas: dict[Key, list[int]] = {}
    for start in range(0, len(tickets), CHUNK):
        _refresh(tx, storage, tickets[start:start + CHUNK], deltas, ids or {})
    deltas = {key: values for key, values in deltas.items() if any(values)}
    if not deltas:
        return
    if pending is None:
        pending = day_pending(tx, storage)
    for key, values in deltas.items():
        row = pending.setdefault(key, [0] * len(MEASURES))
        for i, value in enumerate(values):
            row[i] += value


def day_pending(tx: Tx, storage: Storage) -> dict[Key, list[int]]:
    """This transaction's differences to figure_day, written at commit (the hook registered on
    first use; rating.py asks for it before its own, so every writer locks figure_day first)."""
    found = tx.state.get("figure_day")
    if found is None:
        found = tx.state["figure_day"] = {}
        tx.before_commit(lambda: _write(tx, storage, found))
    return found


def _refresh(tx: Tx, storage: Storage, chunk: list[str], deltas: dict[Key, list[int]], ids: dict[str, int]) -> None:
    # One statement for a push (each ticket it touches has its ticket_state row); the contributions
    # of tickets without one (every fact of theirs voided) read apart.
    where, params = storage.in_list("s.uid", chunk)
    states, stored, found = {}, {}, {}
    for ticket_id, *state, basis, cells in tx.all(
            "SELECT s.id, s.uid, s.intake_event, s.received_at, s.ready_at, s.ready_on, s.urgent_hours, "
            "s.registration_event, s.taken_in_fen, f.basis, f.cells "
            "FROM ticket_state s LEFT JOIN figure_ticket f ON f.ticket = s.id "
            f"WHERE {where}", params):
        found[state[0]] = ticket_id
        if state[2] is not None:
            states[state[0]] = tuple(state)
        if basis is not None:
            stored[state[0]] = (basis, cells)
    vanished = {ids[t]: t for t in chunk if t not in found and t in ids}
    if vanished:
        where, params = storage.in_list("ticket", sorted(vanished))
        stored.update((vanished[ticket], (basis, cells)) for ticket, basis, cells in
                      tx.all(f"SELECT ticket, basis, cells FROM figure_ticket WHERE {where}", params))
        found.update((t, i) for i, t in vanished.items())
    changed = [t for t in chunk if (states.get(t) is not None and _basis(states[t]) != (stored.get(t) or ("",))[0])
               or (t in stored and t not in states)]
    if not changed:
        return
    intakes = {states[t][1]: t for t in changed if t in states}
    payloads: dict[str, dict] = {}
    if intakes:
        where, params = storage.in_list("id", sorted(intakes))
        for uid, lines, estimate in tx.all(f"SELECT id, {storage.json_field('payload', 'lines')}, "
                                           f"{storage.json_field('payload', 'estimate')} FROM event WHERE {where}",
                                           params):
            payloads[intakes[uid]] = {"lines": lines, "estimate": estimate}
    registrations = {}
    older = {states[t][6]: t for t in payloads
             if states[t][6] is not None and not _estimate_lines(payloads[t]["estimate"])}
    if older:  # a desk that sent no estimate lines: the registration's lines, as priced on the receipt
        where, params = storage.in_list("id", sorted(older))
        for uid, lines in tx.all(f"SELECT id, {storage.json_field('payload', 'lines')} FROM event WHERE {where}",
                                 params):
            registrations[older[uid]] = _loads(lines)
    gone, fresh = [], []
    for ticket in changed:
        old = _decode(stored[ticket][1]) if ticket in stored else {}
        new = contribution(states[ticket], payloads.get(ticket, {}), registrations.get(ticket)) \
            if ticket in states else {}
        for key in old.keys() | new.keys():
            before, after = old.get(key, [0] * len(MEASURES)), new.get(key, [0] * len(MEASURES))
            row = deltas.setdefault(key, [0] * len(MEASURES))
            for i in range(len(MEASURES)):
                row[i] += after[i] - before[i]
        if ticket in states:
            fresh.append((found[ticket], _basis(states[ticket]), _encode(new)))
        else:
            gone.append(found[ticket])
    if gone:
        where, params = storage.in_list("ticket", sorted(gone))
        tx.execute(f"DELETE FROM figure_ticket WHERE {where}", params)
    if fresh:
        storage.bulk_insert(tx, "figure_ticket", ("ticket", "basis", "cells"), [list(row) for row in sorted(fresh)],
                            "ON CONFLICT (ticket) DO UPDATE SET basis = excluded.basis, cells = excluded.cells",
                            pg_types=("bigint", "text", "text"))


def _estimate_lines(estimate: str | None) -> bool:
    data = _loads(estimate)
    return isinstance(data, dict) and isinstance(data.get("lines"), list) and bool(data["lines"])


def _write(tx: Tx, storage: Storage, pending: dict[Key, list[int]]) -> None:
    """The day sums changed by `pending`, in key order (two pushes never wait on each other
    crosswise), the rows left all 0 removed."""
    rows = [[*key, *values] for key, values in sorted(pending.items()) if any(values)]
    if not rows:
        return
    columns = ("field", "service", "day", *MEASURES)
    sets = ", ".join(f"{m} = figure_day.{m} + excluded.{m}" for m in MEASURES)
    storage.bulk_insert(tx, "figure_day", columns, rows, f"ON CONFLICT (field, service, day) DO UPDATE SET {sets}",
                        pg_types=("text", "text", "text", *("bigint" for _ in MEASURES)))
    if any(v < 0 for values in pending.values() for v in values):  # the all-0 ones, left out of rows, have none
        where, params = storage.in_list("day", sorted({row[2] for row in rows}))
        tx.execute(f"DELETE FROM figure_day WHERE {where} AND {' AND '.join(f'{m} = 0' for m in MEASURES)}", params)


def build(tx: Tx, storage: Storage) -> None:
    """Every contribution and day sum made again from ticket_state (after it was built)."""
    tx.execute("DELETE FROM figure_ticket")
    tx.execute("DELETE FROM figure_day")
    tickets = [t for (t,) in tx.all("SELECT uid FROM ticket_state WHERE received_at IS NOT NULL ORDER BY uid")]
    sums: dict[Key, list[int]] = {}
    for start in range(0, len(tickets), CHUNK):
        refresh(tx, storage, tickets[start:start + CHUNK], sums)
    _write(tx, storage, sums)
    if storage.postgres:
        tx.execute("ANALYZE figure_ticket")
        tx.execute("ANALYZE figure_day")


def snapshot(tx: Tx) -> dict[str, list[tuple]]:
    # The contributions with their tickets' uids (the ids are a build's own).
    return {"figure_ticket": tx.all("SELECT s.uid, f.basis, f.cells FROM figure_ticket f "
                                    "LEFT JOIN ticket_state s ON s.id = f.ticket ORDER BY s.uid"),
            "figure_day": tx.all(f"SELECT field, service, day, {', '.join(MEASURES)} FROM figure_day "
                                 "ORDER BY field, service, day")}


# ---- reading ------------------------------------------------------------------------------------

def daily(tx: Tx, first: date, last: date) -> list[tuple]:
    """(day, *MEASURES) of every ticket, each day of first..last with any."""
    return tx.all(f"SELECT day, {', '.join(MEASURES)} FROM figure_day WHERE field = '*' AND service = '*' "
                  "AND day >= ? AND day <= ? ORDER BY day", (first.isoformat(), last.isoformat()))


def by_field(tx: Tx, first: date, last: date) -> list[tuple]:
    """(field, service, *MEASURES) summed over first..last."""
    return tx.all(f"SELECT field, service, {', '.join(f'SUM({m})' for m in MEASURES)} FROM figure_day "
                  "WHERE day >= ? AND day <= ? AND field <> '*' GROUP BY field, service ORDER BY field, service",
                  (first.isoformat(), last.isoformat()))


def by_period(tx: Tx, storage: Storage, by: str, first: date, last: date) -> list[tuple]:
    """(the period's first day, field, service, *MEASURES summed) over first..last, by ISO week
    (Monday first) or month (the CSV)."""
    if by == "month":
        period = "substr(day, 1, 7) || '-01'"
    elif storage.postgres:
        period = "to_char(date_trunc('week', day::date), 'YYYY-MM-DD')"
    else:
        period = "date(day, 'weekday 0', '-6 days')"  # the Sunday ending its week, less 6 days
    return tx.all(f"SELECT {period} AS period, field, service, {', '.join(f'SUM({m})' for m in MEASURES)} "
                  "FROM figure_day WHERE day >= ? AND day <= ? GROUP BY 1, field, service ORDER BY 1, field, service",
                  (first.isoformat(), last.isoformat()))


def ratings_by_day(tx: Tx, first: date, last: date) -> list[tuple]:
    """(day, rating, count) of the ratings that count (central/readmodels/rating.py), from their
    daily sums (schema 20: rating_sum)."""
    return tx.all("SELECT period, rating, n FROM rating_sum WHERE span = 1 AND period >= ? AND period <= ? "
                  "AND kind = 'all' AND k1 = '' AND k2 = ''", (first.isoformat(), last.isoformat()))
