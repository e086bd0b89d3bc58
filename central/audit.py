"""The back office's audit log (office_audit): who viewed or exported personal data, when, and
what (the route, its query, how many rows), and who signed in, out, or failed to. Never the data
itself: a row says "zhang exported /office/due.csv?within=30d, 120 rows", not whose phones.

A search's query is kept as asked (it may be a phone): central/retention.py erases queries and
addresses older than the retention period, the rest of each row stays.

Directors read it at /office/audit and export it as CSV (central/api/accounts.py). Failed
sign-ins keep their address: central/accounts.py counts them to lock an address out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kiosk.domain.clock import local, utc_now
from kiosk.domain.spreadsheet import safe_row

from .storage import Storage, Tx, as_datetime

PAGE_ROWS = 50
EXPORT_BATCH = 1000
MAX_QUERY = 500  # characters of a query string kept
MAX_WHO = 64  # a name typed at a failed sign-in is kept this long
CSV_FIELDS = ("id", "at", "who", "role", "action", "route", "query", "rows", "address")
COLUMNS = "id, at, who, role, action, route, query, row_count, address"


class User(Protocol):
    """Who did it: central/accounts.py OfficeUser (id None: the office token). Read-only members:
    OfficeUser is a frozen dataclass, and this module only reads them."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    who: str
    role: str | None
    action: str
    route: str
    query: str
    rows: int | None
    address: str | None


def record(storage: Storage, user: User | None, action: str, route: str, query: str = "",
           rows: int | None = None, *, who: str | None = None, address: str | None = None,
           at: datetime | None = None) -> int:
    """One row, in its own transaction (its id). `who`: for a sign-in that found no user, the name typed."""
    moment = at or utc_now()
    with storage.transaction() as tx:
        return tx.one("INSERT INTO office_audit (at, user_id, who, role, action, route, query, row_count, address) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                      (storage.timestamp(moment), user.id if user else None,
                       (user.name if user else who or "")[:MAX_WHO], user.role if user else None, action, route,
                       query[:MAX_QUERY], rows, address))[0]


def counted(storage: Storage, entry: int, rows: int) -> None:
    """An entry's rows, known once an export has streamed them (the audit log's own CSV: counted
    as sent, never by a count of the whole table)."""
    with storage.transaction() as tx:
        tx.execute("UPDATE office_audit SET row_count = ? WHERE id = ?", (rows, entry))


def failures_from(tx: Tx, storage: Storage, address: str | None, since: datetime) -> int:
    if address is None:
        return 0
    return tx.one("SELECT COUNT(*) FROM office_audit WHERE action = 'sign_in_failed' AND address = ? AND at > ?",
                  (address, storage.timestamp(since)))[0]


def entries(storage: Storage, before: int | None = None, limit: int = PAGE_ROWS) -> list[Entry]:
    """The newest first; `before`: an entry's id, for the page after the one that ended with it."""
    where, params = ("WHERE id < ?", [before]) if before else ("", [])
    with storage.read() as tx:
        rows = tx.all(f"SELECT {COLUMNS} FROM office_audit {where} ORDER BY id DESC LIMIT ?", (*params, limit))
    return [Entry(r[0], as_datetime(r[1]), *r[2:]) for r in rows]


def csv_chunks(storage: Storage, entry: int | None = None) -> Iterator[bytes]:
    """The whole log as CSV (UTF-8), oldest first, read and sent a batch at a time (each an id
    range). `entry`: the export's own row, whose row count is the rows sent, written when the
    stream ends (or stops)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    sent = 0
    try:
        yield out.getvalue().encode("utf-8")
        after = 0
        while True:
            with storage.read() as tx:
                rows = tx.all(f"SELECT {COLUMNS} FROM office_audit WHERE id > ? ORDER BY id LIMIT ?",
                              (after, EXPORT_BATCH))
            if not rows:
                return
            out.seek(0)
            out.truncate()
            for r in rows:
                writer.writerow(safe_row([r[0], local(as_datetime(r[1])).isoformat(timespec="seconds"), *r[2:]]))
            sent += len(rows)  # handed over (a download stopped during it may have had them)
            yield out.getvalue().encode("utf-8")
            after = rows[-1][0]
    finally:
        if entry is not None:
            counted(storage, entry, sent)
