"""rating: the ratings that count (central/satisfaction.py's rule), one row each: a ticket's
first received rating (compared on ARRIVAL, kept as `arrival`), or of each stage a window
rates (intake, completion: keyed `ticket|stage`), and every anonymous rating (keyed by its
event uid). Beside what the payload says of who served the customer (`said_*`),
what central knows of it (`seen_*`: the ticket's earliest intake and pickup, ticket_state's),
copied whenever either changes, so reading the ratings reads no other table.

Schema 19: `feedback` (the rating's own uid, the payload's) and `set_aside` (1: an appeal a
supervisor upheld leaves it out of the figures and the CSV; it is never deleted: 好差评), kept by
every push of an appeal or a decision, by the back office's decision in its own transaction
(central/appeals.py), by a voiding and by the rebuild (`mark`: central/appeals.py's rule).

`day` is the rating's local date on the institute's clock when it was stored: a change of the
institute's zone needs `kiosk central rebuild-read-models`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kiosk.domain.clock import local, start_of

from ..storage import Storage, Tx, as_datetime
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
    ("feedback", "text"), ("set_aside", "smallint"),  # schema 19
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
COUNTED = "set_aside = 0"  # what the figures and the CSV read


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
    steps = p.get("steps") if isinstance(p.get("steps"), dict) else {}
    said = {step: steps.get(step) if isinstance(steps.get(step), dict) else {} for step in STEPS}
    return {"rated": rated_key(ticket, p.get("stage")) if ticket else event.uid, "ticket": ticket,
            "arrival": arrival(event), "given_at": at,
            "day": local(at).date().isoformat(), "rating": stars,
            # Hearts are single words (kiosk/domain/events.py Heart): kept space-separated, read without a parser.
            "hearts": " ".join(h for h in p.get("hearts") or () if isinstance(h, str)),
            "number": p.get("number") if ticket else None, "reason": p.get("reason"),
            **{f"said_{step}_{what}": said[step].get(what) for step in STEPS for what in ("device", "clerk")},
            **dict.fromkeys(SEEN),
            "feedback": p.get("feedback") if isinstance(p.get("feedback"), str) else None, "set_aside": 0}


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


def recompute(tx: Tx, storage: Storage, rated: list[str], events: list[Stored]) -> None:
    """The rows of `rated` made again from `events` (every feedback.given of theirs in force)."""
    TABLE.delete(tx, storage, rated)
    rows = [row for key, row in first(events).items() if key in set(rated)]
    TABLE.write(tx, storage, rows, replace=False)
    seen(tx, storage, sorted({row["ticket"] for row in rows if row["ticket"]}))
    mark(tx, storage, sorted({row["feedback"] for row in rows if row["feedback"]}))


def build(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """Every rating made again from `events` (every feedback.given in force): the rebuild, and
    schema 19's upgrade (which fills `feedback` and `set_aside`)."""
    tx.execute("DELETE FROM rating")
    TABLE.write(tx, storage, list(first(events).values()), replace=False)
    seen(tx, storage, None)
    mark(tx, storage, None)


def mark(tx: Tx, storage: Storage, feedbacks: Sequence[str] | None) -> None:
    """`set_aside` of the ratings of `feedbacks` (rating uids; None: every rating) as the appeals
    in force decide it now: 1 where an appeal of it was upheld (its first decision to arrive)."""
    if feedbacks is not None and not feedbacks:
        return
    aside = sorted(upheld(tx, storage, feedbacks))
    if feedbacks is None:
        tx.execute("UPDATE rating SET set_aside = 0 WHERE set_aside <> 0")
    else:
        for start in range(0, len(feedbacks), CHUNK):
            where, params = storage.in_list("feedback", sorted(feedbacks)[start:start + CHUNK])
            tx.execute(f"UPDATE rating SET set_aside = 0 WHERE {where} AND set_aside <> 0", params)
    for start in range(0, len(aside), CHUNK):
        where, params = storage.in_list("feedback", aside[start:start + CHUNK])
        tx.execute(f"UPDATE rating SET set_aside = 1 WHERE {where}", params)


def seen(tx: Tx, storage: Storage, tickets: Sequence[str] | None) -> None:
    """The ratings of `tickets` (None: every rating) given what ticket_state holds of their
    earliest intake and pickup now (nothing, if it holds no row)."""
    copy = (f"UPDATE rating SET ({', '.join(SEEN)}) = (SELECT received_device, received_clerk, received_name, "
            "picked_up_device, picked_up_clerk, picked_up_name FROM ticket_state s WHERE s.uid = rating.ticket) "
            "WHERE ticket IS NOT NULL")
    if tickets is None:
        tx.execute(copy)
        return
    for start in range(0, len(tickets), CHUNK):
        where, params = storage.in_list("ticket", tickets[start:start + CHUNK])
        tx.execute(f"{copy} AND {where}", params)


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


def counts(tx: Tx, by: str, start: date | None, end: date | None) -> list[tuple]:
    """(*the grouping's keys, rating, how many) of the ratings of the local days start..end,
    grouped by `by` (GROUPINGS): the sums the satisfaction figures are made of, added up by
    the database instead of read one by one."""
    keys = GROUPINGS[by]
    where, params = _days(start, end, counted=True)
    listed = ", ".join(keys)
    return tx.all(f"SELECT {listed}, rating, COUNT(*) FROM rating {where} GROUP BY {listed}, rating", params)


def _days(start: date | None, end: date | None, *, counted: bool = False) -> tuple[str, list]:
    """The WHERE of the local days start..end; `counted`: and not set aside (COUNTED)."""
    where, params = [COUNTED] if counted else [], []
    if start:
        where.append("day >= ?")
        params.append(start.isoformat())
    if end:
        where.append("day <= ?")
        params.append(end.isoformat())
    return ("WHERE " + " AND ".join(where) if where else ""), params


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
