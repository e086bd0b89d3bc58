"""Read models: what the back office lists, kept current in the same transaction that stores
each event, so a page reads a few indexed rows instead of deriving every ticket from the whole
event history (docs/design/office-read-models.md).

- `event` stays the truth. The read models are derived, never pushed or published, and can be
  made again from the events at any time (`build`).
- One rule per read model, two executions: each module's merge is order-independent (max, min,
  the earliest by (created_at, uid) or the first received by ARRIVAL), so folding a push's new
  events into the stored rows (`fold`, central/ingest.py) gives the rows folding every event at
  once gives (`build`). tests/central/test_read_models.py holds them to that, and to the
  derivations the pages made before.
- Voiding is not a merge (it takes facts away): the rows of the tickets and ratings it touches
  are made again from their events in force, in the voiding's transaction (`void`).
- A rating carries a copy of who served (its ticket's earliest intake and pickup): written when
  the rating is, and again whenever a push changes those steps (`rating.seen`).

The models: ticket_state (status, steps, promise, customer: the overview's latest and the work
list), office_count (tickets per status: the overview's counts), rating (satisfaction), due_item
(the due list, schema 7: made again for every ticket whose registration, intake or pickup moved).
ticket_serial (schema 8: the serial numbers each ticket names, for the office's search; ticket_state
carries the search's other columns). figures (schema 10: the director's figures as per-day sums,
made again for every ticket whose registration, intake or ready moved). ticket_facet (schema 12: each
ticket's intake desks, clerks and lab fields with its first_at, the list's other filters). followup
(schema 16: each follow-up's opening rating and counting close, the follow-ups' list and close;
and ticket_state's due_at and ready_day, the work list's order as index ranges). rating's
`set_aside` (schema 19: kept by every appeal and decision pushed or written by the office).
rating_sum (schema 20: the satisfaction figures' sums per day, month and year, kept by every writer
of rating through `rating.settle`). rating's window columns (schema 23: stage, counter, pusher, staff,
unstepped, last_upheld: the back office's window ratings grouped in SQL, central/ratings_export.py
window_report). The window ratings' sums (schema 24: rating_sum's window kinds, rating's `seen_picked_up_at`
and window TALLY; set aside by any upheld appeal, as the figures). ticket_state's earliest facts by
event id (schema 25: `*_event` instead of the text keys, which ticket_state.load makes again for merge).
ticket_state's `id` (schema 26: given when a ticket's row is first written, kept by recompute),
which ticket_serial, ticket_facet, due_item and figure_ticket hold instead of the 37-byte uid.
appeal (schema 28: one row per appeal, its state as readmodels/appealed.py decides it, made again
by every push, decision and voiding touching it: the office's appeals listed by state).

Lock order inside a push (central/ingest.py): after the ticket owners, ticket_state rows in uid
order, then due_item's table and groups (due_item.py), then figure_ticket rows, then rating rows, then followup rows,
then the appeals' advisory locks (appeal.py, in their hashes' order) and the rows their ratings' `set_aside` marks;
office_count rows, then figure_day rows (figures.py), then rating_sum rows (rating.py), just before
the feed clock, at commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..storage import Storage, Tx
from . import appeal, due_item, figures, followup, office_count, rating, ticket_facet, ticket_serial, ticket_state
from .stored import Stored, read

STATEMENTS = (*ticket_state.STATEMENTS, *office_count.STATEMENTS, *rating.STATEMENTS)
SEARCH_STATEMENTS = (*ticket_state.SEARCH_STATEMENTS, *ticket_serial.STATEMENTS)  # schema 8
FEEDBACK = "feedback.given"
DUE_STATEMENTS = due_item.STATEMENTS  # schema 7
FIGURE_STATEMENTS = figures.STATEMENTS  # schema 10
FACET_STATEMENTS = ticket_facet.STATEMENTS  # schema 12
DUE_SITE_STATEMENTS = due_item.SITE_STATEMENTS  # schema 12
FOLLOWUP_STATEMENTS = followup.STATEMENTS  # schema 16
WORK_STATEMENTS = ticket_state.WORK_STATEMENTS  # schema 16
RATING_EXPORT_STATEMENTS = rating.EXPORT_STATEMENTS  # schema 16
FOLDED = (FEEDBACK, followup.CLOSED)  # the kinds folded besides ticket steps
APPEALS = ("rating.appealed", "appeal.decided")  # central/appeals.py KINDS: rating.set_aside (schema 19)
SET_ASIDE_STATEMENTS = rating.SET_ASIDE_STATEMENTS  # schema 19
SUM_STATEMENTS = (*rating.SUM_STATEMENTS, *ticket_state.PAGE_STATEMENTS)  # schema 20
WINDOW_STATEMENTS = rating.WINDOW_STATEMENTS  # schema 23
WINDOW_SUM_STATEMENTS = rating.WINDOW_SUM_STATEMENTS  # schema 24
KEY_STATEMENTS = ticket_state.KEY_STATEMENTS  # schema 25: ticket_state's facts by event id
# Schema 26: ticket_state's id, and ticket_serial, ticket_facet, due_item and figure_ticket holding it
# instead of the ticket's uid.
ID_STATEMENTS = (*ticket_state.ID_STATEMENTS, *ticket_serial.ID_STATEMENTS, *ticket_facet.ID_STATEMENTS,
                 *due_item.ID_STATEMENTS, *figures.ID_STATEMENTS)
APPEAL_STATEMENTS = appeal.STATEMENTS  # schema 28
# Schema 21, fewer bytes a ticket: the list's indexes ascending (ticket_state.LISTED_STATEMENTS), the
# due groups' index on the group only (due_item.SERIAL_STATEMENTS), and
# event_kind over the kinds read by kind only (ratings, closes, call-backs, appeals, certificates:
# retention, the ratings' CSV, the backfill): the four ticket steps, 97 % of its entries, are read by
# ticket (event_ticket) and never by kind. On PostgreSQL ({steps_left_out}); SQLite uses a partial
# index only for a query that repeats its condition, so it keeps the whole one (a small central).
# figure_ticket's basis digested and cells trimmed (figures.py) need no statement.
STORAGE_STATEMENTS = (*ticket_state.LISTED_STATEMENTS, *due_item.SERIAL_STATEMENTS,
                      "DROP INDEX IF EXISTS event_kind",
                      "CREATE INDEX event_kind ON event (kind, created_at){steps_left_out}")
TABLES = (ticket_state.TABLE, rating.TABLE, due_item.TABLE)
BUILD_CHUNK = 1000  # tickets whose events are read at once by a build


def fold(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """A push's new events (repeats left out) into the read models, in the push's transaction,
    before anything is published (office_count's hook must run before the feed clock's)."""
    steps = [e for e in events if e.ticket is not None and e.status is not None]
    if steps:
        folded = ticket_state.fold(tx, storage, steps)
        ticket_serial.fold(tx, storage, steps, folded.ids)
        ticket_facet.fold(tx, storage, steps, folded.listed, folded.relisted, folded.ids)
        office_count.adjust(tx, folded.moved)
        due_item.refresh(tx, storage, sorted(folded.due), 
                         without_rows={t for t, held in folded.due.items() if not held})
        figures.refresh(tx, storage, sorted(folded.figured))
        rating.seen(tx, storage, sorted(folded.served))
    ratings = [e for e in events if e.kind == FEEDBACK]
    if ratings:
        rating.fold(tx, storage, ratings)
    followups = [e for e in events if e.kind in FOLDED]
    if followups:
        followup.fold(tx, storage, followups)
    appealed = [e.payload for e in events if e.kind in APPEALS]
    if appealed:  # schema 28: the appeals' rows; schema 19: a rating an upheld appeal sets aside
        appeal.refresh(tx, storage, [p.get("appeal") for p in appealed])
        rating.mark(tx, storage, sorted({f for p in appealed if isinstance(f := p.get("feedback"), str)}))


def void(tx: Tx, storage: Storage, uids: Sequence[str]) -> None:
    """After events were voided: the tickets and ratings they concern, made again from their
    events still in force (call it before the voiding's correction is published)."""
    tickets, rated, followups, appealed, appeals = set(), set(), set(), set(), set()
    for start in range(0, len(uids), BUILD_CHUNK):
        where, params = storage.in_list("e.uid", uids[start:start + BUILD_CHUNK])
        followups |= followup.touched(tx, storage, where, params)
        kinds, kind_params = storage.in_list("e.kind", APPEALS)
        fields = ", ".join(storage.json_field("e.payload", name) for name in ("feedback", "appeal"))
        for feedback, uid in tx.all(f"SELECT {fields} FROM event e WHERE {where} AND {kinds}", [*params, *kind_params]):
            appealed |= {feedback} if feedback else set()
            appeals |= {uid} if uid else set()
        for uid, ticket, rated_ticket, stage in tx.all(
                f"SELECT e.uid, e.ticket, {storage.json_field('e.payload', 'ticket')}, "
                f"{storage.json_field('e.payload', 'stage')} FROM event e "
                f"WHERE {where} AND (e.ticket IS NOT NULL OR e.kind = '{FEEDBACK}')", params):
            if ticket is not None:
                tickets.add(ticket)
            else:
                rated.add(rating.rated_key(rated_ticket, stage) if rated_ticket else uid)
    recompute_tickets(tx, storage, sorted(tickets))
    rows = sorted(rated)
    for start in range(0, len(rows), BUILD_CHUNK):
        chunk = rows[start:start + BUILD_CHUNK]
        by_ticket, p1 = storage.in_list(storage.json_field("e.payload", "ticket"),
                                        sorted({rating.ticket_of(key) for key in chunk}))
        by_uid, p2 = storage.in_list("e.uid", chunk)
        events = read(tx, storage, f"e.kind = '{FEEDBACK}' AND ({by_ticket} OR {by_uid})", [*p1, *p2])
        rating.recompute(tx, storage, chunk, events)
    followup.recompute(tx, storage, sorted(followups))
    appeal.refresh(tx, storage, sorted(appeals))
    rating.mark(tx, storage, sorted(appealed))


def recompute_tickets(tx: Tx, storage: Storage, tickets: list[str]) -> None:
    """The rows of `tickets` made again from their events in force: after their events were
    voided, or rewritten (personal data erased: the copies here must go too)."""
    for start in range(0, len(tickets), BUILD_CHUNK):
        chunk = tickets[start:start + BUILD_CHUNK]
        where, params = storage.in_list("e.ticket", chunk)
        events = read(tx, storage, f"{where} AND e.status IS NOT NULL", params)
        ids: dict[str, int] = {}
        moved = ticket_state.recompute(tx, storage, chunk, events, ids)
        ticket_serial.recompute(tx, storage, chunk, events, ids)
        ticket_facet.recompute(tx, storage, chunk, events, ids)
        office_count.adjust(tx, moved)
        due_item.refresh(tx, storage, chunk, ids=ids)
        figures.refresh(tx, storage, chunk, ids=ids)
        rating.seen(tx, storage, chunk)


# The tables a build fills (BUILT: emptied first), in the pushes' lock order.
BUILT = ("ticket_state", "rating", "office_count", "ticket_serial", "ticket_facet", "due_item", "followup",
         "appeal", "rating_sum", "figure_ticket", "figure_day")


def build(tx: Tx, storage: Storage, *, bulk: bool = False) -> None:
    """Every read model made again from the events, in the caller's transaction: schema 6's
    upgrade (central/schema.py) and `kiosk central rebuild-read-models`.

    `bulk` (PostgreSQL; bench/office_scale.py's load): the tables emptied by TRUNCATE (no dead rows
    left behind) and their indexes but the unique ones (which the builds' ON CONFLICT need) dropped,
    then made again once the rows are in, the unique ones rebuilt too: one sorted pass each instead
    of an entry a row, faster, and the indexes a quarter smaller (a B-tree filled in key order
    leaves its pages full: docs/design/office-read-models.md §12). The office's readers of these
    tables wait for the build's commit (ACCESS EXCLUSIVE) instead of reading the rows before it.

    Small centrals only: it holds the upgrade's transaction (pushes wait) for about half a minute
    per million events (24 s for 200,000 tickets, docs/design/office-read-models.md). A large
    central would instead create the empty tables here, let pushes fold into them from then on,
    and backfill in the background by chunks of ticket uids, each chunk's rows locked in uid
    order and recomputed with the same `ticket_state.recompute` (idempotent: it overwrites the
    partial rows pushes made), the pages saying "being built" until the last chunk."""
    bulk = bulk and storage.postgres
    dropped = start(tx, storage, bulk=bulk)
    sums: dict = {}
    build_tickets(tx, storage, ticket_uids(tx), sums)
    finish(tx, storage, dropped, sums)


def start(tx: Tx, storage: Storage, *, bulk: bool = False) -> list[tuple[str, str, bool]]:
    """A build's first part: BUILT locked and emptied (`bulk`: TRUNCATEd, their indexes but the
    unique ones dropped; what was dropped is returned, for `finish`)."""
    _lock(tx, storage, bulk)
    dropped = _drop_indexes(tx) if bulk else []
    for table in TABLES:
        tx.execute(f"DELETE FROM {table.name}")
    for name in ("ticket_serial", "ticket_facet", "figure_ticket", "figure_day"):
        tx.execute(f"DELETE FROM {name}")
    return dropped


def ticket_uids(tx: Tx, first: str | None = None, last: str | None = None) -> list[str]:
    """The tickets any event names, in order; `first`, `last`: from `first`, before `last`."""
    where = "".join((" AND ticket >= ?" if first is not None else "", " AND ticket < ?" if last is not None else ""))
    return [t for (t,) in tx.all(f"SELECT DISTINCT ticket FROM event WHERE ticket IS NOT NULL{where} ORDER BY ticket",
                                 [v for v in (first, last) if v is not None])]


def build_tickets(tx: Tx, storage: Storage, tickets: Sequence[str], sums: dict) -> None:
    """A build's per-ticket part, after `start`, chunk by chunk: each ticket's ticket_state,
    ticket_serial, ticket_facet, due_item (`latest` left to `finish`) and figure_ticket rows; the
    figures' day sums added to `sums` (written by `finish`). Tickets apart (a range of them, in
    its own transaction: `build_parallel`) give the rows all of them at once give."""
    for begin in range(0, len(tickets), BUILD_CHUNK):
        chunk = list(tickets[begin:begin + BUILD_CHUNK])
        where, params = storage.in_list("e.ticket", chunk)
        events = read(tx, storage, f"{where} AND e.status IS NOT NULL", params)
        ids: dict[str, int] = {}
        ticket_state.recompute(tx, storage, chunk, events, ids)
        ticket_serial.recompute(tx, storage, [], events, ids)  # the table was emptied by start
        ticket_facet.recompute(tx, storage, [], events, ids)
        due_item.refresh(tx, storage, chunk, building=True)  # picked-up tickets only hold rows
        figures.refresh(tx, storage, chunk, sums)  # taken-in tickets only contribute


def finish(tx: Tx, storage: Storage, dropped: list[tuple[str, str, bool]], sums: dict) -> None:
    """A build's last part, after every ticket's `build_tickets`: the ratings, follow-ups, appeals
    and counts, which instrument rows count, the figures' day sums, the dropped indexes made again."""
    rating.build(tx, storage, read(tx, storage, f"e.kind = '{FEEDBACK}'", ()))
    if dropped:
        _compact(tx, "rating")
    followup.build(tx, storage)
    appeal.build(tx, storage)
    office_count.rebuild(tx)
    tx.execute(due_item.FLAG_ALL)
    figures._write(tx, storage, sums)  # figures.build's own last step
    if dropped:
        _make_indexes(tx, dropped)
    if storage.postgres:  # the pages' plans need the new rows' statistics now, not at autovacuum's next turn
        for name in (*(table.name for table in TABLES), "ticket_serial", "ticket_facet", "followup",
                     "figure_ticket", "figure_day"):  # appeal: analysed by its build
            tx.execute(f"ANALYZE {name}")


def _compact(tx: Tx, table: str) -> None:
    """A bulk build's `table` written again, its rows once each: rating.build writes every row
    three times in one transaction (inserted, then `seen`'s and the tallies' UPDATEs), and no dead
    version of them can be reused before the commit: 60 % of the heap was dead space at 100 k
    tickets (1,489 bytes a row for 592 of data; docs/design/office-read-models.md §12.4)."""
    tx.execute(f"CREATE TEMP TABLE compacted ON COMMIT DROP AS SELECT * FROM {table}")
    tx.execute(f"TRUNCATE {table}")
    tx.execute(f"INSERT INTO {table} SELECT * FROM compacted")
    tx.execute("DROP TABLE compacted")


def _lock(tx: Tx, storage: Storage, bulk: bool) -> None:
    if storage.postgres:  # a push meanwhile folds into the built rows, not into rows the build then skips
        tx.execute("LOCK TABLE ticket_state, rating, office_count, ticket_serial, ticket_facet, due_item, followup, "
                   f"appeal, rating_sum{', figure_ticket, figure_day' if bulk else ''} "
                   f"IN {'ACCESS EXCLUSIVE' if bulk else 'EXCLUSIVE'} MODE")


def build_parallel(storage: Storage, workers: int = 2) -> None:
    """`build(bulk=True)` over `workers` processes (PostgreSQL; bench/office_scale.py's load, a
    database nothing else writes meanwhile): `start` committed, then each process builds a range
    of the tickets (`build_tickets`) in its own transaction, then `finish` with their day sums.
    Not for a live central: between the transactions its pages would read half-built tables,
    and a failure leaves them so (a `build` makes them again)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with storage.transaction() as tx:
        dropped = start(tx, storage, bulk=True)
        tickets = ticket_uids(tx)
    # Ticket k * n / workers starts range k (by the database's order, as `ticket_uids` reads them).
    bounds = [None, *dict.fromkeys(tickets[len(tickets) * k // workers] for k in range(1, workers) if tickets)]
    if tickets and bounds[1:2] == [tickets[0]]:
        bounds.pop(0)  # fewer tickets than workers: no range before the first
    ends = [*bounds[1:], None]
    # spawn, not fork: a forked child would share (and at its exit close) this process's connections
    with ProcessPoolExecutor(len(bounds), mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_build_range, [storage.url] * len(bounds), bounds, ends))
    sums: dict = {}
    for part in parts:
        for key, values in part.items():
            row = sums.setdefault(key, [0] * len(values))
            for i, value in enumerate(values):
                row[i] += value
    with storage.transaction() as tx:
        _lock(tx, storage, True)
        finish(tx, storage, dropped, sums)


def _build_range(url: str, first: str | None, last: str | None) -> dict:
    """One process of `build_parallel`: the tickets from `first` to before `last`; their day sums."""
    storage = Storage(url, 1)
    try:
        sums: dict = {}
        with storage.transaction() as tx:
            build_tickets(tx, storage, ticket_uids(tx, first, last), sums)
        return sums
    finally:
        storage.close()


def _drop_indexes(tx: Tx) -> list[tuple[str, str, bool]]:
    """A bulk build's start: BUILT emptied (TRUNCATE: the DELETEs after find nothing) and their
    indexes but the unique ones dropped. (name, definition, unique) of every index of BUILT."""
    indexes = [(name, definition, unique) for name, definition, unique in tx.all(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relname = ANY(?) AND t.relnamespace = current_schema()::regnamespace ORDER BY c.relname",
        (list(BUILT),))]
    tx.execute(f"TRUNCATE {', '.join(t for t in BUILT if t != 'office_count')}")  # its rows are counted again
    for name, _, unique in indexes:
        if not unique:
            tx.execute(f"DROP INDEX {name}")
    return indexes


def _make_indexes(tx: Tx, indexes: list[tuple[str, str, bool]]) -> None:
    """A bulk build's end: the dropped indexes made again as they were, the unique ones rebuilt."""
    for name, definition, unique in indexes:
        tx.execute(f"REINDEX INDEX {name}" if unique else definition)


def build_16(tx: Tx, storage: Storage) -> None:
    """Schema 16's upgrade: the follow-ups, and the open tickets' place in the work list."""
    followup.build(tx, storage)
    ticket_state.fill_work_order(tx, storage)


def build_19(tx: Tx, storage: Storage) -> None:
    """Schema 19's upgrade: the ratings made again, with their uid and whether an upheld appeal
    set them aside."""
    rating.build(tx, storage, read(tx, storage, f"e.kind = '{FEEDBACK}'", ()))


def build_20(tx: Tx, storage: Storage) -> None:
    """Schema 20's upgrade: the satisfaction sums, from the ratings stored."""
    rating.build_sums(tx, storage)


def build_23(tx: Tx, storage: Storage) -> None:
    """Schema 23's upgrade: the ratings made again, with what the window report groups by."""
    rating.build(tx, storage, read(tx, storage, f"e.kind = '{FEEDBACK}'", ()))


def build_24(tx: Tx, storage: Storage) -> None:
    """Schema 24's upgrade as first released, in one transaction (from the rating rows and the
    appeal events, no rating's event read): the pickup's time copied to each pad's rating that
    named no step, `set_aside` by any upheld appeal (the window report's rule now too),
    `last_upheld` unused (0), and every sum made again with the window groups'. No longer what an
    upgrade runs (47 s at 100 k tickets with pushes waiting: central/backfill.py `schedule_window`
    reaches the same rows by chunks); kept as the reference the tests compare the chunks with."""
    rating.seen_picked_up(tx)
    rating.mark(tx, storage, None, tallied=False)
    tx.execute("UPDATE rating SET last_upheld = 0 WHERE last_upheld <> 0")
    rating.build_sums(tx, storage)


def snapshot(storage: Storage) -> dict[str, list[tuple]]:
    """Every read model's rows, in key order."""
    with storage.read() as tx:
        found = {table.name: table.snapshot(tx) for table in TABLES}
        found["office_count"] = tx.all("SELECT status, n FROM office_count ORDER BY status")
        found["due_item"] = due_item.snapshot(tx)  # with the tickets' uids (schema 26)
        found["ticket_serial"] = ticket_serial.snapshot(tx)
        found["ticket_facet"] = ticket_facet.snapshot(tx)
        found["followup"] = followup.snapshot(tx)
        found["appeal"] = appeal.snapshot(tx)
        found["rating_sum"] = rating.sums_snapshot(tx)
        found.update(figures.snapshot(tx))
    return found
