"""rating: the ratings that count (central/satisfaction.py's rule), one row each: a ticket's
first received rating (compared on ARRIVAL, kept as `arrival`), or of each stage a window
rates (intake, completion: keyed `ticket|stage`), and every anonymous rating (keyed by its
event uid). Beside what the payload says of who served the customer (`said_*`),
what central knows of it (`seen_*`: the ticket's earliest intake and pickup, ticket_state's),
copied whenever either changes, so reading the ratings reads no other table.

Schema 19: `feedback` (the rating's own uid, the payload's) and `set_aside` (1: an appeal a
supervisor upheld leaves it out of the figures and the CSV; it is never deleted: 好差评), kept by
every push of an appeal or a decision, by the back office's decision in its own transaction
(central/appeals.py), by a voiding and by the rebuild (`mark`: central/appeals.py's rule). The
provincial export (central/ratings_export.py `streamed`) reads the rows, set aside or not, by
`rating_given` (given_at, rated): one a rating, in time order.

Schema 20: `rating_sum`, the satisfaction figures' sums (central/satisfaction.py), so that a period
of any length is read in a few hundred rows: how many ratings of each level (`rating`, 1-5) counted
(not set aside) per period and grouping. A period is a local day (`span` 1, YYYY-MM-DD), month (2,
YYYY-MM) or year (3, YYYY): every rating adds to its day, its month and its year, so a period is
read as its whole years, whole months and the days left (`pieces`). Groupings (`kind`, keys `k1`,
`k2`, '' for none or not known): `all`; `counter` (COUNTER); `clerk` (CLERK, CLERK_NAME); `heart`
(each distinct word of `hearts`, as kiosk/domain/satisfaction.py hearts_of reads them). Each rating
row keeps what it added (`t_*`, TALLY: NULL `t_rating`, nothing); every writer of `rating` calls
`settle` after its change, in its transaction, which locks the rows, adds the difference between
what each adds now and what it added and stores the former (`recompute` takes a deleted row's
back first). The sums are written at commit, in key order, after figure_day's (one lock order for
every writer); rows that fall to 0 are removed, so a build gives the same rows as the pushes.

Schema 23: what the back office's window ratings (central/ratings_export.py window_report) group
by, so a period is one index range (`rating_window`) summed in SQL instead of every rating event
of it read: `stage` (a window pad's rating only: the stage it rates; NULL for the lobby's), the
pad's `counter`, the pushing device's uid (`pusher`: its name is read with the report, as a
renamed desk shows), `staff` (the payload's 工号, else its serving clerk:
kiosk/domain/ratings_export.py from_payload) and `unstepped` (1: the payload named no steps, so
the report takes the clerk from ticket_state as it stands, WINDOW_STAFF), and `last_upheld` (1: its
latest appeal was upheld, kept by `mark` beside `set_aside`: the report leaves out and counts as
set aside what central/appeals.py states calls upheld, as it did reading the events).

Schema 24: the window report's groups summed too (`window`), in rating_sum beside the figures'
sums and by the same TALLY mechanism, so a period of any length is read in a few hundred rows
again. A window pad's rating (`stage` set) adds, counted or set aside (rating 0: set aside), to its
`w_stage` (k1 the stage) of its day, month, year and, if counted, of its week (`span` 4, the
Monday's date: the week view); if counted, to `w_counter` (k1 the pusher's uid, k2 the pad's
counter: the desk's name is joined when read, as a renamed desk shows) and `w_clerk` (k1 the
clerk, WINDOW_STAFF) of its day, month and year. WINDOW_STAFF reads the row alone: the pickup's
time is copied by `seen` too (`seen_picked_up_at`, for a rating that named no step: the only ones
it is read for), so a change of ticket_state re-settles it.
Set aside is `set_aside` for the window report as for the figures: ANY appeal of it upheld (the
desks' rule, kiosk/store/satisfaction.py); `last_upheld` (its latest appeal upheld) is unused
since 24 (the column stays, always 0).

`day` is the rating's local date on the institute's clock when it was stored: a change of the
institute's zone needs `kiosk central rebuild-read-models`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from kiosk.domain.clock import local, start_of
from kiosk.domain.ratings_export import from_payload

from ..storage import Storage, Tx, as_datetime
from . import appeal, figures
from .appealed import upheld
from .rows import Table
from .stored import Stored, arrival

CHUNK = 1000  # tickets a statement
STAGES = ("intake", "completion")  # kiosk/domain/events.py Stage
STEPS = ("received", "picked_up")  # who served: the pickup, else the intake (COUNTER, CLERK)
SAID = tuple(f"said_{step}_{what}" for step in STEPS for what in ("device", "clerk"))
SEEN = tuple(f"seen_{step}_{what}" for step in STEPS for what in ("device", "clerk", "name"))
TABLE = Table("rating", (
    ("rated", "text"), ("ticket", "text"), ("arrival", "text"), ("given_at", "timestamptz"), ("day", "text"),
    ("rating", "smallint"), ("hearts", "text"), ("number", "text"), ("reason", "text"),
    *((column, "text") for column in SAID + SEEN),
    ("stage", "text"), ("counter", "text"), ("pusher", "text"), ("staff", "text"), ("unstepped", "smallint"),  # 23
    ("last_upheld", "smallint"),  # 23; always 0 since 24 (unused; written only as PostgreSQL's NOT NULL needs)
    ("seen_picked_up_at", "timestamptz"),  # 24
    ("feedback", "text"), ("set_aside", "smallint"),  # schema 19 (last: a snapshot's row ends with set_aside)
))

STATEMENTS = (
    f"""CREATE TABLE rating (
        rated TEXT PRIMARY KEY, ticket TEXT, arrival TEXT NOT NULL, given_at {{ts}} NOT NULL, day TEXT NOT NULL,
        rating SMALLINT NOT NULL, hearts TEXT NOT NULL, number TEXT, reason TEXT,
        {', '.join(f'{column} TEXT' for column in SAID + SEEN)})""",
    "CREATE INDEX rating_day ON rating (day, arrival)",
    "CREATE INDEX rating_arrival ON rating (arrival)",
    "CREATE INDEX rating_ticket ON rating (ticket) WHERE ticket IS NOT NULL",
)
EXPORT_STATEMENTS = ("CREATE INDEX rating_given ON rating (given_at, rated)",)  # schema 16: the CSV in time order
SET_ASIDE_STATEMENTS = (  # schema 19
    "ALTER TABLE rating ADD COLUMN feedback TEXT",
    "ALTER TABLE rating ADD COLUMN set_aside SMALLINT NOT NULL DEFAULT 0",
    "CREATE INDEX rating_feedback ON rating (feedback) WHERE feedback IS NOT NULL",
)
WINDOW_STATEMENTS = (  # schema 23
    *(f"ALTER TABLE rating ADD COLUMN {column} TEXT" for column in ("stage", "counter", "pusher", "staff")),
    *(f"ALTER TABLE rating ADD COLUMN {column} SMALLINT NOT NULL DEFAULT 0" for column in ("unstepped", "last_upheld")),
    # Partial: SQLite uses it only for a query repeating the condition, as `window` does.
    "CREATE INDEX rating_window ON rating (day) WHERE stage IS NOT NULL",
)
COUNTED = "set_aside = 0"  # what the figures and the CSV read
TALLY = ("t_day", "t_rating", "t_counter", "t_clerk", "t_name", "t_hearts",  # schema 20: what a row added
         "t_stage", "t_pad", "t_pusher", "t_staff", "t_window")  # schema 24: and to the window groups
SPANS = ((1, 10), (2, 7), (3, 4))  # rating_sum's periods: (span, length of its text): day, month, year
WEEK = 4  # rating_sum's span of a week (schema 24, the window groups only): period the Monday's date
WINDOW_KINDS = ("w_stage", "w_counter", "w_clerk")  # schema 24
SATISFACTION_KINDS = ("all", "counter", "clerk", "heart")
SUM_KEY = ("span", "period", "kind", "k1", "k2", "rating")
SUM_STATEMENTS = (  # schema 20
    *(f"ALTER TABLE rating ADD COLUMN {column} {'SMALLINT' if column == 't_rating' else 'TEXT'}"
      for column in TALLY[:6]),
    """CREATE TABLE rating_sum (span SMALLINT NOT NULL, period TEXT NOT NULL, kind TEXT NOT NULL,
        k1 TEXT NOT NULL, k2 TEXT NOT NULL, rating SMALLINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (span, period, kind, k1, k2, rating))""",
)
WINDOW_SUM_STATEMENTS = (  # schema 24
    "ALTER TABLE rating ADD COLUMN seen_picked_up_at {ts}",
    *(f"ALTER TABLE rating ADD COLUMN {column} {'SMALLINT' if column == 't_window' else 'TEXT'}"
      for column in TALLY[6:]),
)


def candidate(event: Stored) -> dict | None:
    """The row a `feedback.given` would make, or None if it cannot count (no time, no 1-5)."""
    p = event.payload
    try:
        at = as_datetime(p["at"])
        stars = int(p["rating"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 1 <= stars <= 5:
        return None
    ticket = p.get("ticket") or None
    steps = given if isinstance(given := p.get("steps"), dict) else {}
    said: dict[str, dict] = {step: told if isinstance(told := steps.get(step), dict) else {} for step in STEPS}
    exported = from_payload(p)
    booth = exported if exported is not None and exported.channel == "window" else None  # rated at a window
    window = booth is not None
    return {"rated": rated_key(ticket, p.get("stage")) if ticket else event.uid, "ticket": ticket,
            "arrival": arrival(event), "given_at": at,
            "day": local(at).date().isoformat(), "rating": stars,
            # Hearts are single words (kiosk/domain/events.py Heart): kept space-separated, read without a parser.
            "hearts": " ".join(h for h in p.get("hearts") or () if isinstance(h, str)),
            "number": p.get("number") if ticket else None, "reason": p.get("reason"),
            **{f"said_{step}_{what}": said[step].get(what) for step in STEPS for what in ("device", "clerk")},
            **dict.fromkeys(SEEN),
            "feedback": p.get("feedback") if isinstance(p.get("feedback"), str) else None, "set_aside": 0,
            "stage": booth.stage if booth else None, "counter": booth.counter if booth else None,
            "pusher": event.device if window else None, "staff": (booth.staff_number or None) if booth else None,
            "unstepped": int(window and bool(ticket) and not p.get("steps")), "last_upheld": 0,
            "seen_picked_up_at": None}


def rated_key(ticket: str, stage) -> str:
    """What one counted rating is of: a ticket (the lobby's rating), or a ticket's stage (a
    rating at the window, of its intake or its completion: each counts, 一次一评)."""
    return f"{ticket}|{stage}" if stage in STAGES else ticket


def ticket_of(rated: str) -> str:
    return rated.split("|", 1)[0]


def first(events: list[Stored]) -> dict[str, dict]:
    best: dict[str, dict] = {}
    for event in events:
        row = candidate(event)
        if row is not None and (row["rated"] not in best or row["arrival"] < best[row["rated"]]["arrival"]):
            best[row["rated"]] = row
    return best


def fold(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """A push's new ratings: each replaces its ticket's stored one only if it arrived first (a
    push that began earlier may commit later)."""
    rows = first(events)
    TABLE.write(tx, storage, list(rows.values()), replace=True, only_if="excluded.arrival < rating.arrival")
    seen(tx, storage, sorted({row["ticket"] for row in rows.values() if row["ticket"]}))
    mark(tx, storage, sorted({row["feedback"] for row in rows.values() if row["feedback"]}))
    settle(tx, storage, "rated", sorted(key for key, row in rows.items() if not row["ticket"]))  # seen settled the rest


def recompute(tx: Tx, storage: Storage, rated: list[str], events: list[Stored]) -> None:
    """The rows of `rated` made again from `events` (every feedback.given of theirs in force)."""
    _untally(tx, storage, rated)
    TABLE.delete(tx, storage, rated)
    rows = [row for key, row in first(events).items() if key in set(rated)]
    TABLE.write(tx, storage, rows, replace=False)
    seen(tx, storage, sorted({row["ticket"] for row in rows if row["ticket"]}))
    mark(tx, storage, sorted({row["feedback"] for row in rows if row["feedback"]}))
    settle(tx, storage, "rated", sorted(row["rated"] for row in rows if not row["ticket"]))  # seen settled the rest


def build(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """Every rating made again from `events` (every feedback.given in force): the rebuild, and
    schema 19's upgrade (which fills `feedback` and `set_aside`)."""
    tx.execute("DELETE FROM rating")
    TABLE.write(tx, storage, list(first(events).values()), replace=False)
    seen(tx, storage, None, tallied=False)
    mark(tx, storage, None, tallied=False)
    build_sums(tx, storage)


def mark(tx: Tx, storage: Storage, feedbacks: Sequence[str] | None, *, tallied: bool = True) -> None:
    """`set_aside` of the ratings of `feedbacks` (rating uids; None: every rating) as the appeals
    in force decide it now: 1 where an appeal of it was upheld (its first decision to arrive);
    `tallied`: and their sums settled."""
    if feedbacks is not None and not feedbacks:
        return
    if feedbacks is None:
        aside = sorted(upheld(tx, storage))
    else:  # a push's few ratings: their appeals' rows (schema 28), not every appeal event by kind
        aside = sorted({f for f, decision in appeal.of_ratings(tx, storage, feedbacks) if decision == "upheld"})
    clear = "UPDATE rating SET set_aside = 0 WHERE set_aside <> 0"
    if feedbacks is None:
        tx.execute(clear)
    else:
        for start in range(0, len(feedbacks), CHUNK):
            where, params = storage.in_list("feedback", sorted(feedbacks)[start:start + CHUNK])
            tx.execute(f"{clear} AND {where}", params)
    for start in range(0, len(aside), CHUNK):
        where, params = storage.in_list("feedback", aside[start:start + CHUNK])
        tx.execute(f"UPDATE rating SET set_aside = 1 WHERE {where}", params)
    if tallied:
        settle(tx, storage, None if feedbacks is None else "feedback", feedbacks)


# What `seen_picked_up_at` copies of ticket_state (schema 24): the pickup's time, for a pad's rating
# that named no step only (WINDOW_STAFF reads it for no other), so fewer rows are written.
PICKED_UP_AT = "CASE WHEN rating.unstepped = 1 THEN s.picked_up_at END"


def seen_picked_up(tx: Tx) -> None:
    """`seen_picked_up_at` of every rating as `seen` copies it (schema 24's upgrade: the rows it
    concerns only)."""
    tx.execute(f"UPDATE rating SET seen_picked_up_at = (SELECT {PICKED_UP_AT} FROM ticket_state s "
               "WHERE s.uid = rating.ticket) WHERE ticket IS NOT NULL AND unstepped = 1")


def rewindow(tx: Tx, storage: Storage, rated: Sequence[str]) -> None:
    """Schema 24's upgrade for the ratings `rated` (a chunk of the backfill's `window` phase,
    central/backfill.py): `seen_picked_up_at` copied as `seen_picked_up` copies it, `last_upheld`
    0, and their sums settled (each row's difference to what it added: its window groups' cells
    added, what a changed `set_aside` moved). Over every rating, the sums are then the ones
    `build_sums` makes (the rows added only the figures' cells before 24, which rating_sum holds)."""
    if not rated:
        return
    for start in range(0, len(rated), CHUNK):
        where, params = storage.in_list("rated", rated[start:start + CHUNK])
        tx.execute(f"UPDATE rating SET seen_picked_up_at = (SELECT {PICKED_UP_AT} FROM ticket_state s "
                   f"WHERE s.uid = rating.ticket) WHERE ticket IS NOT NULL AND unstepped = 1 AND {where}", params)
        tx.execute(f"UPDATE rating SET last_upheld = 0 WHERE last_upheld <> 0 AND {where}", params)
    settle(tx, storage, "rated", rated)


def seen(tx: Tx, storage: Storage, tickets: Sequence[str] | None, *, tallied: bool = True) -> None:
    """The ratings of `tickets` (None: every rating) given what ticket_state holds of their
    earliest intake and pickup now (nothing, if it holds no row); `tallied`: and their sums settled."""
    # The desks as their uids (ticket_state holds their ids since schema 26).
    copy = (f"UPDATE rating SET ({', '.join(SEEN)}, seen_picked_up_at) = (SELECT "
            "(SELECT d.uid FROM device d WHERE d.id = s.received_device_id), received_clerk, received_name, "
            "(SELECT d.uid FROM device d WHERE d.id = s.picked_up_device_id), picked_up_clerk, picked_up_name, "
            f"{PICKED_UP_AT} FROM ticket_state s WHERE s.uid = rating.ticket) WHERE ticket IS NOT NULL")
    if tickets is None:
        tx.execute(copy)
        if tallied:
            settle(tx, storage, None, None)
        return
    for start in range(0, len(tickets), CHUNK):
        where, params = storage.in_list("ticket", tickets[start:start + CHUNK])
        tx.execute(f"{copy} AND {where}", params)
    if tallied:
        settle(tx, storage, "ticket", tickets)


def _nonempty(column: str) -> str:
    return f"NULLIF({column}, '')"


# Who served, in SQL: the pickup's (as the rating's payload said it, else as central saw it),
# else the intake's; the clerk's name only where central saw that clerk at that step.
COUNTER = "COALESCE({})".format(", ".join(_nonempty(f"{how}_{step}_device") for step in ("picked_up", "received")
                                          for how in ("said", "seen")))
_PICKUP_CLERK = f"COALESCE({_nonempty('said_picked_up_clerk')}, {_nonempty('seen_picked_up_clerk')})"
_INTAKE_CLERK = f"COALESCE({_nonempty('said_received_clerk')}, {_nonempty('seen_received_clerk')})"
CLERK = f"COALESCE({_PICKUP_CLERK}, {_INTAKE_CLERK})"
CLERK_NAME = (f"CASE WHEN {_PICKUP_CLERK} IS NOT NULL THEN "
              f"CASE WHEN seen_picked_up_clerk = {_PICKUP_CLERK} THEN seen_picked_up_name END "
              f"ELSE CASE WHEN seen_received_clerk = {_INTAKE_CLERK} THEN seen_received_name END END")
GROUPINGS = {"day": ("day",), "hearts": ("hearts",), "counter": (COUNTER,), "clerk": (CLERK, CLERK_NAME)}
# The clerk a window rating is counted under (schema 24: from the row alone): its payload's
# (`staff`), else, if the payload named no steps, central's (the ratings export's rule,
# central/ratings_export.py _steps_then): the pickup's clerk if the ticket was picked up by the
# rating's time, else the intake's (ticket_state's, as `seen` copies them).
WINDOW_STAFF = ("COALESCE(NULLIF(staff, ''), CASE WHEN unstepped = 1 THEN CASE WHEN "
                "NULLIF(seen_picked_up_clerk, '') IS NOT NULL AND seen_picked_up_at <= given_at "
                "THEN seen_picked_up_clerk ELSE NULLIF(seen_received_clerk, '') END END)")
# What a row adds to the sums now, in TALLY's order (a NULL rating: nothing to the figures, it is
# set aside; a NULL window rating: nothing to the window groups, not a pad's; 0: set aside).
CURRENT = (f"day, CASE WHEN {COUNTED} THEN rating END, COALESCE({COUNTER}, ''), COALESCE({CLERK}, ''), "
           f"COALESCE({CLERK_NAME}, ''), hearts, stage, COALESCE(counter, ''), COALESCE(pusher, ''), "
           f"COALESCE({WINDOW_STAFF}, ''), CASE WHEN stage IS NULL THEN NULL WHEN {COUNTED} THEN rating ELSE 0 END")


# ---- the sums (schema 20) -----------------------------------------------------------------------

# TALLY: day, rating, counter, clerk, clerk's name, hearts; stage, pad's counter, pusher, 工号, window rating
Tally = tuple
Cell = tuple[int, str, str, str, str, int]  # SUM_KEY


def _tally(values: Sequence) -> Tally | None:
    """What a row adds (None: nothing, neither counted nor a pad's)."""
    values = tuple(values)
    return None if values[1] is None and values[10] is None else values


def cells(tally: Tally) -> Iterator[Cell]:
    """The rating_sum rows one rating adds 1 to: a counted rating's to the figures, a pad's to the
    window groups (schema 24)."""
    day, stars, counter, clerk, name, hearts, stage, pad, pusher, staff, window = tally
    for span, length in SPANS:
        period = day[:length]
        if stars is not None:
            yield span, period, "all", "", "", stars
            yield span, period, "counter", counter, "", stars
            yield span, period, "clerk", clerk, name, stars
            for heart in sorted(set(hearts.split())):
                yield span, period, "heart", heart, "", stars
        if window is not None:
            yield span, period, "w_stage", stage, "", window
            if window:
                yield span, period, "w_counter", pusher, pad, window
                yield span, period, "w_clerk", staff, "", window
    if window:
        yield WEEK, monday(day), "w_stage", stage, "", window


def monday(day: str) -> str:
    """The week's period of a local day (rating_sum's span 4): its Monday's date."""
    given = date.fromisoformat(day)
    return (given - timedelta(days=given.weekday())).isoformat()


def _add(pending: dict[Cell, int], tally: Tally | None, n: int) -> None:
    if tally is not None:
        for cell in cells(tally):
            pending[cell] = pending.get(cell, 0) + n


def _pending(tx: Tx, storage: Storage) -> dict[Cell, int]:
    """This transaction's differences to rating_sum, written at commit after figure_day's."""
    pending = tx.state.get("rating_sum")
    if pending is None:
        figures.day_pending(tx, storage)  # figure_day's hook first: every writer locks the two in one order
        pending = tx.state["rating_sum"] = {}
        tx.before_commit(lambda: _write_sums(tx, storage, pending))
    return pending


def settle(tx: Tx, storage: Storage, column: str | None, values: Sequence[str] | None) -> None:
    """The sums of the ratings whose `column` is one of `values` (None: every rating) made what
    the rows say now: each row's difference to what it added (TALLY) added, and stored."""
    if column is not None and not values:
        return
    keys = None if column is None or values is None else sorted(set(values))
    chunks: list = [None] if keys is None else [keys[start:start + CHUNK] for start in range(0, len(keys), CHUNK)]
    for chunk in chunks:
        where, params = ("", []) if chunk is None or column is None else storage.in_list(column, chunk)
        tail = " ORDER BY rated FOR UPDATE" if storage.postgres and chunk is not None else ""
        rows = tx.all(f"SELECT rated, {', '.join(TALLY)}, {CURRENT} FROM rating"
                      f"{' WHERE ' + where if where else ''}{tail}", params)
        changed, pending = [], None
        for rated, *values_of in rows:
            old, new = _tally(values_of[:len(TALLY)]), _tally(values_of[len(TALLY):])
            if old != new:
                pending = pending if pending is not None else _pending(tx, storage)
                _add(pending, old, -1)
                _add(pending, new, 1)
                changed.append(rated)
        if chunk is None and changed:
            tx.execute(f"UPDATE rating SET ({', '.join(TALLY)}) = ({CURRENT})")
            continue
        for start in range(0, len(changed), CHUNK):
            where, params = storage.in_list("rated", changed[start:start + CHUNK])
            tx.execute(f"UPDATE rating SET ({', '.join(TALLY)}) = ({CURRENT}) WHERE {where}", params)


def _untally(tx: Tx, storage: Storage, rated: Sequence[str]) -> None:
    """What the rows of `rated` added taken back from the sums (before they are deleted)."""
    rated = sorted(set(rated))
    for start in range(0, len(rated), CHUNK):
        where, params = storage.in_list("rated", rated[start:start + CHUNK])
        tail = " ORDER BY rated FOR UPDATE" if storage.postgres else ""
        for values in tx.all(f"SELECT {', '.join(TALLY)} FROM rating WHERE {where}{tail}", params):
            if _tally(values) is not None:
                _add(_pending(tx, storage), _tally(values), -1)


def _write_sums(tx: Tx, storage: Storage, pending: dict[Cell, int]) -> None:
    """The sums changed by `pending`, in key order (two pushes never wait on each other
    crosswise), the rows left at 0 removed."""
    changed = [(cell, n) for cell, n in sorted(pending.items()) if n]
    if not changed:
        return
    storage.bulk_insert(tx, "rating_sum", (*SUM_KEY, "n"), [[*cell, n] for cell, n in changed],
                        f"ON CONFLICT ({', '.join(SUM_KEY)}) DO UPDATE SET n = rating_sum.n + excluded.n",
                        pg_types=("smallint", "text", "text", "text", "text", "smallint", "bigint"))
    fallen = [cell for cell, n in changed if n < 0]
    for start in range(0, len(fallen), CHUNK):
        tx.execute(*emptied(storage, fallen[start:start + CHUNK]))


def emptied(storage: Storage, cells: Sequence[Cell]) -> tuple[str, list]:
    """The statement removing those of `cells` left at 0 (only a cell taken from can be), and its
    parameters: the cells by their key, the primary key's index; not every row of their periods
    (`period` is no index's first column: a scan of every year's sums, 3,397 pages at 100 k
    tickets, on each push setting a rating aside)."""
    key = ", ".join(SUM_KEY)
    if storage.postgres:
        sql = (f"DELETE FROM rating_sum WHERE n = 0 AND ({key}) IN (SELECT * FROM unnest(?::smallint[], "
               "?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[]))")
        return sql, [list(column) for column in zip(*cells, strict=True)]
    # SQLite scans the table for a row value IN (VALUES ...); it joins a VALUES list by the key.
    values = ", ".join("(?, ?, ?, ?, ?, ?)" for _ in cells)
    sql = (f"WITH c ({key}) AS (VALUES {values}) DELETE FROM rating_sum WHERE n = 0 AND rowid IN "
           f"(SELECT s.rowid FROM c JOIN rating_sum s USING ({key}))")
    return sql, [v for cell in cells for v in cell]


def build_sums(tx: Tx, storage: Storage) -> None:
    """Every sum made again from the rating rows: a build, and schema 20's and 24's upgrades."""
    tx.execute("DELETE FROM rating_sum")
    sums: dict[Cell, int] = {}
    for values in tx.all(f"SELECT {CURRENT} FROM rating"):
        _add(sums, _tally(values), 1)
    _write_sums(tx, storage, sums)
    # Only the rows whose tally changes are written (each write of a row is one in each of its indexes).
    changed = f" WHERE ({', '.join(TALLY)}) IS DISTINCT FROM ({CURRENT})" if storage.postgres else ""
    tx.execute(f"UPDATE rating SET ({', '.join(TALLY)}) = ({CURRENT}){changed}")
    if storage.postgres:
        tx.execute("ANALYZE rating_sum")


def sums_snapshot(tx: Tx) -> list[tuple]:
    return tx.all(f"SELECT {', '.join(SUM_KEY)}, n FROM rating_sum ORDER BY {', '.join(SUM_KEY)}")


def pieces(start: date | None, end: date | None) -> list[tuple[int, str, str]]:
    """The local days start..end (None: open) as (span, first, last) ranges of rating_sum's
    periods: its whole years, then the whole months and days left at either end."""
    first, last = start or date.min, end or date.max
    if first > last:
        return []
    found: list[tuple[int, str, str]] = []

    def months(a: date, b: date) -> None:
        m0 = a if a.day == 1 else _next_month(a)
        m1 = b if _next_day(b).day == 1 else b.replace(day=1) - timedelta(days=1)  # the last whole month's end
        if m0 > m1:
            found.append((1, a.isoformat(), b.isoformat()))
            return
        if a < m0:
            found.append((1, a.isoformat(), (m0 - timedelta(days=1)).isoformat()))
        found.append((2, m0.isoformat()[:7], m1.isoformat()[:7]))
        if m1 < b:
            found.append((1, (m1 + timedelta(days=1)).isoformat(), b.isoformat()))

    y0 = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    y1 = last.year if (last.month, last.day) == (12, 31) else last.year - 1
    if y0 > y1:
        months(first, last)
        return found
    if first < date(y0, 1, 1):
        months(first, date(y0, 1, 1) - timedelta(days=1))
    found.append((3, f"{y0:04d}", f"{y1:04d}"))
    if date(y1, 12, 31) < last:
        months(date(y1 + 1, 1, 1), last)
    return found


def _next_day(day: date) -> date:
    return day + timedelta(days=1) if day < date.max else date(1, 1, 1)  # date.max ends a month


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def summed(tx: Tx, storage: Storage, start: date | None, end: date | None,
           kinds: Sequence[str] = SATISFACTION_KINDS) -> dict[str, list[tuple]]:
    """kind -> (k1, k2, rating, how many) of the ratings counted on the local days start..end,
    added up from rating_sum (a few rows a year, month or day), in key order; `kinds`: the
    figures' (the default) or the window groups' (WINDOW_KINDS)."""
    return _summed(tx, pieces(start, end), kinds)


def _summed(tx: Tx, ranges: list[tuple[int, str, str]], kinds: Sequence[str]) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {kind: [] for kind in kinds}
    if not ranges:
        return found
    where = " OR ".join("(span = ? AND period >= ? AND period <= ?)" for _ in ranges)
    listed = ", ".join("?" for _ in kinds)
    for kind, k1, k2, stars, n in tx.all(
            f"SELECT kind, k1, k2, rating, SUM(n) FROM rating_sum WHERE ({where}) AND kind IN ({listed}) "
            "GROUP BY kind, k1, k2, rating ORDER BY kind, k1, k2, rating", [*(v for r in ranges for v in r), *kinds]):
        found[kind].append((k1, k2, stars, int(n)))
    return found


def weeks(start: date | None, end: date | None) -> list[tuple[int, str, str]]:
    """The local days start..end (None: open) as (span, first, last) ranges of rating_sum's
    window periods: its whole weeks (span 4, by their Mondays), and the days left at either end."""
    first, last = start or date.min, end or date.max
    if first > last:
        return []
    if last - first < timedelta(days=6):
        return [(1, first.isoformat(), last.isoformat())]
    m0 = first + timedelta(days=(7 - first.weekday()) % 7)  # the first whole week's Monday
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)  # the last whole week's Sunday
    if sunday - m0 < timedelta(days=6):
        return [(1, first.isoformat(), last.isoformat())]
    found = [(1, first.isoformat(), (m0 - timedelta(days=1)).isoformat())] if first < m0 else []
    found.append((WEEK, m0.isoformat(), (sunday - timedelta(days=6)).isoformat()))
    if sunday < last:
        found.append((1, (sunday + timedelta(days=1)).isoformat(), last.isoformat()))
    return found


def daily(tx: Tx, first: date, last: date) -> list[tuple[str, int, int]]:
    """(day, rating, how many) of the ratings counted on each local day first..last."""
    return [(day, stars, int(n)) for day, stars, n in tx.all(
        "SELECT period, rating, n FROM rating_sum WHERE span = 1 AND period >= ? AND period <= ? AND kind = 'all' "
        "AND k1 = '' AND k2 = '' ORDER BY period, rating", (first.isoformat(), last.isoformat()))]


def counts(tx: Tx, by: str, start: date | None, end: date | None) -> list[tuple]:
    """(*the grouping's keys, rating, how many) of the ratings of the local days start..end,
    grouped by `by` (GROUPINGS), added up over every rating: how the satisfaction figures were
    made before schema 20's sums (bench/office_scale.py --satisfaction times the two)."""
    keys = GROUPINGS[by]
    where, params = _days(start, end, counted=True)
    listed = ", ".join(keys)
    return tx.all(f"SELECT {listed}, rating, COUNT(*) FROM rating {where} GROUP BY {listed}, rating", params)


def _days(start: date | None, end: date | None, *, counted: bool = False, day: str = "day") -> tuple[str, list]:
    """The WHERE of the local days start..end (the column `day`); `counted`: and not set aside (COUNTED)."""
    where, params = [COUNTED] if counted else [], []
    if start:
        where.append(f"{day} >= ?")
        params.append(start.isoformat())
    if end:
        where.append(f"{day} <= ?")
        params.append(end.isoformat())
    return ("WHERE " + " AND ".join(where) if where else ""), params


def window(tx: Tx, start: date | None, end: date | None) -> dict[str, list[tuple]]:
    """The window pads' ratings of the local days start..end, from their sums (schema 24): part ->
    (key, second key, rating, set aside, how many): "counter" (the pad's counter, the pushing
    desk's name as it is now), "clerk" (WINDOW_STAFF, None) and "stage" (the stage, None), counted
    or (rating 0) set aside; "week" (None, the week's Monday): counted only. A few rows a year,
    month, week or day whatever the period, in one statement (one snapshot: the parts' totals
    agree under pushes)."""
    ranges, by_weeks = pieces(start, end), weeks(start, end)
    found: dict[str, list[tuple]] = {"counter": [], "clerk": [], "stage": [], "week": []}
    if not ranges:
        return found

    def within(spans: list[tuple[int, str, str]]) -> str:
        return " OR ".join("(span = ? AND period >= ? AND period <= ?)" for _ in spans)

    kinds = ", ".join(f"'{kind}'" for kind in WINDOW_KINDS)
    rows = tx.all(f"SELECT 0, kind, k1, k2, rating, SUM(n) FROM rating_sum WHERE ({within(ranges)}) "
                  f"AND kind IN ({kinds}) GROUP BY kind, k1, k2, rating UNION ALL "
                  f"SELECT span, 'week', period, '', rating, n FROM rating_sum WHERE ({within(by_weeks)}) "
                  "AND kind = 'w_stage' AND rating > 0",
                  [v for r in (*ranges, *by_weeks) for v in r])
    names = dict(tx.all("SELECT uid, name FROM device"))
    by_week: dict[tuple[str, int], int] = {}
    for span, kind, k1, k2, stars, n in sorted(rows, key=lambda row: row[:5]):
        if kind == "week":
            key = (k1 if span == WEEK else monday(k1), stars)
            by_week[key] = by_week.get(key, 0) + int(n)
        elif kind == "w_counter":
            found["counter"].append((k2 or None, names.get(k1), stars, 0, int(n)))
        elif kind == "w_clerk":
            found["clerk"].append((k1 or None, None, stars, 0, int(n)))
        else:
            found["stage"].append((k1, None, stars, int(not stars), int(n)))
    found["week"] = [(None, date.fromisoformat(day), stars, 0, n) for (day, stars), n in sorted(by_week.items())]
    return found


def read(tx: Tx, start: date | None, end: date | None, *, after: tuple | None = None,
         limit: int | None = None) -> list[tuple]:
    """(given_at, rated, rating, hearts, number, reason, and who served: the counter's device
    uid, the clerk's username and name), for the local days start..end. All in arrival order;
    or, with `limit`, the next `limit` by (given_at, rated) after `after` (an export's chunk,
    an index range: rating_given). A rating set aside is left out."""
    where, params = _days(start, end, counted=True)
    if limit is None:
        order = "ORDER BY arrival"
    else:
        if start:  # the first day's start as a moment too, so the index range starts there
            first = tx.storage.timestamp(start_of(start))
            where, params = f"{where or 'WHERE TRUE'} AND given_at >= ?", [*params, first]
        if after is not None:
            where, params = f"{where or 'WHERE TRUE'} AND (given_at, rated) > (?, ?)", [*params, *after]
        order = f"ORDER BY given_at, rated LIMIT {int(limit)}"
    rows = tx.all(f"SELECT given_at, rated, rating, hearts, number, reason, {COUNTER}, {CLERK}, {CLERK_NAME} "
                  f"FROM rating {where} {order}", params)
    return [(as_datetime(at), rated, stars, tuple(hearts.split()), *rest) for at, rated, stars, hearts, *rest in rows]
