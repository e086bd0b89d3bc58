"""Central's database: PostgreSQL (psycopg 3) for real deployments, SQLite for a single small
site. One code path: SQL is written once with `?` placeholders; the few dialect differences
(column types, GREATEST vs MAX, bulk inserts) are methods of `Storage`.

Connections come from small pools, one per lane (who is asking: a device's request, the
back office's, the health check, or the CLI and the schema upgrade); each lane has its own
connections and, on PostgreSQL, its own timeouts, so four slow office pages cannot take the
connections a push needs, and a held lock makes a push wait seconds, not for ever. Every
write is one explicit transaction (`BEGIN` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite, since a
deferred SQLite transaction that reads and then writes fails at once with "database is
locked"). Work that must happen last in a write transaction (the change feed's counter, see
central/feed.py) registers a `before_commit` hook.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import overload

POOL_TIMEOUT = 30.0  # seconds the CLI or an office page may wait for a free connection before a 503
CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL (libpq would wait for the OS: minutes)
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=full", "foreign_keys=on", "busy_timeout=10000")


class StorageError(RuntimeError):
    """The database cannot be used: unreachable, a newer schema, a bad URL."""


class Busy(StorageError):
    """A transient condition (locked, connection lost, pool exhausted): the client retries."""


def ts(value: datetime) -> str:
    """Timestamps go to both databases as ISO-8601 UTC text with microseconds: PostgreSQL casts
    it to timestamptz, SQLite stores it as text that sorts in time order."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@overload
def as_datetime(value: None) -> None: ...
@overload
def as_datetime(value: datetime | str) -> datetime: ...
def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timestamp as read back: a datetime from PostgreSQL, ISO text from SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> Path:
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))  # sqlite:////abs/path, sqlite:///relative/path
    if url.startswith("sqlite://"):
        raise StorageError(f"not an SQLite URL (use sqlite:///PATH): {url}")
    return Path(url)


def describe(url: str) -> str:
    """The URL without a password, for messages and logs."""
    if is_postgres(url) and "@" in url.split("//", 1)[1]:
        scheme, rest = url.split("//", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}//{creds.split(':', 1)[0]}@{host}"
    return url


@dataclass(frozen=True)
class Lane:
    """Who is asking, and what they may take: connections of their own (`size`, None: the
    storage's pool size), how long to wait for one, and on PostgreSQL how long a statement may
    run, wait for a lock, or sit idle inside a transaction (seconds; None: no limit)."""

    name: str
    size: int | None
    wait: float
    statement: float | None
    lock: float | None
    idle_in_transaction: float | None


# A device gives up after 15 s (kiosk/sync/client.py TIMEOUT): 5 s for a connection and 10 s of
# statement fit inside it; a push waiting on the feed clock 3 s is a queue of hundreds of pushes
# (or a lock someone holds): answered 503 Busy, the device retries. An office page may take a
# minute (the due list of a large institute) on its 2 connections.
DEVICE = Lane("device", None, wait=5.0, statement=10.0, lock=3.0, idle_in_transaction=10.0)
OFFICE = Lane("office", 2, wait=POOL_TIMEOUT, statement=60.0, lock=3.0, idle_in_transaction=60.0)
HEALTH = Lane("health", 1, wait=2.0, statement=2.0, lock=2.0, idle_in_transaction=2.0)
# No lane set: the CLI, the schema upgrade (an index on millions of events takes its time), tests.
ADMIN = Lane("admin", None, wait=POOL_TIMEOUT, statement=None, lock=None, idle_in_transaction=None)

_asking: ContextVar[Lane] = ContextVar("central_lane", default=ADMIN)


@contextmanager
def asking(lane: Lane) -> Iterator[None]:
    """Database work in this context (threads started from it included: FastAPI's thread pool
    copies the context) uses `lane`'s connections and timeouts."""
    token = _asking.set(lane)
    try:
        yield
    finally:
        _asking.reset(token)


class _Pool:
    """One lane's connections: at most `size` in use, the idle ones kept for the next request."""

    def __init__(self, lane: Lane, size: int):
        self.lane = lane
        self.idle: queue.LifoQueue = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(size)


class Tx:
    """One open transaction (or, for `Storage.read()`, a connection in autocommit mode)."""

    def __init__(self, storage: Storage, conn):
        self.storage = storage
        self.conn = conn
        self.state: dict = {}  # per-transaction scratch space (the feed's pending changes)
        self._hooks: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Sequence = ()):
        return self.conn.execute(self.storage.sql(sql), params)

    def one(self, sql: str, params: Sequence = ()):
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence = ()) -> list:
        return self.execute(sql, params).fetchall()

    def before_commit(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)


class Storage:
    """A database URL made usable: a pool of connections and the dialect's differences."""

    def __init__(self, url: str, pool_size: int = 8):
        self.url = url
        self.postgres = is_postgres(url)
        self.dialect = "postgresql" if self.postgres else "sqlite"
        self._pools = {lane.name: _Pool(lane, lane.size or pool_size) for lane in (DEVICE, OFFICE, HEALTH, ADMIN)}
        if self.postgres:
            try:
                import psycopg
            except ImportError:
                raise StorageError("PostgreSQL needs psycopg 3: pip install 'metrology-kiosk[central]'") from None
            self._psycopg = psycopg
            self._transient: tuple[type[BaseException], ...] = (psycopg.OperationalError,)
            self.integrity_errors: tuple[type[BaseException], ...] = (psycopg.IntegrityError,)
        else:
            self.path = sqlite_path(url)
            self._transient = (sqlite3.OperationalError,)
            self.integrity_errors = (sqlite3.IntegrityError,)

    # ---- the dialect ---------------------------------------------------------------------

    def sql(self, text: str) -> str:
        return _pg_sql(text) if self.postgres else text

    def timestamp(self, value: datetime):
        """A timestamp parameter: a datetime for PostgreSQL (psycopg sends it typed, no text
        to format and parse), the sortable UTC text for SQLite."""
        return value if self.postgres else ts(value)

    def in_list(self, column: str, values: Sequence) -> tuple[str, list]:
        """`column IN (values)`: one array parameter on PostgreSQL, one parameter each on SQLite."""
        if self.postgres:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def json_text(self, column: str) -> str:
        """A JSON column as text: PostgreSQL would otherwise parse jsonb into dicts for us."""
        return f"{column}::text" if self.postgres else column

    def json_field(self, column: str, *path: str) -> str:
        """A field inside a JSON column, as text (NULL if absent or JSON null). `path`: plain
        names only (they are written into the SQL)."""
        if not all(name.isidentifier() for name in path):
            raise ValueError(f"json path: plain names only, not {path!r}")
        if self.postgres:
            return f"({column} #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def bulk_insert(self, tx: Tx, table: str, columns: Sequence[str], rows: Sequence[Sequence],
                    tail: str = "", returning: str = "", pg_types: Sequence[str] = ()) -> list:
        """INSERT many rows; `tail`: an ON CONFLICT clause; `returning`: what to return of the
        rows written. PostgreSQL: executemany in pipeline mode, one round trip for the batch
        (measured faster than one unnest() statement over arrays, whose text form PostgreSQL
        must parse, for rows holding JSON); SQLite (in-process, cheap calls): executemany, or a
        statement per row when something is returned. `pg_types`, the columns' PostgreSQL types,
        for small rows (ids, short text, times): on PostgreSQL ONE statement reading the rows
        from one JSON array, in the order given (500 ticket owners: ~2 ms, against ~10 ms for the
        pipeline or an unnest() of arrays, whose parameters psycopg and PostgreSQL convert
        value by value)."""
        if not rows:
            return []
        back = f" RETURNING {returning}" if returning else ""
        if self.postgres and pg_types:
            values = ", ".join(f"(v->>{i})::{kind}" for i, kind in enumerate(pg_types))
            cursor = tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "
                                f"FROM json_array_elements(?::json) AS j (v) {tail}{back}",
                                (json.dumps(rows, default=ts),))
            return cursor.fetchall() if returning else []
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) {tail}{back}"
        written = []
        if self.postgres:
            with tx.conn.cursor() as cur:
                cur.executemany(_pg_sql(sql), rows, returning=bool(returning))
                while returning:
                    written += cur.fetchall()
                    if not cur.nextset():
                        break
            return written
        if not returning:
            tx.conn.executemany(sql, rows)
            return []
        for row in rows:
            got = tx.conn.execute(sql, row).fetchone()
            if got is not None:
                written.append(got)
        return written

    # ---- connections -----------------------------------------------------------------------

    def _connect(self, lane: Lane):
        if self.postgres:
            conninfo = self._psycopg.conninfo.conninfo_to_dict(self.url)
            conninfo.setdefault("connect_timeout", CONNECT_TIMEOUT)
            try:  # the URL's parameters, the timeout's default added, as one conninfo string
                conn = self._psycopg.connect(self._psycopg.conninfo.make_conninfo("", **conninfo), autocommit=True,
                                             application_name=f"central-{lane.name}")
            except self._psycopg.OperationalError as e:
                raise Busy(f"PostgreSQL at {describe(self.url)} is unreachable: {_first_line(e)}") from None
            # No JIT: central's statements are short index reads, and compiling one costs 15-20 ms
            # whenever the planner's estimate for the whole range passes jit_above_cost (the due
            # list's capped counts at 300,000 tickets: 136 ms a page with JIT, 84 ms without).
            settings = [("jit", "off"), *((name, f"{int(seconds * 1000)}ms") for name, seconds in (
                ("statement_timeout", lane.statement), ("lock_timeout", lane.lock),
                ("idle_in_transaction_session_timeout", lane.idle_in_transaction)) if seconds)]
            conn.execute("SELECT " + ", ".join("set_config(%s, %s, false)" for _ in settings),  # one round trip
                         [value for pair in settings for value in pair])
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, as on PostgreSQL.
        lite = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            lite.execute(f"PRAGMA {pragma}")
        return lite

    def _healthy(self, conn) -> bool:
        if self.postgres:
            return not conn.closed and conn.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE
        return not conn.in_transaction

    @contextmanager
    def _connection(self, lane: Lane | None = None) -> Iterator:
        pool = self._pools[(lane or _asking.get()).name]
        if not pool.slots.acquire(timeout=pool.lane.wait):
            raise Busy(f"all database connections of the {pool.lane.name} lane are busy")
        try:
            try:
                conn = pool.idle.get_nowait()
            except queue.Empty:
                conn = self._connect(pool.lane)
            try:
                yield conn
            finally:
                if self._healthy(conn):
                    pool.idle.put(conn)
                else:
                    _close_quietly(conn)
        finally:
            pool.slots.release()

    def ping(self) -> None:
        """Read central's own table on a connection of the health lane (2 s to get one, 2 s
        for the statement on PostgreSQL). StorageError when the database does not answer."""
        try:
            with self._connection(HEALTH) as conn:
                conn.execute("SELECT value FROM central_meta WHERE key = 'schema_version'").fetchone()
        except StorageError:
            raise
        except Exception as e:  # whatever the driver or the OS says, the answer is "no"
            raise StorageError(_first_line(e)) from e

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Autocommit statements: each SELECT sees its own consistent snapshot."""
        with self._connection() as conn:
            try:
                yield Tx(self, conn)
            except Exception as e:
                if self.transient(e):
                    raise Busy(_first_line(e)) from e
                raise

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction: everything or nothing."""
        with self._connection() as conn:
            tx = Tx(self, conn)
            try:
                conn.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
                yield tx
                for hook in tx._hooks:
                    hook()
                conn.execute("COMMIT")
            except BaseException as e:
                _rollback_quietly(conn)
                if self.transient(e):
                    raise Busy(_first_line(e)) from e
                raise

    def transient(self, error: BaseException) -> bool:
        """Worth a retry: locked, deadlocked, serialisation failure, connection lost."""
        if not isinstance(error, self._transient):
            return False
        return self.postgres or any(word in str(error) for word in ("locked", "busy"))

    def close(self) -> None:
        """Close the idle connections (of every lane); the storage stays usable."""
        for pool in self._pools.values():
            while True:
                try:
                    _close_quietly(pool.idle.get_nowait())
                except queue.Empty:
                    break


@lru_cache(maxsize=512)
def _pg_sql(text: str) -> str:
    # Our SQL has no literal '?' or '%' (no jsonb ? operator, no LIKE patterns): a plain swap.
    return text.replace("?", "%s")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _rollback_quietly(conn) -> None:
    # A failed rollback leaves the connection unhealthy: the pool then discards it.
    with suppress(Exception):
        conn.execute("ROLLBACK")


def _close_quietly(conn) -> None:
    with suppress(Exception):
        conn.close()

