"""appeal (schema 28): one row per appeal (申诉) in force, what central/readmodels/appealed.py
`fold` decides of its events (the first filing of its uid to arrive is the appeal; the first
decision to arrive after it is the decision; later ones stored and ignored), so the back office
lists the appeals by state in index ranges (central/appeals.py page) instead of probing each
filing's decision: `appeal` (the uid as filed), `feedback` (the rating it concerns), the filing
event's `filed_at` (its created_at) and `filed_event` (its id), and the decision's `decision`
(upheld | rejected), `decided_at` and `decided_event` (NULL while it waits).

Not scoped by site: the office lists every appeal of every site (as before schema 28).

Kept by `refresh` (the appeals' rows made again from their events in force, by the appeal
index event_appeal) in the transaction of every push of `rating.appealed` / `appeal.decided`
(readmodels.fold), of the office's own decision (central/appeals.py decide) and of a voiding
(readmodels.void): made again, not merged, so the order the events come in does not matter, a
decision stored before its filing included. On PostgreSQL each appeal's rows are made under an
advisory lock of its uid (in one order), so two pushes of one appeal's events take turns and the
second reads the first's: a filing and its decision pushed at once by two desks give the row the
two events say. `build` makes every row from the appeal events (the rebuild, schema 28's
upgrade: three JSON fields and the place of each event, no payload decoded)."""

from __future__ import annotations

from collections.abc import Sequence

from ..storage import Storage, Tx, as_datetime
from ..words import ARRIVAL
from .appealed import KINDS, events, fold
from .rows import Table

CHUNK = 1000  # appeals a statement
LOCK = 7400403  # PostgreSQL advisory lock class: an appeal's rows (the second key: hashtext of its uid)
TABLE = Table("appeal", (
    ("appeal", "text"), ("feedback", "text"), ("filed_at", "timestamptz"), ("filed_event", "bigint"),
    ("decision", "text"), ("decided_at", "timestamptz"), ("decided_event", "bigint"),
))

STATEMENTS = (  # schema 28
    """CREATE TABLE appeal (
        appeal TEXT PRIMARY KEY, feedback TEXT, filed_at {ts} NOT NULL, filed_event BIGINT NOT NULL,
        decision TEXT, decided_at {ts}, decided_event BIGINT)""",
    # The list's orders (central/appeals.py ORDERS): every appeal newest filed first; the waiting
    # ones oldest filed first; the decided ones, and those of one outcome, newest decided first.
    "CREATE INDEX appeal_filed ON appeal (filed_at, filed_event)",
    "CREATE INDEX appeal_waiting ON appeal (filed_at, filed_event) WHERE decided_event IS NULL",
    "CREATE INDEX appeal_decided ON appeal (decided_at, decided_event) WHERE decided_event IS NOT NULL",
    "CREATE INDEX appeal_outcome ON appeal (decision, decided_at, decided_event) WHERE decided_event IS NOT NULL",
)


def rows(found: dict[str, dict], places: dict[str, list]) -> list[dict]:
    """The table's rows of fold's appeals and places."""
    made = []
    for uid, appeal in found.items():
        (filed_event, filed_at), decided = places[uid]
        made.append({"appeal": uid, "feedback": appeal["feedback"] if isinstance(appeal["feedback"], str) else None,
                     "filed_at": as_datetime(filed_at), "filed_event": int(filed_event),
                     "decision": appeal["decision"] if decided else None,
                     "decided_at": as_datetime(decided[1]) if decided else None,
                     "decided_event": int(decided[0]) if decided else None})
    return made


def refresh(tx: Tx, storage: Storage, uids: Sequence) -> None:
    """The rows of the appeals `uids` made again from their events in force (none: no filing in force)."""
    uids = sorted({uid for uid in uids if isinstance(uid, str)})
    if not uids:
        return
    appeal = storage.json_field("e.payload", "appeal")  # event_appeal's expression
    for start in range(0, len(uids), CHUNK):
        chunk = uids[start:start + CHUNK]
        if storage.postgres:  # in the hashes' order: two pushes never wait on each other crosswise
            tx.execute(f"SELECT pg_advisory_xact_lock({LOCK}, h) FROM (SELECT DISTINCT hashtext(u) AS h "
                       "FROM unnest(?::text[]) AS u ORDER BY h) locked", (chunk,))
        where, params = storage.in_list(appeal, chunk)
        places: dict[str, list] = {}
        found = fold(events(tx, storage, f"AND {where}", params), places)
        TABLE.write(tx, storage, rows(found, places), replace=True)
        TABLE.delete(tx, storage, [uid for uid in chunk if uid not in found])


def build(tx: Tx, storage: Storage) -> None:
    """Every row made again from the appeal events in force: the rebuild (readmodels.finish) and
    schema 28's upgrade, in one statement's read (event_kind's range of the two kinds) and one
    write; fold's rule over the three fields it reads here (as central/appeals.py states)."""
    tx.execute("DELETE FROM appeal")
    kinds, params = storage.in_list("e.kind", KINDS)
    fields = ", ".join(storage.json_field("e.payload", name) for name in ("appeal", "feedback", "decision"))
    read = tx.all(f"SELECT e.kind, {fields}, e.id, e.created_at FROM event e WHERE {kinds} AND e.void_id IS NULL "
                  f"ORDER BY {ARRIVAL}", params)
    places: dict[str, list] = {}
    found = fold([(kind, {"appeal": uid, "feedback": feedback, "decision": decision}, None, event_id, created)
                  for kind, uid, feedback, decision, event_id, created in read], places)
    made = rows(found, places)
    for start in range(0, len(made), CHUNK * 10):
        TABLE.write(tx, storage, made[start:start + CHUNK * 10], replace=False)
    if storage.postgres:
        tx.execute("ANALYZE appeal")


def snapshot(tx: Tx) -> list[tuple]:
    return TABLE.snapshot(tx)
