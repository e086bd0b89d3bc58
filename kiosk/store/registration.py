"""Registering instruments: one ticket, its lines, its print job and its outbox event,
written in one transaction, or nothing at all.

Printing and syncing happen after the commit, from the rows written here, so a crash
or a dead printer loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from db.inserts import insert
from db.models import Device, OutboxEvent, PrintJob, database_proxy, utc_now
from kiosk.domain.clock import local
from kiosk.domain.fees import Estimate, EstimateRequest, LineRequest, Policy, estimate
from kiosk.domain.fingerprint import policy_hash
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import derive_prefix, ticket_number, uuid7
from kiosk.domain.ticketcode import CodeLine, TicketRecord, encode, lines_bytes
from kiosk.domain.validation import FieldError, clean_email, is_mobile
from kiosk.domain.workdays import expected_ready
from kiosk.store.catalog import LoadedCatalog
from kiosk.store.keys import signing_key
from kiosk.store.numbering import counter_name
from kiosk.store.organisations import remember as remember_organisation
from kiosk.store.tickets import (
    LINE_TEXTS,
    CustomerDetails,
    TextRefused,
    clean_customer,
    clean_field,
    estimate_json,
    store_ticket,
)

if TYPE_CHECKING:
    from kiosk.domain import events

PICKUP = ("in_person", "post")


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


def _next(name: str) -> int:
    """Bump a named counter; call inside the writing transaction."""
    return database_proxy.execute_sql(
        "INSERT INTO counter (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value", (name,)
    ).fetchone()[0]


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
    # than inside the transaction: the event's customer, the code's lines as bytes
    # (ticketcode.lines_bytes), and the event's JSON but for its "ticket" (`_event_json`).
    event_customer: events.Customer
    code_line_bytes: tuple[bytes, ...]
    event_rest_json: str


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
    try:
        code_line_bytes = lines_bytes(code_lines)
    except ValueError as e:  # a line its code cannot carry: refused now, not inside the transaction
        raise RegistrationError("lines", str(e)) from None
    return PreparedRegistration(
        customer=customer,
        registration=reg,
        catalog=catalog,
        estimate=priced,
        estimate_json=estimate_json(priced),
        certificate_name=certificate_name,
        lines=lines,
        code_lines=code_lines,
        policy_hash=policy_hash(policy),
        event_customer=event_customer,
        code_line_bytes=code_line_bytes,
        event_rest_json=events.to_json({"customer": event_customer, "lines": list(lines), **_notify(reg, customer)}),
    )


def _notify(reg: Registration, customer: CustomerDetails) -> dict:
    """The event's `notify` when the customer asked for notices (kiosk/domain/events.py Notify), else nothing."""
    from kiosk.domain import events

    if not reg.notify:
        return {}
    return {"notify": events.Notify(language=cast(events.Language, reg.language), sms=is_mobile(customer.phone),
                                    email=clean_email(reg.email) or None)}


def _event_json(rest_json: str, ticket_json: str) -> str:
    """`events.to_json` of the ticket.registered event: `rest_json`, the JSON of its other fields
    (PreparedRegistration.event_rest_json), with "ticket" (`ticket_json`, events.to_json of it)
    added last, where its sorted keys put it. The same text to the byte (tests/test_registration.py),
    without writing the customer and the lines again."""
    return f'{rest_json[:-1]}, "ticket": {ticket_json}}}'


def commit(prepared: PreparedRegistration, device: Device, cal: Calendar = WEEKENDS_ONLY,
           now: datetime | None = None) -> RegisteredTicket:
    """The one transaction: customer, ticket (with its signed code), lines, print job, outbox
    event, or nothing. `cal`: the institute's days off, for the ready date the receipt promises
    (the event carries it, so the back office sees the same promise). `now`: the clock, for tests."""
    from kiosk.domain import events

    reg, priced = prepared.registration, prepared.estimate
    now = now or utc_now()
    moment = local(now)
    local_day = moment.date()
    ready_on = expected_ready(moment, priced.turnaround_days, cal)
    uid, event_uid = uuid7(), uuid7()
    key = signing_key(device.uid)  # cached: no file read per registration
    with database_proxy.atomic():
        number = ticket_number(device.prefix, local_day, _next(counter_name(device.prefix, local_day)))
        code = encode(TicketRecord(
            ticket_uid=uid, number=number, device_uid=device.uid, created_at=now,
            catalog_version=prepared.catalog.version, lines=prepared.code_lines, total_fen=priced.total_fen,
            urgent=reg.urgent, catalog_hash=prepared.catalog.content_hash, policy_hash=prepared.policy_hash,
        ), key, prepared.code_line_bytes)
        ticket = events.Ticket(
            uid=uid, number=number, device=device.uid, created_at=now, catalog_version=priced.catalog_version,
            policy=priced.policy_id, urgent=reg.urgent, pickup=reg.pickup, certificates=reg.certificates,
            certificate_name=prepared.certificate_name, total_fen=priced.total_fen, code=code,
            ready_on=ready_on, urgent_hours=cast(events.UrgentHours | None, priced.urgent_hours))
        registered = events.Registered(ticket=ticket, customer=prepared.event_customer, lines=list(prepared.lines))
        ticket_id = store_ticket(registered, prepared.catalog, prepared.estimate_json, priced.quoted_lines,
                                 device_id=device.id, stored_at=now)
        job_id = insert(PrintJob, ticket=ticket_id, kind="ticket", state="pending", attempts=0, created_at=now,
                        updated_at=now, lang=reg.language)
        insert(OutboxEvent, uid=event_uid, kind="ticket.registered", created_at=now,
               payload=_event_json(prepared.event_rest_json, events.to_json(ticket)))
        remember_organisation(prepared.customer.organisation, prepared.customer.contact, now)  # completes it next time
    return RegisteredTicket(ticket_id, uid, number, now, priced, job_id, event_uid, code)


def register(reg: Registration, catalog: LoadedCatalog, policy: Policy, device: Device,
             cal: Calendar = WEEKENDS_ONLY, now: datetime | None = None) -> RegisteredTicket:
    """Validate, price and store a registration atomically."""
    return commit(prepare(reg, catalog, policy), device, cal, now)
