"""followup: each follow-up (回访) a poor rating opened, one row: the rating that opened it
(the first `feedback.given` received naming it, central/words.py ARRIVAL) and the close that
counts (the first `followup.closed` received naming it), as event ids, with what the office's
list sorts on. The page reads the two events by primary key, so what retention erases in them
needs nothing here.

One rule, two executions, as every read model: the opening is a merge (the earliest arrival
wins, in a push's batch and against the stored row), and the close is read again from the
events in force through the `event_close_followup` index whenever a push or the office writes
one, or a follow-up is (re)opened. A voiding makes the rows of the follow-ups it touches again
from the events in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from ..storage import Storage, Tx, as_datetime
from ..words import ARRIVAL
from .stored import Stored, arrival, read

OPENED, CLOSED = "feedback.given", "followup.closed"
CHUNK = 500

STATEMENTS = (
    """CREATE TABLE followup (
        uid TEXT PRIMARY KEY, feedback TEXT NOT NULL, opened_event BIGINT NOT NULL, opened_arrival TEXT NOT NULL,
        due_on TEXT NOT NULL, given_at {ts} NOT NULL, closed_event BIGINT, closed_at {ts})""",
    "CREATE INDEX followup_open ON followup (due_on, given_at, uid) WHERE closed_event IS NULL",
    "CREATE INDEX followup_closed ON followup (closed_at, uid) WHERE closed_event IS NOT NULL",
)
COLUMNS = ("uid", "feedback", "opened_event", "opened_arrival", "due_on", "given_at")


def _opening(event: Stored) -> tuple | None:
    """The row an opening rating makes (COLUMNS), or None if it opens nothing (or was stored
    malformed before central checked a follow-up's shape: left out, as the list leaves it)."""
    p = event.payload
    try:
        opened = p["followup"]
        due_on = date.fromisoformat(opened["due_on"]).isoformat()
        return opened["uid"], p["feedback"], event.id, arrival(event), due_on, as_datetime(p["at"])
    except (KeyError, TypeError, ValueError):
        return None


def _first(events: Iterable[Stored]) -> dict[str, tuple]:
    best: dict[str, tuple] = {}
    for event in events:
        row = _opening(event) if event.kind == OPENED else None
        if row is not None and (row[0] not in best or row[3] < best[row[0]][3]):
            best[row[0]] = row
    return best


def _open(tx: Tx, storage: Storage, rows: Iterable[tuple]) -> None:
    """Each row stored unless a rating that arrived earlier opened the follow-up."""
    for uid, feedback, event_id, at, due_on, given_at in sorted(rows):
        tx.execute(f"INSERT INTO followup ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO UPDATE "
                   "SET feedback = excluded.feedback, opened_event = excluded.opened_event, "
                   "opened_arrival = excluded.opened_arrival, due_on = excluded.due_on, given_at = excluded.given_at "
                   "WHERE excluded.opened_arrival < followup.opened_arrival",
                   (uid, feedback, event_id, at, due_on, storage.timestamp(given_at)))


def close(tx: Tx, storage: Storage, uids: Sequence[str]) -> None:
    """The close that counts of each of `uids`, read from the events in force."""
    field = storage.json_field("e.payload", "followup")
    for uid in sorted(set(uids)):
        found = tx.one(f"SELECT e.id, e.created_at FROM event e WHERE e.kind = '{CLOSED}' AND e.void_id IS NULL "
                       f"AND {field} = ? ORDER BY {ARRIVAL} LIMIT 1", (uid,))
        event_id, at = found or (None, None)
        tx.execute("UPDATE followup SET closed_event = ?, closed_at = ? WHERE uid = ?",
                   (event_id, storage.timestamp(as_datetime(at)) if at is not None else None, uid))


def fold(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """A push's ratings and closes."""
    opened = _first(events)
    _open(tx, storage, opened.values())
    closes = {e.payload.get("followup") for e in events if e.kind == CLOSED}
    close(tx, storage, [uid for uid in {*opened, *closes} if isinstance(uid, str)])


def recompute(tx: Tx, storage: Storage, uids: Sequence[str]) -> None:
    """The rows of `uids` made again from the events in force (after a voiding)."""
    field = storage.json_field("e.payload", "followup", "uid")
    for start in range(0, len(uids), CHUNK):
        chunk = sorted(uids)[start:start + CHUNK]
        where, params = storage.in_list("uid", chunk)
        tx.execute(f"DELETE FROM followup WHERE {where}", params)
        where, params = storage.in_list(field, chunk)
        _open(tx, storage, _first(read(tx, storage, f"e.kind = '{OPENED}' AND {where}", params)).values())
        close(tx, storage, chunk)


def touched(tx: Tx, storage: Storage, where: str, params) -> set[str]:
    """The follow-ups the events matching `where` (on `event e`) open or close."""
    opened, closed = storage.json_field("e.payload", "followup", "uid"), storage.json_field("e.payload", "followup")
    rows = tx.all(f"SELECT CASE WHEN e.kind = '{OPENED}' THEN {opened} ELSE {closed} END FROM event e "
                  f"WHERE {where} AND e.kind IN ('{OPENED}', '{CLOSED}')", params)
    return {uid for (uid,) in rows if uid}


def build(tx: Tx, storage: Storage) -> None:
    """Every row made again from the events (an upgrade, `kiosk central rebuild-read-models`)."""
    tx.execute("DELETE FROM followup")
    field = storage.json_field("e.payload", "followup", "uid")
    opened = _first(read(tx, storage, f"e.kind = '{OPENED}' AND {field} IS NOT NULL", ()))
    _open(tx, storage, opened.values())
    closes: dict[str, tuple] = {}
    for event_id, uid, at in tx.all(f"SELECT e.id, {storage.json_field('e.payload', 'followup')}, e.created_at "
                                    f"FROM event e WHERE e.kind = '{CLOSED}' AND e.void_id IS NULL ORDER BY {ARRIVAL}"):
        closes.setdefault(uid, (event_id, at))
    for uid, (event_id, at) in sorted(closes.items()):
        tx.execute("UPDATE followup SET closed_event = ?, closed_at = ? WHERE uid = ?",
                   (event_id, storage.timestamp(as_datetime(at)), uid))


def snapshot(tx: Tx) -> list[tuple]:
    return tx.all(f"SELECT {', '.join(COLUMNS)}, closed_event, closed_at FROM followup ORDER BY uid")
