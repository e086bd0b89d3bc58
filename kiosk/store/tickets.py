"""A ticket's rows, written one way whichever path brings the ticket: the kiosk's own
registration (kiosk/store/registration.py), a desk taking a ticket in from its signed code
alone (kiosk/store/desk.py import_ticket) and a ticket pulled from central (kiosk/sync/feed.py).

Each path describes the ticket as the `ticket.registered` event carries it
(kiosk/domain/events.py Registered) and calls `store_ticket`; the rows' columns are listed here
only. Also one rule for pricing a ticket again from its lines (`price_again`) and keeping the
figures its receipt and signed code say (`as_receipt`, `price_basis`), one way to
clean a ticket's free text (`clean_field`, kiosk.domain.validation.clean_text; `refuse_hidden` for
what other nodes' events bring) and one way to make another node's device row (`foreign_device`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from weakref import WeakKeyDictionary

import peewee

from db.inserts import insert
from db.models import Customer, Device, Ticket, TicketLine, database_proxy, utc_now
from kiosk.domain.fees import Estimate, EstimateError, EstimateRequest, LineRequest, Policy, estimate
from kiosk.domain.hidden_text import hidden_at
from kiosk.domain.validation import MAX_TEXT, FieldError, clean_text
from kiosk.settings.pricing import configured_policy
from kiosk.store.catalog import LoadedCatalog, latest_version, load_catalog
from kiosk.store.rows import peewee_errors

if TYPE_CHECKING:  # the event shapes (msgspec) load with the first ticket stored, not at start-up
    from kiosk.domain import events
    from kiosk.domain.events import Registered
    from kiosk.domain.ticketcode import TicketRecord

CUSTOMER_FIELDS = ("organisation", "credit_code", "address", "contact", "phone")
LINE_TEXTS = ("model", "serial_number", "manufacturer", "requirements")


@dataclass(frozen=True)
class CustomerDetails:
    organisation: str
    credit_code: str = ""
    address: str = ""
    contact: str = ""
    phone: str = ""


# ---- free text ---------------------------------------------------------------------------------

# FieldError keys (kiosk/domain/validation.py) as the store's errors say them: to an operator or
# a log, in English; a customer sees the screens' own words for the same keys.
_REASONS = {
    "error.required": "required",
    "error.too_long": "longer than {max} characters",
    "error.control_chars": "contains control characters",
    "error.emoji": "contains characters a receipt printer cannot print",
}


class TextRefused(ValueError):
    """Free text that `clean_text` refuses; `where` names the field, `error` is the FieldError."""

    def __init__(self, where: str, error: FieldError):
        self.where, self.error = where, error
        self.reason = _REASONS.get(error.key, error.key).format(**error.values)
        super().__init__(f"{where}: {self.reason}")


def clean_field(value: str | None, where: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    """Free text of a ticket (a name, a serial number, a condition...), cleaned as every screen
    cleans it: widths folded, whitespace collapsed; control and invisible format characters
    (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width spaces) and emoji refused. TextRefused."""
    try:
        return _clean_text(value or "", required, max_length)
    except FieldError as e:
        raise TextRefused(where, e) from None


# The same texts come again and again (the organisations of returning customers, contacts, empty
# fields): a desk catching up cleans some twenty a ticket. A refusal (an exception) is not kept.
@lru_cache(maxsize=4096)
def _clean_text(value: str, required: bool, max_length: int) -> str:
    return clean_text(value, required=required, max_length=max_length)


def refuse_hidden(value: object, where: str) -> None:
    """Text another node wrote, as central relays its events (a step's intake, a rating's comment,
    a note, a reason, a clerk's name): refused (TextRefused, naming the field) if any of it holds a
    character `clean_field` refuses as hidden; this node keeps none, whichever path brings it."""
    found = hidden_at(value, where)
    if found:
        raise TextRefused(found, FieldError("error.control_chars"))


def clean_customer(customer: CustomerDetails) -> CustomerDetails:
    """TextRefused names the field as customer.<name>."""
    cleaned = {name: clean_field(getattr(customer, name), f"customer.{name}", required=name == "organisation")
               for name in CUSTOMER_FIELDS}
    return CustomerDetails(**{**cleaned, "credit_code": cleaned["credit_code"].upper()})


# ---- pricing again -----------------------------------------------------------------------------


def pricing_catalog(version: int | None, codes: Iterable[str]) -> LoadedCatalog:
    """The catalogue a ticket's lines are priced with again: the version the ticket was priced
    with, when this node has it and it holds every fee row named; else this node's latest, when
    that holds them all (a schedule this node has not received, or rows added since). Neither:
    the ticket's own version if here, else the latest, and pricing names the rows it lacks."""
    codes = set(codes)
    stamp = _stamp(version) if version is not None else None
    own = _loaded(version, stamp) if stamp is not None else None  # None: no rows of it here
    if own is not None and codes <= own.by_code.keys():
        return own
    latest = latest_version()
    newest = own if own is not None and own.version == latest else _loaded(latest, _stamp(latest))
    return newest if own is None or codes <= newest.by_code.keys() else own


# Catalogues loaded, per database and version, with their stamp. A version's rows never change
# (kiosk/store/catalog.py), so one load serves every ticket priced with it: a desk catching up
# prices tens of thousands, and loading a version costs what pricing a hundred tickets does. The
# stamp is read each time (one index lookup): a version rolled back and imported again is loaded anew.
_LOADED: WeakKeyDictionary = WeakKeyDictionary()


def _stamp(version: int | None) -> tuple | None:
    """What tells a version's rows apart (its digest, import time, first row), or None if this
    node has no rows of it."""
    if version is None:
        return None
    stamp = database_proxy.execute_sql(
        "SELECT v.sha256, v.imported_at, min(r.id) FROM catalog_version v JOIN priced_row r ON r.version_id = v.id "
        "WHERE v.id = ?", (version,)).fetchone()
    return None if stamp[2] is None else stamp


def _loaded(version: int | None, stamp: tuple | None) -> LoadedCatalog:
    """`load_catalog(version)`, loaded once per stamp."""
    if stamp is None:
        return load_catalog(version)  # no rows: nothing worth keeping (or LookupError)
    memo = _LOADED.setdefault(database_proxy.obj, {})
    kept = memo.get(version)
    if kept is None or kept[0] != stamp:
        kept = memo[version] = (stamp, load_catalog(version))
    return kept[1]


class MissingFeeRows(EstimateError):
    """Fee rows a ticket names that neither its catalogue version nor this node's latest holds."""

    def __init__(self, codes: Sequence[str], version: int):
        self.codes, self.version = tuple(codes), version
        super().__init__("lines", f"fee rows {', '.join(codes)} are not in this node's catalogue (version {version})")


def price_again(version: int | None, requests: Sequence[LineRequest], urgent: str | None,
                policy: Policy | None = None) -> tuple[LoadedCatalog, Estimate]:
    """A ticket's lines priced again, with `pricing_catalog`'s version and this node's policy
    (kiosk/settings/pricing.py, unless `policy` is given): the catalogue and the estimate.
    MissingFeeRows (every row lacking, named), or EstimateError as `estimate` raises it."""
    codes = [r.item for r in requests]
    catalog = pricing_catalog(version, codes)
    missing = [code for code in dict.fromkeys(codes) if code not in catalog.by_code]
    if missing:
        raise MissingFeeRows(missing, catalog.version)
    priced = estimate(EstimateRequest(tuple(requests), urgent), catalog.by_code, policy or configured_policy(),
                      catalog.version)
    return catalog, priced


def price_basis(code: str | None, catalog: LoadedCatalog, policy: Policy | None = None) -> str:
    """How this node's catalogue (`catalog`, the one it prices the ticket with) and policy compare
    with those the kiosk priced the ticket with, by the content hashes its signed code carries:
    kiosk/domain/repricing.py BASES (same | catalogue_differs | policy_differs | unknown)."""
    from kiosk.domain.fingerprint import policy_hash
    from kiosk.domain.ticketcode import HASH_BYTES, TicketCodeError, read_checked

    try:
        record = read_checked(code) if code else None
    except TicketCodeError:
        record = None
    if record is None or not record.carries_prices:
        return "unknown"
    if record.catalog_hash != catalog.content_hash[:HASH_BYTES]:
        return "catalogue_differs"
    if record.policy_hash != policy_hash(policy or configured_policy())[:HASH_BYTES]:
        return "policy_differs"
    return "same"


def as_receipt(priced: Estimate, record: TicketRecord) -> Estimate:
    """A ticket's lines priced again (`price_again`), with the figures its signed code carries:
    the customer's receipt. Each line's amount and urgent surcharge, and the total, are the
    code's (a desk with another catalogue or policy charges what the receipt says). A format 2
    code, one that leaves lines out, or one whose lines are not these: the estimate as priced."""
    if (not record.carries_prices or record.omitted_lines
            or [ln.code for ln in record.lines] != [ln.code for ln in priced.lines]):
        return priced
    lines = tuple(replace(est, amount_fen=ln.amount_fen, urgent_fen=ln.urgent_fen, quoted=ln.amount_fen is None)
                  for est, ln in zip(priced.lines, record.lines))
    if lines == priced.lines and priced.total_fen == record.total_fen:
        return priced
    subtotal = sum(ln.amount_fen or 0 for ln in lines)
    urgent = sum(ln.urgent_fen or 0 for ln in lines)
    discount = record.total_fen - subtotal - urgent  # the receipt's discounts, whatever this policy's are
    discounts = priced.discounts if sum(d.amount_fen for d in priced.discounts) == discount else ()
    return replace(priced, lines=lines, discounts=discounts, subtotal_fen=subtotal, urgent_fen=urgent,
                   discount_fen=discount, total_fen=record.total_fen, quoted_lines=sum(ln.quoted for ln in lines))


def estimate_json(priced: Estimate) -> str:
    """The estimate as a ticket row keeps it (shown again by receipts and the counters): the JSON
    of `priced.to_dict()`, built by msgspec (dataclasses.asdict costs a desk catching up ~1 ms a ticket)."""
    import msgspec  # here, not at start-up (as the event shapes, above)

    return json.dumps(msgspec.to_builtins(priced), ensure_ascii=False, sort_keys=True, default=str)


# ---- the rows ----------------------------------------------------------------------------------


def foreign_device(uid: str, number: str | None, now: datetime | None = None) -> int:
    """Another node's device row, made on first sight; its id. Its prefix is the one of the
    ticket numbers it issues; a device first seen through a rating (`number` None: the rating
    kiosk need not be the one that registered the ticket) gets "" (unknown) until a ticket names
    it. This node's own row is the first one (registration.ensure_device) and keeps its prefix."""
    prefix = number.split("-")[0] if number else ""
    found = database_proxy.execute_sql("SELECT id, prefix FROM device WHERE uid = ?", (uid,)).fetchone()
    if found is None:
        return insert(Device, uid=uid, prefix=prefix, role="kiosk", created_at=now or utc_now())
    if not found[1] and prefix:
        database_proxy.execute_sql("UPDATE device SET prefix = ? WHERE id = ?", (prefix, found[0]))
    return found[0]


# ---- a ticket read back --------------------------------------------------------------------
# In plain SQL: a desk catching up on the change feed asks these for every change, and building
# the ORM's query costs several times running it.


class StoredTicket(NamedTuple):
    id: int
    number: str
    status: str
    customer_id: int
    pickup: str
    device_uid: str  # the issuing device's


def stored_ticket(uid: str) -> StoredTicket | None:
    row = database_proxy.execute_sql(
        "SELECT t.id, t.number, t.status, t.customer_id, t.pickup, d.uid FROM ticket t "
        "JOIN device d ON d.id = t.device_id WHERE t.uid = ?", (uid,)).fetchone()
    return None if row is None else StoredTicket(*row)


def line_ids(ticket_id: int) -> list[int]:
    """The ticket's lines' ids, in their order."""
    return [row[0] for row in database_proxy.execute_sql(
        "SELECT id FROM ticket_line WHERE ticket_id = ? ORDER BY position", (ticket_id,))]


def has_step(ticket_id: int, kind: str, event_uid: str) -> bool:
    """Whether the ticket took this step here already, or this very event is here."""
    return database_proxy.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM ticket_event WHERE uid = ?) "
        "OR EXISTS (SELECT 1 FROM ticket_event WHERE ticket_id = ? AND kind = ?)",
        (event_uid, ticket_id, kind)).fetchone()[0] == 1


def set_status(ticket_id: int, status: str) -> None:
    database_proxy.execute_sql("UPDATE ticket SET status = ? WHERE id = ?", (status, ticket_id))


# The rows' columns, listed here only. A ticket's own columns come in two parts: those known only
# in its transaction (its customer's row id, uid, number, issuing device, time and signed code), then
# the rest (TicketRows.ticket), which a registration works out before its transaction begins.
_CUSTOMER_COLUMNS = (*CUSTOMER_FIELDS, "created_at")
_TICKET_COLUMNS = ("customer_id", "uid", "number", "device_id", "created_at", "code",
                   "version_id", "policy_id", "status", "urgent", "pickup", "certificates", "certificate_name",
                   "total_fen", "quoted_lines", "estimate_json")
_LINE_COLUMNS = ("ticket_id", "position", "row_id", "code", "quantity", "use", "service", "points", "ranges",
                 "metres", "ac_dc", "extra_data", *LINE_TEXTS, "repair_if_fails", "amount_fen", "free_reason")


def insert_sql(model: type[peewee.Model], columns: tuple[str, ...]) -> str:
    """An INSERT of these columns' values into the model's table, to bind on the connection."""
    named = ", ".join(f'"{column}"' for column in columns)
    return f'INSERT INTO "{model._meta.table_name}" ({named}) VALUES ({", ".join("?" * len(columns))})'


_CUSTOMER_SQL = insert_sql(Customer, _CUSTOMER_COLUMNS)
_TICKET_SQL = insert_sql(Ticket, _TICKET_COLUMNS)
_LINE_SQL = insert_sql(TicketLine, _LINE_COLUMNS)
_utc_text = Ticket.created_at.db_value  # a time as the rows store it (db/models.py UtcDateTimeField)


@dataclass(frozen=True)
class TicketRows:
    """A ticket's rows as `write_ticket` stores them, but for what only its transaction knows:
    values of `_CUSTOMER_COLUMNS` but the time, of `_TICKET_COLUMNS` from the 7th, of `_LINE_COLUMNS`
    but the ticket's id, per line. Pure data, worked out by `ticket_rows`."""

    customer: tuple
    ticket: tuple
    lines: tuple[tuple, ...]


def ticket_rows(customer: events.Customer, lines: Sequence[events.Line], catalog: LoadedCatalog, *,
                policy: str | None, urgent: str | None, pickup: str | None, certificates: int | None,
                certificate_name: str | None, total_fen: int, quoted_lines: int, estimate_text: str) -> TicketRows:
    """What a ticket's rows hold, from the ticket as its event carries it (texts already cleaned).
    `catalog`: the version its lines' fee rows come from (every code must be in it: KeyError)."""
    return TicketRows(
        customer=tuple(getattr(customer, name) or "" for name in CUSTOMER_FIELDS),
        ticket=(catalog.version, policy or "", "registered", urgent, pickup or "in_person", certificates or 1,
                certificate_name or "", total_fen, quoted_lines, estimate_text),
        lines=tuple((position, catalog.row_ids[ln.code], ln.code, ln.quantity, ln.use, ln.service, ln.points,
                     ln.ranges, ln.metres, ln.ac_dc, ln.extra_data, *(getattr(ln, name) or "" for name in LINE_TEXTS),
                     ln.repair_if_fails, ln.amount_fen, ln.free_reason)
                    for position, ln in enumerate(lines)),
    )


def write_ticket(rows: TicketRows, *, uid: str, number: str, device_id: int, created_at: datetime,
                 code: str | None, stored_at: datetime | None = None) -> int:
    """Write a ticket's customer, ticket and lines rows (`rows`, and what only its transaction
    knows); its id. Call inside the caller's transaction. `stored_at`: the customer row's time
    (default now). Three statements, bound straight on the connection (no SQL built per call);
    errors are peewee's (IntegrityError...), as every other write raises them."""
    created = _utc_text(created_at)
    stored = created if stored_at is created_at else _utc_text(stored_at or utc_now())
    with peewee_errors:
        return insert_ticket(database_proxy.obj.connection(), rows, uid=uid, number=number, device_id=device_id,
                             created=created, code=code, stored=stored)


def insert_ticket(conn: sqlite3.Connection, rows: TicketRows, *, uid: str, number: str, device_id: int, created: str,
                  code: str | None, stored: str) -> int:
    """`write_ticket`'s three statements on `conn`, its times (`created`, the customer row's `stored`)
    as the rows store them: for a caller that binds its transaction's statements there itself and
    raises sqlite3's errors as peewee's (kiosk/store/registration.py commit)."""
    customer_id = conn.execute(_CUSTOMER_SQL, (*rows.customer, stored)).lastrowid
    ticket_id = conn.execute(_TICKET_SQL, (customer_id, uid, number, device_id, created, code, *rows.ticket)).lastrowid
    assert ticket_id is not None  # an INSERT's
    conn.executemany(_LINE_SQL, [(ticket_id, *line) for line in rows.lines])
    return ticket_id


def store_ticket(registered: Registered, catalog: LoadedCatalog, estimate_text: str, quoted_lines: int, *,
                 device_id: int | None = None, stored_at: datetime | None = None) -> int:
    """Write a ticket's customer, ticket and lines rows; its id. Call inside the caller's
    transaction. `registered`: the ticket as its event carries it, texts already cleaned;
    `catalog`: the version its lines' fee rows come from (every code must be in it);
    `device_id`: the issuing device's row (None: looked up, or made: `foreign_device`)."""
    t = registered.ticket
    if device_id is None:
        device_id = foreign_device(t.device, t.number, stored_at)
    rows = ticket_rows(registered.customer, registered.lines, catalog, policy=t.policy, urgent=t.urgent,
                       pickup=t.pickup, certificates=t.certificates, certificate_name=t.certificate_name,
                       total_fen=t.total_fen, quoted_lines=quoted_lines, estimate_text=estimate_text)
    return write_ticket(rows, uid=t.uid, number=t.number, device_id=device_id, created_at=t.created_at,
                        code=t.code, stored_at=stored_at)
