"""The office's ticket list (/office/tickets): newest first, filtered, searched, in keyset pages,
read from the read models (ticket_state's schema-8 columns, ticket_serial), never the events.

One search box finds a ticket by what a clerk has at hand, each kind an index range:
- its number, whole or a prefix (K7Q-2611), any case, full-width folded;
- its organisation, by a part of the name: the organisations' names (organisation_name, a few
  thousand rows) give the keys, then tickets by key; a name never offered to other customers (a
  private person's, central/organisations.py) is found when typed in full;
- the customer's phone, whole (7 digits or more) or its last 4 digits;
- an instrument's serial number, whole.
Each kind is asked on its own (one index each: an OR of them would let the database walk every
ticket) and the answers merged: the newest `size` of a union are among each part's newest `size`.

Pages are keyset pages on (first_at, id) (ticket_state's id, schema 26; (first_at, uid) before:
tickets listed at the same microsecond are now in id order): a page is "after" or "before" a row,
so tickets that arrive meanwhile neither repeat nor skip a row of the pages that follow. A link
names its row by first_at and uid, as before; the uid's id is looked up when the page is read.

Filters by the counter (clerk desk) that took a ticket in, the clerk who did and the lab field of
its lines are ranges of ticket_facet (schema 12, central/readmodels/ticket_facet.py), whose key
carries the list's order: with no text typed, the first of them drives the page (a range of its
key, newest first) and the others are probes of that key; with text, each kind's query probes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from kiosk.domain.clock import zone
from kiosk.domain.organisations import MIN_TYPED, search_key
from kiosk.domain.vocabulary import normalise_token

from . import pagelinks
from .readmodels.ticket_serial import serial_key
from .readmodels.ticket_state import fold_number, phone_digits
from .storage import Storage, Tx, as_datetime

PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
MAX_QUERY = 100  # characters of the search box
STATUSES = ("registered", "received", "ready", "picked_up")  # by rank
PHONE_TYPED = re.compile(r"[0-9 +()\-]+")  # what a phone is typed with
NUMBER_TYPED = re.compile(r"[0-9A-Z\-]+")
TICKET_NUMBER = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{1,8}-[0-9]{6}-[0-9]{4,6})(?![0-9])")  # kiosk/domain/ids.py
LONG_DIGITS = re.compile(r"[0-9]{7,}")  # a phone inside a query (ticket numbers' runs are 6 digits at most)
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # kiosk/domain/events.py, as tickets have them
# A page link (central/pagelinks.py): `n` the page after (older), `p` the page before (newer) a
# row, the row as its first_at and its uid.
PAGE_LINK = f"[np]{pagelinks.MICROS}\\.{UUID}"


@dataclass(frozen=True)
class Cursor:
    """A row's place in the list's order."""

    first_at: datetime
    uid: str

    def link(self, after: bool) -> str:
        return pagelinks.link(after, pagelinks.micros(self.first_at), self.uid)

    @staticmethod
    def parse(text: str) -> tuple[Cursor, bool]:
        """A page link (PAGE_LINK, checked by the caller): (the row, whether the page is after it)."""
        (micros, uid), after = pagelinks.parts(text, 2)
        return Cursor(pagelinks.moment(micros), uid), after


@dataclass(frozen=True)
class Search:
    text: str = ""
    status: str | None = None
    site: str | None = None
    kiosk: str | None = None  # the registering kiosk's device uid
    counter: str | None = None  # a clerk desk's device uid: the tickets it took in
    clerk: str | None = None  # a clerk's username: the tickets they took in
    field: str | None = None  # a lab field's letter (kiosk.domain.vocabulary FIELDS): any line of that field
    start: date | None = None  # local days, inclusive
    end: date | None = None
    size: int = PAGE_SIZE
    after: Cursor | None = None
    before: Cursor | None = None


@dataclass
class Page:
    rows: list[dict]
    next: Cursor | None
    previous: Cursor | None
    kiosks: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, name, site) for the filter
    sites: list[str] = field(default_factory=list)
    counters: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, name, site) of the clerk desks


def masked_query(text: str) -> str:
    """A query as the audit log keeps it: a phone number's digits but the last 4 starred, full-width
    digits folded first (１３８１２３４５６７８ is a phone too); ticket numbers kept as typed."""
    parts = TICKET_NUMBER.split(normalise_token(text))
    return "".join(part if n % 2 else _masked(part) for n, part in enumerate(parts))


def _masked(text: str) -> str:
    joined = re.sub(r"(?<=[0-9])[ \-](?=[0-9])", "", text)  # 138-1234-5678 is one run of digits
    return LONG_DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], joined)


def _kinds(tx: Tx, storage: Storage, text: str) -> list[tuple[str, list]]:
    """Each kind of match the typed text may be, as (condition on ticket_state s, parameters)."""
    text = normalise_token(text)
    if not text:
        return []
    found = []
    number = "".join(fold_number(text).split())
    if NUMBER_TYPED.fullmatch(number):  # a prefix: the range [number, number with its last character + 1)
        found.append(("s.number_fold >= ? AND s.number_fold < ?", [number, number[:-1] + chr(ord(number[-1]) + 1)]))
    if PHONE_TYPED.fullmatch(text):
        digits = phone_digits(text)
        if len(digits) == 4:
            found.append(("s.phone_tail = ?", [digits]))
        elif len(digits) >= 7:
            found.append(("s.phone_tail = ? AND s.phone_key = ?", [digits[-4:], digits]))
    key = search_key(text)
    if len(key) >= MIN_TYPED:
        like = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        keys = sorted({key, *(k for (k,) in tx.all("SELECT key FROM organisation_name WHERE key LIKE ? ESCAPE '\\'",
                                                    (like,)))})
        where, params = storage.in_list("s.org_key", keys)
        found.append((where, params))
    serial = serial_key(text)
    if serial:
        found.append(("s.id IN (SELECT ticket FROM ticket_serial WHERE serial_key = ?)", [serial]))
    return found


def facets(search: Search) -> list[tuple[str, str]]:
    """The search's ticket_facet filters, as (facet, value)."""
    return [(name, value) for name, value in (("counter", search.counter), ("clerk", search.clerk),
                                              ("field", search.field)) if value is not None]


def _filters(tx: Tx, storage: Storage, search: Search, at: str = "s.first_at") -> tuple[list[str], list]:
    """The filters' conditions; `at`: the list's time column the query ranges over."""
    where: list[str] = []
    params: list = []
    if search.status is not None:
        where.append("s.status = ?")
        params.append(STATUSES.index(search.status))
    if search.site is not None:  # registered by one of the site's devices (their ids, schema 26)
        devices = [i for (i,) in tx.all("SELECT id FROM device WHERE site = ?", (search.site,))]
        condition, more = storage.in_list("s.kiosk_id", devices) if devices else ("1 = 0", [])
        where.append(condition)
        params += more
    if search.kiosk is not None:
        where.append("s.kiosk_id = (SELECT id FROM device WHERE uid = ?)")
        params.append(search.kiosk)
    if search.start is not None:
        where.append(f"{at} >= ?")
        params.append(storage.timestamp(_midnight(search.start)))
    if search.end is not None:
        where.append(f"{at} < ?")
        params.append(storage.timestamp(_midnight(search.end + timedelta(days=1))))
    return where, params


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone())


COLUMNS = ("uid", "number", "status", "first_at", "registered_at", "organisation", "contact", "phone", "instruments",
           "received_at", "ready_at", "picked_up_at", "id")


def tickets(storage: Storage, search: Search) -> Page:
    """One page of the list: `search.size` tickets newest first, after or before a cursor."""
    backwards = search.before is not None
    cursor = search.before or search.after
    probes = facets(search)
    if search.counter is not None:  # a counter as ticket_facet holds it: its device id (schema 26)
        with storage.read() as tx:
            probes = [(name, _counter_value(tx, value) if name == "counter" else value) for name, value in probes]
    # No text but a facet: the facet's key range drives the page (its first_at is the ticket's).
    drive = probes.pop(0) if probes and not search.text.strip() else None
    source, at, tie = (("ticket_facet f JOIN ticket_state s ON s.id = f.ticket", "f.first_at", "f.ticket") if drive
                       else ("ticket_state s", "s.first_at", "s.id"))
    with storage.read() as tx:
        filters, filter_params = _filters(tx, storage, search, at)
        if drive:
            filters.insert(0, "f.facet = ? AND f.value = ?")
            filter_params[:0] = list(drive)
        # A probe of ticket_facet's key (facet, value, first_at, ticket) per row the page walks: a
        # scalar subquery, which PostgreSQL keeps per row (an EXISTS it turns into a join, and then
        # hashed every row of the facet: 165-420 ms at 1 M tickets, against a few ms probing).
        for name, value in probes:
            filters.append("(SELECT 1 FROM ticket_facet g WHERE g.facet = ? AND g.value = ? "
                           "AND g.first_at = s.first_at AND g.ticket = s.id) IS NOT NULL")
            filter_params += [name, value]
        if cursor is not None:
            filters.append(f"({at}, {tie}) {'>' if backwards else '<'} (?, ?)")
            filter_params += [storage.timestamp(cursor.first_at), _cursor_id(tx, cursor, backwards)]
        order = "ASC" if backwards else "DESC"
        parts = _kinds(tx, storage, search.text) if search.text.strip() else [("1 = 1", [])]
        found: dict[str, tuple] = {}
        for condition, params in parts:
            sql = (f"SELECT {', '.join('s.' + c for c in COLUMNS)} FROM {source} "
                   f"WHERE {' AND '.join([condition, *filters])} "
                   f"ORDER BY {at} {order}, {tie} {order} LIMIT {search.size + 1}")
            for values in tx.all(sql, [*params, *filter_params]):
                found[values[0]] = values
        rows = [dict(zip(COLUMNS, values)) for values in found.values()]
        for row in rows:
            for column in ("first_at", "registered_at", "received_at", "ready_at", "picked_up_at"):
                row[column] = as_datetime(row[column])
            row["status"] = STATUSES[row["status"]]
        rows.sort(key=lambda r: (r["first_at"], r["id"]), reverse=not backwards)
        more = len(rows) > search.size
        rows = rows[:search.size]
        if backwards:
            rows.reverse()
        _where_registered(tx, storage, rows)
        kiosks = [tuple(r) for r in tx.all("SELECT uid, name, site FROM device WHERE role = 'kiosk' "
                                           "ORDER BY name, uid")]
        sites = [site for (site,) in tx.all("SELECT DISTINCT site FROM device ORDER BY site")]
        counters = [tuple(r) for r in tx.all("SELECT uid, name, site FROM device WHERE role = 'clerk' "
                                             "ORDER BY name, uid")]
    places = [Cursor(row["first_at"], row["uid"]) for row in rows]
    return Page(rows, *pagelinks.neighbours(places, more, search.after, search.before), kiosks, sites, counters)


def _counter_value(tx: Tx, uid: str) -> str:
    """A counter's value in ticket_facet: its device id as text; a uid no device has matches nothing."""
    row = tx.one("SELECT id FROM device WHERE uid = ?", (uid,))
    return str(row[0]) if row is not None else ""


def _cursor_id(tx: Tx, cursor: Cursor, backwards: bool) -> int:
    """The id of the link's row. A ticket gone meanwhile (every fact of it voided or erased): the
    page starts after every ticket listed at its first_at (0 and 2**63 - 1 bound every id)."""
    row = tx.one("SELECT id FROM ticket_state WHERE uid = ?", (cursor.uid,))
    if row is not None:
        return row[0]
    return 2**63 - 1 if backwards else 0


def _where_registered(tx: Tx, storage: Storage, rows: list[dict]) -> None:
    """Each row's site and registering kiosk (ticket owners, central/trust.py), for the page's rows only."""
    for row in rows:
        row["site"], row["kiosk"] = None, None
    if not rows:
        return
    where, params = storage.in_list("t.uid", [row["uid"] for row in rows])
    owners = {uid: (site, name) for uid, site, name in tx.all(
        f"SELECT t.uid, t.site, d.name FROM ticket t LEFT JOIN device d ON d.id = t.device_id WHERE {where}", params)}
    for row in rows:
        row["site"], row["kiosk"] = owners.get(row["uid"], (None, None))
