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
two events say. `build` makes every row from the appeal events in one statement (the rebuild,
schema 28's upgrade)."""

from __future__ import annotations

from collections.abc import Sequence

from ..storage import Storage, Tx, as_datetime
from .appealed import events, fold
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
    # A rating's appeals: whether one upheld it (a push of the rating, appealed.upheld) and their
    # state in the export (central/ratings_export.py), a few ratings at a time.
    "CREATE INDEX appeal_feedback ON appeal (feedback)",
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
    schema 28's upgrade, in one statement (an upgrade holds the start-up transaction: 3 s for
    160,000 appeals, where folding them in Python took 7: docs/design/office-read-models.md §13).
    It is `fold`'s rule said in SQL (each appeal uid's first filing by ARRIVAL; its first
    decision naming an outcome that arrived after that filing), which `refresh` applies by fold:
    tests/central/test_appeal_read_model.py holds the rows the two make equal."""
    tx.execute("DELETE FROM appeal")
    uid, feedback, decision = (storage.json_field("e.payload", name) for name in ("appeal", "feedback", "decision"))
    first = "row_number() OVER (PARTITION BY {} ORDER BY e.received_at, e.created_at, e.id) AS n"
    tx.execute(f"""INSERT INTO appeal ({', '.join(TABLE.columns)})
        WITH filed AS (SELECT appeal, feedback, received_at, created_at, id FROM (
                SELECT {uid} AS appeal, {feedback} AS feedback, e.received_at, e.created_at, e.id, {first.format(uid)}
                FROM event e WHERE e.kind = 'rating.appealed' AND e.void_id IS NULL) f
                WHERE n = 1 AND appeal IS NOT NULL),
            decided AS (SELECT appeal, decision, created_at, id FROM (
                SELECT f.appeal, {decision} AS decision, e.created_at, e.id, {first.format('f.appeal')}
                FROM event e JOIN filed f ON f.appeal = {uid}
                WHERE e.kind = 'appeal.decided' AND e.void_id IS NULL AND {decision} IS NOT NULL
                AND (e.received_at, e.created_at, e.id) > (f.received_at, f.created_at, f.id)) d WHERE n = 1)
        SELECT f.appeal, f.feedback, f.created_at, f.id, d.decision, d.created_at, d.id
        FROM filed f LEFT JOIN decided d ON d.appeal = f.appeal""")
    if storage.postgres:
        tx.execute("ANALYZE appeal")


def of_ratings(tx: Tx, storage: Storage, feedbacks: Sequence[str]) -> list[tuple[str, str | None]]:
    """(feedback, decision or None while waiting) of the appeals of the ratings `feedbacks`, in
    the order they were filed (by the index appeal_feedback)."""
    found = []
    feedbacks = sorted(set(feedbacks))
    for start in range(0, len(feedbacks), CHUNK):
        where, params = storage.in_list("feedback", feedbacks[start:start + CHUNK])
        found += tx.all(f"SELECT feedback, decision, filed_event FROM appeal WHERE {where}", params)
    return [(feedback, decision) for feedback, decision, _ in sorted(found, key=lambda row: row[2])]


def snapshot(tx: Tx) -> list[tuple]:
    return TABLE.snapshot(tx)
