"""The read models of a central upgraded from an older schema, built in chunks (schema 22).

Before schema 22 an upgrade that derived read models from the stored events (from schema 8 or
older: every read model; from 10 to 19: figures, facets, follow-ups or ratings) did it all in its
one transaction: at a million events half a minute or more with the schema lock held and every push
waiting, and a kill lost all of it. Now such an upgrade (central/schema.py `_upgrade`) empties
the read models and records a backfill in central_meta (`backfill`, JSON: phase, cursor, counts);
the backfill then runs in transactions of CHUNK tickets (or EVENT_CHUNK ratings, closes and
appeals), each one moving the cursor in the same transaction as its rows, so a kill (even -9)
loses one chunk at most and the next run resumes there. A central holding at most INLINE_TICKETS
tickets is built inside the upgrade's transaction still, by the same steps (seconds).

The steps are the rules the pushes use, so the rows are the ones pushes give (the property test
of tests/central/test_backfill.py, and test_read_models.py's rebuild test):
- `tickets`: the tickets in uid order, each chunk's rows made again from all their events in
  force (readmodels.recompute_tickets, a voiding's correction: overwrites whatever a push folded
  meanwhile into a ticket not built yet);
- `ratings`: the ratings, closes and appeals, kind by kind in (created_at, id) order (the
  event_kind index), folded as a push folds them (readmodels.fold: order-independent merges), after
  every ticket, as a rating copies who served from ticket_state; an appeal's row (schema 28) made
  again from its events in force by each chunk holding one of them.

Pushes go on meanwhile: each chunk holds the read models' tables in EXCLUSIVE mode (PostgreSQL;
SQLite has one writer anyway) in the pushes' lock order, so a push waits for at most one chunk,
and then folds its events into rows the chunk wrote from every event committed before it.

- `window` (schema 24's window sums): the ratings in key order, each chunk's rows settled with
  their window groups (readmodels.rating.rewindow); scheduled alone by an upgrade from 23
  (`schedule_window`), after `ratings` when a full backfill was due too.

What central serves meanwhile (central/api/backfilling.py): the devices' sync as always; the back
office's pages and JSON, and the public site's progress look-up, answer 503 "being built, N of M"
(zh and en) rather than partial lists and figures a director could take for true; in the `window`
phase (`Progress.sums_only`) only what reads the window sums does (the window report,
/office/ratings and its JSON), the rest being whole. `kiosk central
backfill` runs it in the foreground with progress (and may be run again after a kill: it resumes);
`kiosk central serve` starts it in the background when one is due.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from kiosk.domain.clock import utc_now

from . import readmodels
from .readmodels import followup, rating
from .readmodels.stored import read
from .storage import Busy, Storage, Tx, as_datetime, ts

KEY = "backfill"  # central_meta's key while one is due
CHUNK = 500  # tickets a transaction (bench/backfill.py; docs/design/office-read-models.md §11)
EVENT_CHUNK = 1000  # ratings, closes or appeals a transaction
INLINE_TICKETS = 2000  # at most this many tickets: built inside the upgrade's transaction
INLINE_RATINGS = 5000  # at most this many ratings: schema 24's window sums inside the upgrade's transaction
RETRIES = 5  # a chunk that met a deadlock or a lock timeout is tried again
# The read models' tables in the pushes' lock order (central/readmodels/__init__.py).
TABLES = ("ticket_state", "ticket_serial", "ticket_facet", "due_item", "figure_ticket", "rating", "followup",
          "appeal", "office_count", "figure_day", "rating_sum")
EMPTIED = tuple(t for t in TABLES if t != "office_count")
PHASES = ("tickets", "ratings", "window")
KINDS = (readmodels.FEEDBACK, followup.CLOSED, *readmodels.APPEALS)  # the `ratings` phase, in this order


@dataclass
class Progress:
    """What central_meta says of a backfill: the phase, its cursor (the last ticket uid; or the
    kind and the last (created_at, id) of it), what is done of about how many, since when."""

    phase: str = "tickets"
    after: list | str = ""
    tickets_done: int = 0
    tickets_total: int = 0
    events_done: int = 0
    events_total: int = 0
    started_at: str = ""
    chunks: int = 0
    window: bool = False  # the `window` phase due after `ratings` (an upgrade from 23 met this backfill)

    def sums_only(self) -> bool:
        """Only the window ratings' sums are being built (the `window` phase, or the last step of a
        backfill of that phase alone): every other row is whole, and read as always."""
        return self.phase == "window" or (self.phase == "finish" and not self.tickets_total)

    def share(self) -> float:
        """Done, 0..1: tickets weigh most (a ticket is about four events and rebuilds six models);
        the `window` phase alone, its ratings."""
        if self.phase == "window" and not self.tickets_total:
            return min(1.0, self.events_done / self.events_total) if self.events_total else 1.0
        tickets = min(1.0, self.tickets_done / self.tickets_total) if self.tickets_total else 1.0
        events = min(1.0, self.events_done / self.events_total) if self.events_total else 1.0
        if self.phase == "tickets":
            events = 0.0
        return 0.9 * tickets + 0.1 * events


def state(tx: Tx, *, lock: bool = False) -> Progress | None:
    """The backfill due, or None when the read models are whole."""
    tail = " FOR UPDATE" if lock and tx.storage.postgres else ""
    row = tx.one(f"SELECT value FROM central_meta WHERE key = '{KEY}'{tail}")
    return None if row is None else Progress(**json.loads(row[0]))


def pending(storage: Storage) -> Progress | None:
    with storage.read() as tx:
        return state(tx)


def _save(tx: Tx, progress: Progress) -> None:
    tx.execute("UPDATE central_meta SET value = ? WHERE key = ?", (json.dumps(asdict(progress)), KEY))


def schedule(tx: Tx, storage: Storage) -> None:
    """In an upgrade's transaction, instead of its read-model derivations: the read models
    emptied and a backfill recorded; done here at once when the central is small."""
    if storage.postgres:
        tx.execute(f"TRUNCATE {', '.join(EMPTIED)}")
    else:
        for table in EMPTIED:
            tx.execute(f"DELETE FROM {table}")
    tx.execute("UPDATE office_count SET n = 0")
    tickets, events = _totals(tx, storage)
    progress = Progress(tickets_total=tickets, events_total=events, started_at=ts(utc_now()))
    tx.execute("DELETE FROM central_meta WHERE key = ?", (KEY,))
    tx.execute("INSERT INTO central_meta (key, value) VALUES (?, ?)", (KEY, json.dumps(asdict(progress))))
    if tickets <= INLINE_TICKETS:
        while step(tx, storage) is not None:
            pass


def schedule_window(tx: Tx, storage: Storage) -> None:
    """Schema 24's upgrade (the window ratings' sums), in its transaction: what was
    readmodels.build_24, whose sums' rebuild rewrote every rating's row and every sum inside the
    upgrade (47 s at 100 k tickets, so minutes at 10 M with every push waiting on the schema lock).
    Here only the `window` phase is recorded: each chunk of ratings then gets its
    `seen_picked_up_at`, `last_upheld` 0 and its sums settled by difference (rating.rewindow), the
    office saying "being built" meanwhile. The end state is build_24's (tests/central/
    test_window_ratings_read_model.py compares them). build_24's `mark` of every rating is left out:
    central 23 kept `set_aside` by that very rule (any appeal upheld: appealed.upheld's first set,
    every appeal pushed marking its rating since 19), 24 changed only what the window report reads
    (`last_upheld` -> `set_aside`), so it rewrote the rows as they were, after reading every appeal
    event and every rating (1-2 s at 100 k tickets, minutes at 10 M). Done here at once for a small
    central."""
    progress = state(tx, lock=True)
    if progress is not None:  # a backfill left due by an earlier upgrade: window after its ratings
        if progress.phase == "finish":
            progress.phase, progress.after = "window", ""
        elif progress.phase == "ratings":
            progress.window = True
        # "tickets": its `ratings` phase empties nothing but folds every rating by this code (window cells too)
        _save(tx, progress)
        return
    total = tx.one("SELECT count(*) FROM rating")[0]
    progress = Progress(phase="window", events_total=int(total), started_at=ts(utc_now()))
    tx.execute("INSERT INTO central_meta (key, value) VALUES (?, ?)", (KEY, json.dumps(asdict(progress))))
    if total <= INLINE_RATINGS:
        while step(tx, storage) is not None:
            pass


def _totals(tx: Tx, storage: Storage) -> tuple[int, int]:
    """About how many tickets and rating-phase events there are (for the progress shown)."""
    tickets = tx.one("SELECT count(*) FROM (SELECT DISTINCT ticket FROM event WHERE ticket IS NOT NULL) t")[0]
    kinds, params = storage.in_list("kind", KINDS)
    events = tx.one(f"SELECT count(*) FROM event WHERE {kinds}", params)[0]
    return int(tickets), int(events)


def step(tx: Tx, storage: Storage, size: int = CHUNK, event_size: int = EVENT_CHUNK) -> Progress | None:
    """One chunk, in `tx`: its rows and the cursor moved past it. The progress after it (None:
    nothing was due; the read models are whole)."""
    progress = state(tx, lock=True)  # two runners take turns here, never build one chunk twice
    if progress is None:
        return None
    if storage.postgres and progress.phase in PHASES:  # pushes wait for this chunk (at most), then fold into its rows
        tx.execute(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
    if progress.phase == "tickets":
        _tickets(tx, storage, progress, size)
    elif progress.phase == "ratings":
        _ratings(tx, storage, progress, event_size)
    elif progress.phase == "window":
        _window(tx, storage, progress, event_size)
    else:
        _finish(tx, storage)
        return progress
    progress.chunks += 1
    _save(tx, progress)
    return progress


def _tickets(tx: Tx, storage: Storage, progress: Progress, size: int) -> None:
    # The uids by the event_ticket index, each once (a ticket's events are next to each other there).
    chunk = [t for (t,) in tx.all("SELECT DISTINCT ticket FROM event WHERE ticket IS NOT NULL AND ticket > ? "
                                  f"ORDER BY ticket LIMIT {int(size)}", (progress.after,))]
    readmodels.recompute_tickets(tx, storage, chunk)
    progress.tickets_done += len(chunk)
    if len(chunk) < size:
        progress.phase, progress.after = "ratings", [KINDS[0], None, 0]
    else:
        progress.after = chunk[-1]


def _ratings(tx: Tx, storage: Storage, progress: Progress, size: int) -> None:
    assert isinstance(progress.after, list)  # the ratings phase's cursor: [kind, created_at, id] (never a uid)
    kind, at, after_id = progress.after
    where, params = "", [kind]
    if at is not None:
        moment = storage.timestamp(as_datetime(at))
        # The range first (so the index reads from the cursor on), then past the cursor's own event.
        where, params = " AND created_at >= ? AND (created_at > ? OR id > ?)", [kind, moment, moment, after_id]
    rows = tx.all(f"SELECT id, created_at FROM event WHERE kind = ?{where} ORDER BY created_at, id "
                  f"LIMIT {int(size)}", params)
    if rows:
        ids, params = storage.in_list("e.id", [event_id for event_id, _ in rows])
        readmodels.fold(tx, storage, sorted(read(tx, storage, ids, params), key=lambda e: e.id))
        progress.events_done += len(rows)
    if len(rows) < size:
        following = KINDS.index(kind) + 1
        if following < len(KINDS):
            progress.after = [KINDS[following], None, 0]
        elif progress.window:
            progress.phase, progress.after, progress.window = "window", "", False
        else:
            progress.phase, progress.after = "finish", ""
    else:
        last_id, last_at = rows[-1]
        progress.after = [kind, ts(as_datetime(last_at)), last_id]


def _window(tx: Tx, storage: Storage, progress: Progress, size: int) -> None:
    rated = [r for (r,) in tx.all(f"SELECT rated FROM rating WHERE rated > ? ORDER BY rated LIMIT {int(size)}",
                                  (progress.after,))]
    rating.rewindow(tx, storage, rated)
    progress.events_done += len(rated)
    if len(rated) < size:
        progress.phase, progress.after = "finish", ""
    else:
        progress.after = rated[-1]


def _finish(tx: Tx, storage: Storage) -> None:
    """The last step: the tables' statistics for the pages' plans (ANALYZE takes no lock a push
    waits for, so none is taken here), and the backfill done."""
    if storage.postgres:
        for table in TABLES:
            tx.execute(f"ANALYZE {table}")
    tx.execute("DELETE FROM central_meta WHERE key = ?", (KEY,))


def _rest(seconds: float) -> None:
    # An event's wait, not time.sleep: under libfaketime (the tests' shifted clocks) sleep fails.
    threading.Event().wait(seconds)


@dataclass
class Run:
    chunks: int = 0
    seconds: float = 0.0
    longest: float = 0.0  # the longest single chunk's transaction, seconds
    retried: int = 0


def run(storage: Storage, *, size: int = CHUNK, event_size: int = EVENT_CHUNK, pause: float = 0.0,
        say: Callable[[Progress, Run], None] | None = None) -> Run:
    """Every chunk still due, one transaction each, until the read models are whole (resumes
    where a killed run stopped). `pause`: seconds between chunks (the devices' pushes first on a
    busy machine); `say`: called after each chunk."""
    done, started = Run(), time.perf_counter()
    while True:
        began = time.perf_counter()
        try:
            with storage.transaction() as tx:
                progress = step(tx, storage, size, event_size)
        except Busy:  # a lock timeout or a deadlock with a push, a voiding or an import: again
            done.retried += 1
            if done.retried > RETRIES * (done.chunks + 1):
                raise
            _rest(0.5)
            continue
        spent = time.perf_counter() - began
        if progress is None:
            break
        done.chunks += 1
        done.longest = max(done.longest, spent)
        done.seconds = time.perf_counter() - started
        if say is not None:
            say(progress, done)
        if pause:
            _rest(pause)
    done.seconds = time.perf_counter() - started
    return done
