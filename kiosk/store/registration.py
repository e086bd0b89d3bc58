"""Registering instruments: one ticket, its lines, its print job and its outbox event,
written in one transaction, or nothing at all.

Printing and syncing happen after the commit, from the rows written here, so a crash
or a dead printer loses nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from db.inserts import insert, insert_many
from db.models import (
    Customer,
    Device,
    OutboxEvent,
    PrintJob,
    Ticket,
    TicketLine,
    database_proxy,
    utc_now,
)
from kiosk.domain.catalog import normalise_text
from kiosk.domain.clock import local, today
from kiosk.domain.fees import Estimate, EstimateRequest, LineRequest, Policy, estimate
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import derive_prefix, ticket_number, uuid7
from kiosk.domain.ticketcode import CodeLine, TicketRecord, encode
from kiosk.domain.workdays import expected_ready
from kiosk.store.catalog import LoadedCatalog
from kiosk.store.keys import signing_key

MAX_FIELD = 200  # characters in any free-text field of the consignment form
PICKUP = ("in_person", "post")


class RegistrationError(ValueError):
    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class CustomerDetails:
    organisation: str
    credit_code: str = ""
    address: str = ""
    contact: str = ""
    phone: str = ""


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


def _clean(value: str, where: str, required: bool = False) -> str:
    value = normalise_text(value)
    if required and not value:
        raise RegistrationError(where, "required")
    if len(value) > MAX_FIELD:
        raise RegistrationError(where, f"longer than {MAX_FIELD} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise RegistrationError(where, "contains control characters")
    return value


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

    customer: dict  # customer row values (CustomerDetails, cleaned)
    registration: Registration
    estimate: Estimate
    estimate_json: str
    certificate_name: str
    lines: tuple[dict, ...]  # ticket_line values, but for the ticket id
    event_lines: tuple[dict, ...]  # the same, as the outbox event carries them
    code_lines: tuple[CodeLine, ...]  # the same, as the ticket code carries them


def prepare(reg: Registration, catalog: LoadedCatalog, policy: Policy) -> PreparedRegistration:
    """Validate and price. Raises RegistrationError / EstimateError; writes nothing."""
    customer = CustomerDetails(
        organisation=_clean(reg.customer.organisation, "customer.organisation", required=True),
        credit_code=_clean(reg.customer.credit_code, "customer.credit_code").upper(),
        address=_clean(reg.customer.address, "customer.address"),
        contact=_clean(reg.customer.contact, "customer.contact"),
        phone=_clean(reg.customer.phone, "customer.phone"),
    )
    if not reg.lines:
        raise RegistrationError("lines", "at least one instrument is required")
    if reg.pickup not in PICKUP:
        raise RegistrationError("pickup", f"not one of {', '.join(PICKUP)}")
    if reg.language not in ("zh", "en"):
        raise RegistrationError("language", "zh or en")
    if not 1 <= reg.certificates <= 10:
        raise RegistrationError("certificates", "1–10 copies")
    texts = [{k: _clean(getattr(line, k), f"lines[{i}].{k}") for k in ("model", "serial_number", "manufacturer",
                                                                       "requirements")}
             for i, line in enumerate(reg.lines)]
    priced = estimate(EstimateRequest(tuple(ln.pricing for ln in reg.lines), reg.urgent), catalog.by_code, policy,
                      catalog.version)
    lines = tuple(
        dict(position=i, row=catalog.row_ids[est.code], code=est.code, quantity=line.pricing.quantity,
             use=line.pricing.use, service=est.service, points=line.pricing.points, ranges=line.pricing.ranges,
             metres=None if line.pricing.metres is None else str(line.pricing.metres), ac_dc=line.pricing.ac_dc,
             **text, repair_if_fails=line.repair_if_fails, amount_fen=est.amount_fen, free_reason=est.free_reason)
        for i, (line, text, est) in enumerate(zip(reg.lines, texts, priced.lines))
    )
    return PreparedRegistration(
        customer=asdict(customer),
        registration=reg,
        estimate=priced,
        estimate_json=json.dumps(priced.to_dict(), ensure_ascii=False, sort_keys=True, default=str),
        certificate_name=_clean(reg.certificate_name, "certificate_name") or customer.organisation,
        lines=lines,
        event_lines=tuple({k: v for k, v in line.items() if k != "row"} for line in lines),
        code_lines=tuple(CodeLine(ln["code"], ln["quantity"], ln["service"], ln["use"]) for ln in lines),
    )


def commit(prepared: PreparedRegistration, device: Device, cal: Calendar = WEEKENDS_ONLY,
           now: datetime | None = None) -> RegisteredTicket:
    """The one transaction: customer, ticket (with its signed code), lines, print job, outbox
    event, or nothing. `cal`: the institute's days off, for the ready date the receipt promises
    (the event carries it, so the back office sees the same promise). `now`: the clock, for tests."""
    reg, priced = prepared.registration, prepared.estimate
    now = now or utc_now()
    created = now.isoformat()
    local_day = today(now)
    ready_on = expected_ready(local(now), priced.turnaround_days, cal)
    uid, event_uid = uuid7(), uuid7()
    key = signing_key(device.uid)  # cached: no file read per registration
    with database_proxy.atomic():
        number = ticket_number(device.prefix, local_day, _next(f"ticket:{device.prefix}:{local_day:%Y%m%d}"))
        code = encode(TicketRecord(
            ticket_uid=uid, number=number, device_uid=device.uid, created_at=now,
            catalog_version=priced.catalog_version, lines=prepared.code_lines, total_fen=priced.total_fen,
            urgent=reg.urgent,
        ), key)
        customer_id = insert(Customer, **prepared.customer, created_at=now)
        ticket_id = insert(
            Ticket, uid=uid, number=number, device=device.id, customer=customer_id, version=priced.catalog_version,
            policy_id=priced.policy_id, status="registered", urgent=reg.urgent, pickup=reg.pickup,
            certificates=reg.certificates, certificate_name=prepared.certificate_name, total_fen=priced.total_fen,
            quoted_lines=priced.quoted_lines, estimate_json=prepared.estimate_json, created_at=now, code=code,
        )
        insert_many(TicketLine, [{**line, "ticket": ticket_id} for line in prepared.lines])
        job_id = insert(PrintJob, ticket=ticket_id, kind="ticket", state="pending", attempts=0, created_at=now,
                        updated_at=now, lang=reg.language)
        insert(
            OutboxEvent, uid=event_uid, kind="ticket.registered", created_at=now,
            payload=json.dumps({
                "ticket": {
                    "uid": uid, "number": number, "device": device.uid, "created_at": created,
                    "catalog_version": priced.catalog_version, "policy": priced.policy_id, "urgent": reg.urgent,
                    "pickup": reg.pickup, "certificates": reg.certificates,
                    "certificate_name": prepared.certificate_name, "total_fen": priced.total_fen,
                    "code": code, "ready_on": ready_on.isoformat() if ready_on else None,
                    "urgent_hours": priced.urgent_hours,
                },
                "customer": prepared.customer,
                "lines": prepared.event_lines,
            }, ensure_ascii=False, sort_keys=True),
        )
    return RegisteredTicket(ticket_id, uid, number, now, priced, job_id, event_uid, code)


def register(reg: Registration, catalog: LoadedCatalog, policy: Policy, device: Device,
             cal: Calendar = WEEKENDS_ONLY, now: datetime | None = None) -> RegisteredTicket:
    """Validate, price and store a registration atomically."""
    return commit(prepare(reg, catalog, policy), device, cal, now)
