"""Periodic verification due (周检提醒) in the back office, read from the due_item read model
(central/readmodels/due_item.py), a page at a time.

The rule is a desk's `kiosk due` (kiosk/domain/due.py): the verification lines of every
picked-up ticket's intake, not refused, whose fee row has a cycle; due = the pickup's local date
+ the cycle; for the same fee row and serial number the latest pickup wins. What central knows
differently from a desk:
- The fee rows are those of the LATEST catalogue version imported here (a desk uses the
  version the ticket was priced with): a cycle changed since is the cycle that applies to the
  next verification. A code the latest version no longer has is left out (no cycle known).
- A ticket taken in at two desks while both were offline has two received events: the
  earliest is its intake; the earliest pickup is its pickup.
- Organisation, contact and phone come from the ticket's registration (blank until it has
  arrived), read from ticket_state with each page.

Order: (due_on, number, line), a keyset: a page starts `from` a row's key (inclusive) and reads
`size` rows of an index range. Counts stop at COUNT_CAP (a count reads every row it counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.domain.clock import today as institute_today
from kiosk.domain.due import DueInstrument

from .certificate_checks import ALL_FAILED, PASSED
from .readmodels.due_item import latest_catalog
from .storage import Storage, Tx

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
COUNT_CAP = 10_000  # counted exactly up to here; beyond, "more than"
EXPORT_CHUNK = 5_000  # rows a statement while a CSV streams (each its own short read)


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page starts: a row's (due_on, number, line)."""

    due_on: str
    number: str
    line: int

    def text(self) -> str:
        return f"{self.due_on}_{self.number}_{self.line}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The text a page's link carries; ValueError if it is not one."""
        due_on, sep, rest = text.partition("_")
        number, sep2, line = rest.rpartition("_")
        date.fromisoformat(due_on)
        if not (sep and sep2 and number and line.isascii() and line.isdigit() and len(due_on) == 10):
            raise ValueError(f"from: a row's key like 2026-07-31_P1-260601-0001_0, not {text!r}")
        return cls(due_on, number, int(line))


@dataclass(frozen=True)
class Count:
    n: int
    more: bool  # True: at least n (COUNT_CAP), not counted further


@dataclass(frozen=True)
class DuePage:
    today: date
    within_days: int
    overdue_included: bool
    catalog_version: int | None  # None: no catalogue imported, so no cycles known
    size: int
    items: list[DueInstrument]
    next: Cursor | None
    previous: Cursor | None
    total: Count
    overdue: Count
    site: str | None = None  # one site's tickets only
    sites: tuple[str, ...] = ()  # the sites there are (the form's choice)


@dataclass(frozen=True)
class DueReport:
    today: date
    within_days: int
    overdue_included: bool
    catalog_version: int | None
    items: list[DueInstrument]


# The quantity reminded: the line's instruments less those found 不合格 at the dispatch check (PASSED).
COLUMNS = ("d.due_on, d.number, d.line, s.organisation, s.contact, s.phone, d.name_zh, d.name_en, d.code, "
           f"d.serial_number, {PASSED}, d.picked_up_on, d.cycle_months")
FROM = "FROM due_item d LEFT JOIN ticket_state s ON s.id = d.ticket"  # the ticket's id (schema 26)
KEY = "(d.due_on, d.number, d.line)"
ORDER = "d.due_on, d.number, d.line"


def _where(today: date, within_days: int, overdue: bool, site: str | None = None) -> tuple[str, list]:
    where, params = ["d.latest = 1", "d.due_on IS NOT NULL", "d.due_on <= ?"], [
        (today + timedelta(days=within_days)).isoformat()]
    where.append(ALL_FAILED)  # every instrument found 不合格 at the dispatch check: never reminded
    if site is not None:  # the due items of one site's tickets (ticket.site): due_item_site's range
        where.insert(0, "d.site = ?")
        params.insert(0, site)
    if not overdue:
        where.append("d.due_on >= ?")
        params.append(today.isoformat())
    return " AND ".join(where), params


def _read(tx: Tx, where: str, params: list, order: str, limit: int) -> list[tuple[Cursor, DueInstrument]]:
    rows = tx.all(f"SELECT {COLUMNS} {FROM} WHERE {where} ORDER BY {order} LIMIT {int(limit)}", params)
    return [(Cursor(due_on, number, line),
             DueInstrument(date.fromisoformat(due_on), number, organisation or "", contact or "", phone or "",
                           name_zh, name_en, code, serial, quantity, date.fromisoformat(picked_up_on), cycle))
            for due_on, number, line, organisation, contact, phone, name_zh, name_en, code, serial, quantity,
            picked_up_on, cycle in rows]


def _count(tx: Tx, where: str, params: list) -> Count:
    n = tx.one(f"SELECT count(*) FROM (SELECT 1 FROM due_item d WHERE {where} LIMIT {COUNT_CAP + 1}) capped",
               params)[0]
    return Count(min(n, COUNT_CAP), n > COUNT_CAP)


def _after(cursor: Cursor | None, sign: str) -> tuple[str, list]:
    if cursor is None:
        return "", []
    return f" AND {KEY} {sign} (?, ?, ?)", [cursor.due_on, cursor.number, cursor.line]


def due_page(storage: Storage, within_days: int, today: date | None = None, *, overdue: bool = True,
             start: Cursor | None = None, size: int = PAGE_SIZE, site: str | None = None) -> DuePage:
    """One page of the instruments due from `today` to `today + within_days` (and, with
    `overdue`, those already past their date), earliest first, from `start` on."""
    today = today or institute_today()
    where, params = _where(today, within_days, overdue, site)
    with storage.read() as tx:
        version, _ = latest_catalog(tx)
        sites = tuple(s for (s,) in tx.all("SELECT DISTINCT site FROM device ORDER BY site"))
        tail, more = _after(start, ">=")
        rows = _read(tx, where + tail, params + more, ORDER, size + 1)
        tail, more = _after(start, "<")
        before = _read(tx, where + tail, params + more, "d.due_on DESC, d.number DESC, d.line DESC", size) \
            if start else []
        total = _count(tx, where, params)
        late = _count(tx, where + " AND d.due_on < ?", [*params, today.isoformat()]) if overdue else Count(0, False)
    return DuePage(today, within_days, overdue, version, size, [item for _, item in rows[:size]],
                   rows[size][0] if len(rows) > size else None, before[-1][0] if before else None, total, late,
                   site, sites)


def exported(storage: Storage, within_days: int, today: date, *, overdue: bool, site: str | None = None
             ) -> Iterator[list[DueInstrument]]:
    """Every item, in chunks, each read in its own short transaction (an export holds no
    snapshot open while the client downloads)."""
    where, params = _where(today, within_days, overdue, site)
    start = None
    while True:
        tail, more = _after(start, ">")
        with storage.read() as tx:
            rows = _read(tx, where + tail, params + more, ORDER, EXPORT_CHUNK)
        if rows:
            yield [item for _, item in rows]
        if len(rows) < EXPORT_CHUNK:
            return
        start = rows[-1][0]


def due_report(storage: Storage, within_days: int, today: date | None = None, *, overdue: bool = True) -> DueReport:
    """Every item at once (the whole list: tests and the bench's in-process timing)."""
    today = today or institute_today()
    with storage.read() as tx:
        version, _ = latest_catalog(tx)
    items = [item for chunk in exported(storage, within_days, today, overdue=overdue) for item in chunk]
    return DueReport(today, within_days, overdue, version, items)
