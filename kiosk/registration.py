"""Registering instruments: one ticket, its lines, its print job and its outbox event,
written in one transaction, or nothing at all.

Printing and syncing happen after the commit, from the rows written here, so a crash
or a dead printer loses nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from db.models import (
    Counter,
    Customer,
    Device,
    OutboxEvent,
    PrintJob,
    Ticket,
    TicketLine,
    database_proxy,
    utc_now,
)

from .catalog import normalise_text
from .catalog_store import LoadedCatalog
from .fees import Estimate, EstimateRequest, LineRequest, Policy, estimate
from .ids import derive_prefix, ticket_number, uuid7

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


@dataclass(frozen=True)
class RegisteredTicket:
    id: int
    uid: str
    number: str
    created_at: datetime
    estimate: Estimate
    print_job_id: int
    event_uid: str = field(repr=False, default="")


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
    """This node's identity, created once on first start."""
    with database_proxy.atomic():
        device = Device.select().order_by(Device.id).first()
        if device is None:
            uid = uuid7()
            device = Device.create(uid=uid, prefix=prefix or derive_prefix(uid), role=role, created_at=utc_now())
    return device


def _next(name: str) -> int:
    """Bump a named counter; call inside the writing transaction."""
    updated = Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
    if not updated:
        Counter.create(name=name, value=1)
    return Counter.get_by_id(name).value


def register(reg: Registration, catalog: LoadedCatalog, policy: Policy, device: Device) -> RegisteredTicket:
    """Price and store a registration atomically. Raises before writing on any bad input."""
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
    if not 1 <= reg.certificates <= 10:
        raise RegistrationError("certificates", "1–10 copies")
    lines = [
        InstrumentLine(
            pricing=line.pricing,
            **{k: _clean(getattr(line, k), f"lines[{i}].{k}")
               for k in ("model", "serial_number", "manufacturer", "requirements")},
            repair_if_fails=line.repair_if_fails,
        )
        for i, line in enumerate(reg.lines)
    ]
    certificate_name = _clean(reg.certificate_name, "certificate_name") or customer.organisation
    priced = estimate(EstimateRequest(tuple(ln.pricing for ln in lines), reg.urgent), catalog.by_code, policy,
                      catalog.version)
    estimate_json = json.dumps(priced.to_dict(), ensure_ascii=False, sort_keys=True, default=str)

    now = utc_now()
    local_day = now.astimezone().date()
    uid = uuid7()
    with database_proxy.atomic():
        number = ticket_number(device.prefix, local_day, _next(f"ticket:{device.prefix}:{local_day:%Y%m%d}"))
        cust = Customer.create(**asdict(customer), created_at=now)
        ticket = Ticket.create(
            uid=uid, number=number, device=device, customer=cust, version=catalog.version,
            policy_id=policy.id, status="registered", urgent=reg.urgent, pickup=reg.pickup,
            certificates=reg.certificates, certificate_name=certificate_name, total_fen=priced.total_fen,
            quoted_lines=priced.quoted_lines, estimate_json=estimate_json, created_at=now,
        )
        line_rows = []
        for i, (line, est) in enumerate(zip(lines, priced.lines)):
            p = line.pricing
            line_rows.append(dict(
                ticket=ticket.id, position=i, row=catalog.row_ids[est.code], code=est.code,
                quantity=p.quantity, use=p.use, service=est.service, points=p.points, ranges=p.ranges,
                metres=None if p.metres is None else str(p.metres), ac_dc=p.ac_dc, model=line.model,
                serial_number=line.serial_number, manufacturer=line.manufacturer,
                requirements=line.requirements, repair_if_fails=line.repair_if_fails,
                amount_fen=est.amount_fen, free_reason=est.free_reason,
            ))
        TicketLine.insert_many(line_rows).execute()
        job = PrintJob.create(ticket=ticket, kind="ticket", state="pending", attempts=0, created_at=now,
                              updated_at=now)
        event_uid = uuid7()
        OutboxEvent.create(
            uid=event_uid, kind="ticket.registered", created_at=now,
            payload=json.dumps({
                "ticket": {
                    "uid": uid, "number": number, "device": device.uid, "created_at": now.isoformat(),
                    "catalog_version": catalog.version, "policy": policy.id, "urgent": reg.urgent,
                    "pickup": reg.pickup, "certificates": reg.certificates,
                    "certificate_name": certificate_name, "total_fen": priced.total_fen,
                },
                "customer": asdict(customer),
                "lines": [{k: v for k, v in row.items() if k not in ("ticket", "row")} for row in line_rows],
            }, ensure_ascii=False, sort_keys=True),
        )
    return RegisteredTicket(ticket.id, uid, number, now, priced, job.id, event_uid)
