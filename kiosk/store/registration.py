"""Registering instruments: one ticket, its lines, its print job and its outbox event,
written in one transaction, or nothing at all.

Printing and syncing happen after the commit, from the rows written here, so a crash
or a dead printer loses nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar, cast

from db.models import Device, OutboxEvent, PrintJob, Ticket, database_proxy, utc_now
from kiosk.domain.clock import local
from kiosk.domain.fees import Estimate, EstimateRequest, LineRequest, Policy, estimate
from kiosk.domain.fingerprint import policy_hash
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import day_of_numbers, derive_prefix, numbered, uuid7
from kiosk.domain.ticketcode import CodeLine, Unnumbered, sign, unnumbered
from kiosk.domain.validation import FieldError, clean_email, is_mobile
from kiosk.domain.workdays import expected_ready
from kiosk.store.catalog import LoadedCatalog
from kiosk.store.keys import signing_key
from kiosk.store.numbering import counter_name
from kiosk.store.organisations import count_seen, remembered
from kiosk.store.rows import peewee_errors
from kiosk.store.tickets import (
    LINE_TEXTS,
    CustomerDetails,
    TextRefused,
    TicketRows,
    clean_customer,
    clean_field,
    estimate_json,
    insert_sql,
    insert_ticket,
    ticket_rows,
)

if TYPE_CHECKING:
    from kiosk.domain import events

PICKUP = ("in_person", "post")
_utc_text = Ticket.created_at.db_value  # a time as the rows store it (db/models.py UtcDateTimeField)


class RegistrationError(ValueError):
    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class InstrumentLine:
    """What the customer says about one kind of instrument, beyond what prices it."""

    pricing: LineRequest
    model: str = ""
    serial_number: str = ""
    manufacturer: str = ""
    requirements: str = ""
    repair_if_fails: bool = False


@dataclass(frozen=True)
class Registration:
    customer: CustomerDetails
    lines: tuple[InstrumentLine, ...]
    urgent: str | None = None
    pickup: str = "in_person"
    certificates: int = 1
    certificate_name: str = ""  # empty: the organisation
    language: str = "zh"  # the customer's: the receipt is printed in it
    # Notices (central/notices/): told when ready, before the pickup period ends, when due; default off.
    # By SMS to the phone given (if a mobile), and by e-mail to `email` if given. They go in `language`.
    notify: bool = False
    email: str = ""


@dataclass(frozen=True)
class RegisteredTicket:
    id: int
    uid: str
    number: str
    created_at: datetime
    estimate: Estimate
    print_job_id: int
    event_uid: str
    code: str  # the signed ticket code its QR carries (kiosk/domain/ticketcode.py)


def ensure_device(prefix: str = "", role: str = "kiosk") -> Device:
    """This node's identity, created once on first start, and its signing key (kiosk/store/keys.py:
    created on first start too; KeyFileError, an OSError, if the key file is unsafe)."""
    with database_proxy.atomic():
        device = Device.select().order_by(Device.id).first()
        if device is None:
            uid = uuid7()
            device = Device.create(uid=uid, prefix=prefix or derive_prefix(uid), role=role, created_at=utc_now())
    signing_key(device.uid)  # loaded and checked now, at start-up, not at the first registration
    return device


# The registration's own statements, bound straight on the connection inside its transaction
# (the ticket's rows are kiosk/store/tickets.py write_ticket's).
_NEXT = ("INSERT INTO counter (name, value) VALUES (?, 1) "
         "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value")
_PRINT_JOB = insert_sql(PrintJob, ("ticket_id", "kind", "state", "attempts", "created_at", "updated_at", "lang"))
_OUTBOX = insert_sql(OutboxEvent, ("uid", "kind", "created_at", "payload"))


@dataclass(frozen=True)
class PreparedRegistration:
    """A validated, priced registration, ready to commit. Pure data: no ids, no I/O yet."""

    customer: CustomerDetails  # cleaned
    registration: Registration
    catalog: LoadedCatalog  # the version it was priced with: its lines' fee rows
    estimate: Estimate
    estimate_json: str
    certificate_name: str
    lines: tuple[events.Line, ...]  # as the ticket's rows and its event carry them
    code_lines: tuple[CodeLine, ...]  # the same, as the ticket code carries them: add-ons and amounts too
    policy_hash: bytes  # of the policy it was priced with (kiosk/domain/fingerprint.py), for its code
    # What does not depend on the number, the ticket's uid or the time, written once here rather
    # than inside the transaction: the event's customer, the code's record but for those
    # (ticketcode.unnumbered), and the event's JSON but for its "ticket" (`_event_json`).
    event_customer: events.Customer
    code_parts: Unnumbered
    event_rest_json: str
    # ... and the rows but for what only the transaction knows (kiosk/store/tickets.py ticket_rows),
    # and the organisation name the customer screen completes next time, if it may (organisations.remembered).
    rows: TicketRows
    organisation: tuple[str, str] | None


def prepare(reg: Registration, catalog: LoadedCatalog, policy: Policy) -> PreparedRegistration:
    """Validate and price. Raises RegistrationError / EstimateError; writes nothing."""
    from kiosk.domain import events  # here, not at import: start-up imports this module (ensure_device)

    try:
        customer = clean_customer(reg.customer)
        texts = [{k: clean_field(getattr(line, k), f"lines[{i}].{k}") for k in LINE_TEXTS}
                 for i, line in enumerate(reg.lines)]
        certificate_name = clean_field(reg.certificate_name, "certificate_name") or customer.organisation
    except TextRefused as e:
        raise RegistrationError(e.where, e.reason) from None
    if not reg.lines:
        raise RegistrationError("lines", "at least one instrument is required")
    if reg.pickup not in PICKUP:
        raise RegistrationError("pickup", f"not one of {', '.join(PICKUP)}")
    if reg.language not in ("zh", "en"):
        raise RegistrationError("language", "zh or en")
    if not 1 <= reg.certificates <= 10:
        raise RegistrationError("certificates", "1–10 copies")
    try:
        clean_email(reg.email)
    except FieldError:
        raise RegistrationError("email", "not an e-mail address") from None
    priced = estimate(EstimateRequest(tuple(ln.pricing for ln in reg.lines), reg.urgent), catalog.by_code, policy,
                      catalog.version)
    # In the events' vocabulary: the use is one the draft offers (USES), the service the fee row's
    # (checked when the catalogue was imported).
    lines = tuple(
        events.Line(position=i, code=est.code, quantity=line.pricing.quantity,
                    use=cast(events.Use, line.pricing.use), service=cast(events.Service, est.service),
                    points=line.pricing.points, ranges=line.pricing.ranges,
                    metres=None if line.pricing.metres is None else str(line.pricing.metres),
                    ac_dc=line.pricing.ac_dc, extra_data=line.pricing.extra_data, **text,
                    repair_if_fails=line.repair_if_fails,
                    amount_fen=est.amount_fen, free_reason=est.free_reason)
        for i, (line, text, est) in enumerate(zip(reg.lines, texts, priced.lines))
    )
    code_lines = tuple(
        CodeLine(ln.code, ln.quantity, ln.service, ln.use, points=line.pricing.points,
                 ranges=line.pricing.ranges, metres=line.pricing.metres, ac_dc=line.pricing.ac_dc,
                 extra_data=line.pricing.extra_data, amount_fen=est.amount_fen, urgent_fen=est.urgent_fen)
        for ln, line, est in zip(lines, reg.lines, priced.lines))
    event_customer = events.Customer(organisation=customer.organisation, credit_code=customer.credit_code,
                                     address=customer.address, contact=customer.contact, phone=customer.phone)
    hashed_policy = _policy_hash(policy)
    try:
        code_parts = unnumbered(catalog.version, code_lines, priced.total_fen, urgent=reg.urgent,
                                catalog_hash=catalog.content_hash, policy_hash=hashed_policy)
    except ValueError as e:  # a line its code cannot carry: refused now, not inside the transaction
        raise RegistrationError("lines", str(e)) from None
    estimate_text = estimate_json(priced)
    return PreparedRegistration(
        customer=customer,
        registration=reg,
        catalog=catalog,
        estimate=priced,
        estimate_json=estimate_text,
        certificate_name=certificate_name,
        lines=lines,
        code_lines=code_lines,
        policy_hash=hashed_policy,
        event_customer=event_customer,
        code_parts=code_parts,
        event_rest_json=events.to_json({"customer": event_customer, "lines": list(lines), **_notify(reg, customer)}),
        rows=ticket_rows(event_customer, lines, catalog, policy=priced.policy_id, urgent=reg.urgent,
                         pickup=reg.pickup, certificates=reg.certificates, certificate_name=certificate_name,
                         total_fen=priced.total_fen, quoted_lines=priced.quoted_lines,
                         estimate_text=estimate_text),
        organisation=remembered(customer.organisation, customer.contact),
    )


# The content hash of the policy last priced with: a node prices every registration with one Policy
# (kiosk/settings/pricing.py configured_policy), frozen, and hashing it again (its canonical JSON,
# kiosk/domain/fingerprint.py) cost each registration some 0.1 ms.
_hashed: tuple[Policy, bytes] | None = None


def _policy_hash(policy: Policy) -> bytes:
    global _hashed
    kept = _hashed
    if kept is None or kept[0] is not policy:
        kept = _hashed = (policy, policy_hash(policy))
    return kept[1]


def _notify(reg: Registration, customer: CustomerDetails) -> dict:
    """The event's `notify` when the customer asked for notices (kiosk/domain/events.py Notify), else nothing."""
    from kiosk.domain import events

    if not reg.notify:
        return {}
    return {"notify": events.Notify(language=cast(events.Language, reg.language), sms=is_mobile(customer.phone),
                                    email=clean_email(reg.email) or None)}


def _event_json(rest_json: str, ticket_json: str) -> str:
    """`events.to_json` of the ticket.registered event: `rest_json`, the JSON of its other fields
    (PreparedRegistration.event_rest_json), with "ticket" (`ticket_json`, events.ticket_json of it)
    added last, where its sorted keys put it. The same text to the byte (tests/test_registration.py),
    without writing the customer and the lines again."""
    return f'{rest_json[:-1]}, "ticket": {ticket_json}}}'


# What a registration works out from its institute day alone, kept for the few days, devices,
# turnarounds and calendars last asked for: `_of_day`.
_DAYS: dict[tuple[str, date, int, Calendar], tuple[str, str, date | None]] = {}


def _of_day(prefix: str, moment: datetime, turnaround_days: int, cal: Calendar) -> tuple[str, str, date | None]:
    """The name of the day's counter of the ticket numbers, what the day's numbers begin with, and
    the ready date a ticket registered at `moment` (on the institute's clock) is promised;
    expected_ready reads the day of its moment only."""
    key = (prefix, moment.date(), turnaround_days, cal)
    found = _DAYS.get(key)
    if found is None:
        if len(_DAYS) >= 64:
            _DAYS.clear()
        found = _DAYS[key] = (counter_name(prefix, key[1]), day_of_numbers(prefix, key[1]),
                              expected_ready(moment, turnaround_days, cal))
    return found


def commit(prepared: PreparedRegistration, device: Device, cal: Calendar = WEEKENDS_ONLY,
           now: datetime | None = None) -> RegisteredTicket:
    """The one transaction: customer, ticket (with its signed code), lines, print job, outbox
    event, or nothing. `cal`: the institute's days off, for the ready date the receipt promises
    (the event carries it, so the back office sees the same promise). `now`: the clock, for tests.

    Only what needs the ticket's number is done inside the transaction: the number is the day's
    counter, bumped there, and the code signs it (the event carries both). Everything else was
    worked out by `prepare` or is here, before it begins."""
    from kiosk.domain import events

    reg, priced = prepared.registration, prepared.estimate
    now = now or utc_now()
    moment = local(now)
    prefix, device_uid, device_id = device.prefix, device.uid, device.id
    counter, day_part, ready_on = _of_day(prefix, moment, priced.turnaround_days, cal)
    uid, event_uid = uuid7(), uuid7()
    key = signing_key(device_uid)  # cached: no file read per registration
    stamp = _utc_text(now)  # every row's time, as the rows store it
    urgent_hours = cast("events.UrgentHours | None", priced.urgent_hours)

    def write(conn: sqlite3.Connection) -> tuple[str, str, int, int]:
        """The transaction's statements: the ticket's number, code, id and print job's id."""
        number = numbered(day_part, conn.execute(_NEXT, (counter,)).fetchone()[0])
        code = sign(prepared.code_parts, uid, now, number, device_uid, key)
        ticket = events.Ticket(
            uid=uid, number=number, device=device_uid, created_at=now, catalog_version=priced.catalog_version,
            policy=priced.policy_id, urgent=reg.urgent, pickup=reg.pickup, certificates=reg.certificates,
            certificate_name=prepared.certificate_name, total_fen=priced.total_fen, code=code,
            ready_on=ready_on, urgent_hours=urgent_hours)
        ticket_id = insert_ticket(conn, prepared.rows, uid=uid, number=number, device_id=device_id, created=stamp,
                                  code=code, stored=stamp)
        job_id = conn.execute(_PRINT_JOB, (ticket_id, "ticket", "pending", 0, stamp, stamp, reg.language)).lastrowid
        assert job_id is not None  # an INSERT's
        conn.execute(_OUTBOX, (event_uid, "ticket.registered", stamp,
                               _event_json(prepared.event_rest_json, events.ticket_json(ticket))))
        if prepared.organisation is not None:  # the name the customer screen completes next time
            count_seen(prepared.organisation, stamp, conn)
        return number, code, ticket_id, job_id

    number, code, ticket_id, job_id = _in_transaction(write)
    return RegisteredTicket(ticket_id, uid, number, now, priced, job_id, event_uid, code)


T = TypeVar("T")


def _in_transaction(write: Callable[[sqlite3.Connection], T]) -> T:
    """`write(connection)` in one IMMEDIATE transaction, committed, or rolled back if it raises;
    in a savepoint if the caller has a transaction open (as peewee's `atomic` nests). The statements
    are bound on the connection itself, and the transaction begun and ended there: peewee's
    `atomic` and `execute_sql` add some 20 us to a registration (bench/registration.py, without
    fsync). Errors are peewee's, as `execute_sql` raises them."""
    db = database_proxy.obj
    if db.in_transaction():
        with db.atomic(), peewee_errors:
            return write(db.connection())
    with peewee_errors:
        conn = db.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = write(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return done


def register(reg: Registration, catalog: LoadedCatalog, policy: Policy, device: Device,
             cal: Calendar = WEEKENDS_ONLY, now: datetime | None = None) -> RegisteredTicket:
    """Validate, price and store a registration atomically."""
    return commit(prepare(reg, catalog, policy), device, cal, now)
