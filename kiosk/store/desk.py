"""The clerk desk's counters: a ticket goes registered -> received -> ready -> picked_up,
only forward and each step once. Every step is a ticket_event (who, when, where) written
with the ticket's new status, its outbox event and, where a receipt is due, its print job,
in ONE transaction, or nothing at all. No Textual here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, cast

from peewee import JOIN

from db.inserts import insert
from db.models import (
    Clerk,
    Customer,
    Device,
    IntakeLine,
    OutboxEvent,
    PrintJob,
    Ticket,
    TicketEvent,
    TicketLine,
    database_proxy,
    utc_now,
)
from kiosk.domain import events
from kiosk.domain.clock import local
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import MAX_TEXT
from kiosk.store.parked import park
from kiosk.store.tickets import MissingFeeRows, TextRefused, clean_field, estimate_json, price_again, store_ticket

if TYPE_CHECKING:
    from kiosk.domain.fees import Estimate

STATUSES = ("registered", "received", "ready", "picked_up")
MAX_CERTIFICATE = 40  # characters of a certificate number (kiosk/domain/events.py PickedUp)


class TransitionError(ValueError):
    """A step the ticket cannot take. `kind`: no_ticket | already (the step, or a later one,
    was taken: `status`, `at`, `by`) | not_yet (an earlier step is missing: `status`) |
    bad_intake."""

    def __init__(self, kind: str, message: str, *, status: str | None = None, at: datetime | None = None,
                 by: str | None = None):
        super().__init__(message)
        self.kind, self.status, self.at, self.by = kind, status, at, by


@dataclass(frozen=True)
class IntakeLineInput:
    """One line as the receiving clerk takes it in (defaults: as registered)."""

    ticket_line_id: int | None
    code: str
    quantity: int
    service: str
    use: str
    condition: str = ""
    accessories: str = ""
    serial_number: str = ""
    refused: bool = False


@dataclass(frozen=True)
class Intake:
    lines: tuple[IntakeLineInput, ...]


@dataclass(frozen=True)
class TicketSummary:
    """A ticket as the counters show it."""

    id: int
    number: str
    status: str
    organisation: str
    created_at: datetime
    total_fen: int
    lines: tuple[IntakeLineInput, ...]
    names: tuple[str, ...] = field(default=())  # per line, the instrument's name (zh)


@dataclass(frozen=True)
class Transition:
    ticket_id: int
    number: str
    kind: str
    event_uid: str
    at: datetime
    print_job_id: int | None
    total_fen: int | None = None


# ---- looking tickets up --------------------------------------------------------------------


_NUMBER_PARTS = re.compile(r"[A-Z0-9]+")


def normalise_number(text: str) -> str:
    """A ticket number as typed or scanned: any case or width, hyphens, spaces or none
    between its three parts (a voucher's QR carries it with spaces, which every scanner types
    alike)."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text or "").upper()
    parts = _NUMBER_PARTS.findall(folded)
    if len(parts) == 1 and len(parts[0]) > 10 and parts[0][-10:].isdigit():
        whole = parts[0]  # typed without separators: PREFIX + yymmdd + 4 digits
        parts = [whole[:-10], whole[-10:-4], whole[-4:]]
    return "-".join(parts)


def find_ticket(text: str) -> int | None:
    """The local ticket a typed or scanned number names."""
    number = normalise_number(text)
    if not number:
        return None
    ticket = Ticket.select(Ticket.id).where(Ticket.number == number).first()
    return ticket.id if ticket else None


def find_ticket_by_uid(uid: str) -> int | None:
    ticket = Ticket.select(Ticket.id).where(Ticket.uid == uid).first()
    return ticket.id if ticket else None


def ticket_summary(ticket_id: int) -> TicketSummary:
    from kiosk.domain.fees import Estimate

    ticket = Ticket.select(Ticket, Customer).join(Customer).where(Ticket.id == ticket_id).get()
    est = Estimate.from_dict(json.loads(ticket.estimate_json))
    names = {ln.index: ln.name_zh for ln in est.lines}
    lines = tuple(
        IntakeLineInput(ln.id, ln.code, ln.quantity, ln.service, ln.use, serial_number=ln.serial_number)
        for ln in TicketLine.select().where(TicketLine.ticket == ticket_id).order_by(TicketLine.position))
    return TicketSummary(ticket.id, ticket.number, ticket.status, ticket.customer.organisation, ticket.created_at,
                         ticket.total_fen, lines, tuple(names.get(i, ln.code) for i, ln in enumerate(lines)))


@dataclass(frozen=True)
class StepTaken:
    kind: str
    at: datetime
    by: str | None  # the clerk's display name; None: pulled from the central system


def history(ticket_id: int) -> list[StepTaken]:
    query = (TicketEvent.select(TicketEvent, Clerk).join(Clerk, JOIN.LEFT_OUTER)
             .where(TicketEvent.ticket == ticket_id).order_by(TicketEvent.id))
    return [StepTaken(e.kind, e.created_at, e.clerk.display_name if e.clerk is not None else _synced_clerk(e.payload))
            for e in query]


def _synced_clerk(payload: str) -> str | None:
    """A step taken at another desk (pulled by sync) names its clerk in its payload."""
    clerk = json.loads(payload).get("clerk") or {}
    return clerk.get("name") if isinstance(clerk, dict) else None


# ---- the steps -----------------------------------------------------------------------------


def _check_step(ticket: Ticket, to: str) -> None:
    """Only the next step; a repeated or backward one names when and by whom it was taken."""
    have, want = STATUSES.index(ticket.status), STATUSES.index(to)
    if have >= want:
        taken = {s.kind: s for s in history(ticket.id)}
        step = taken.get(to) or taken.get(ticket.status)
        at, by = (step.at, step.by) if step else (None, None)
        when = f" at {local(at):%Y-%m-%d %H:%M}" if at else ""
        who = f" by {by}" if by else ""
        raise TransitionError("already", f"Ticket {ticket.number} is already {ticket.status.replace('_', ' ')}"
                                         f"{when}{who}.", status=ticket.status, at=at, by=by)
    if want != have + 1:
        raise TransitionError("not_yet", f"Ticket {ticket.number} is {ticket.status.replace('_', ' ')}: "
                                         f"it cannot be {to.replace('_', ' ')} yet.", status=ticket.status)


def _clerk_fields(clerk) -> tuple[int | None, events.Clerk]:
    if clerk is None:
        return None, events.Clerk()
    return clerk.id, events.Clerk(username=clerk.username, name=clerk.display_name)


def _step(ticket_id: int, to: str, clerk, device: Device, details: dict, now: datetime,
          print_kind: str | None = None, lang: str = "zh", after=None) -> Transition:
    """The one transaction of a step: event, status, outbox event, print job. `details`: the
    step's own fields of its event (kiosk/domain/events.py STEPS), kept with the ticket_event too."""
    uid, outbox_uid = uuid7(), uuid7()
    clerk_id, clerk_fields = _clerk_fields(clerk)
    with database_proxy.atomic():
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None:
            raise TransitionError("no_ticket", f"There is no ticket {ticket_id}.")
        _check_step(ticket, to)
        event_id = insert(TicketEvent, uid=uid, ticket=ticket_id, kind=to, clerk=clerk_id, device=device.id,
                          payload=events.to_json(details), created_at=now)
        if after is not None:
            after(event_id)
        moved = Ticket.update(status=to).where((Ticket.id == ticket_id) & (Ticket.status == ticket.status)).execute()
        if moved != 1:  # cannot happen inside an IMMEDIATE transaction; never write half a step
            raise TransitionError("already", f"Ticket {ticket.number} changed meanwhile.", status=ticket.status)
        job_id = None
        if print_kind:
            job_id = insert(PrintJob, ticket=ticket_id, kind=print_kind, state="pending", attempts=0, created_at=now,
                            updated_at=now, lang=lang)
        step = events.STEPS[to](event=uid, ticket=ticket.uid, number=ticket.number, device=device.uid,
                                clerk=clerk_fields, at=now, **details)
        insert(OutboxEvent, uid=outbox_uid, kind=f"ticket.{to}", created_at=now, payload=events.to_json(step))
    return Transition(ticket_id, ticket.number, to, uid, now, job_id, details.get("total_fen"))


def _clean(value: str, where: str, limit: int = MAX_TEXT) -> str:
    try:
        return clean_field(value, where, max_length=limit)
    except TextRefused as e:
        raise TransitionError("bad_intake", str(e)) from None


@dataclass(frozen=True)
class PricedIntake:
    """An intake priced again (kiosk/store/tickets.py price_again: the ticket's catalogue
    version, or this node's latest when that one lacks a fee row) with the ticket's urgency: the
    lines as cleaned, the estimate of the lines kept, and per line what it costs (None: a
    refused line, which costs nothing, or a price the counter quotes)."""

    lines: tuple[IntakeLineInput, ...]
    estimate: Estimate  # of the lines not refused, in order
    amounts: tuple[int | None, ...]

    @property
    def total_fen(self) -> int:
        return self.estimate.total_fen

    @property
    def version(self) -> int | None:
        return self.estimate.catalog_version


def price_intake(ticket_id: int, intake: Intake | None = None, *, policy=None) -> PricedIntake:
    """Clean and price an intake (default: the lines as registered) exactly as `receive`
    stores it; writes nothing. TransitionError: no_ticket | bad_intake (what and where)."""
    from kiosk.domain.fees import MAX_QUANTITY, EstimateError, LineRequest
    from kiosk.domain.vocabulary import SERVICES, USES

    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        raise TransitionError("no_ticket", f"There is no ticket {ticket_id}.")
    if intake is None:
        intake = Intake(ticket_summary(ticket_id).lines)
    registered = {ln.id: ln for ln in TicketLine.select().where(TicketLine.ticket == ticket_id)}
    lines = []
    for i, ln in enumerate(intake.lines):
        if ln.ticket_line_id is not None and ln.ticket_line_id not in registered:
            raise TransitionError("bad_intake", f"lines[{i}]: not a line of ticket {ticket.number}")
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int) or not 1 <= ln.quantity <= MAX_QUANTITY:
            raise TransitionError("bad_intake", f"lines[{i}].quantity: a whole number from 1 to {MAX_QUANTITY}")
        if ln.service not in SERVICES or ln.use not in USES:
            raise TransitionError("bad_intake", f"lines[{i}]: service {ln.service!r} or use {ln.use!r} unknown")
        lines.append(replace(ln, code=_clean(ln.code, f"lines[{i}].code", 20).upper(),
                             condition=_clean(ln.condition, f"lines[{i}].condition"),
                             accessories=_clean(ln.accessories, f"lines[{i}].accessories"),
                             serial_number=_clean(ln.serial_number, f"lines[{i}].serial_number")))
    if not lines:
        raise TransitionError("bad_intake", "lines: at least one line")
    requests = []
    for ln in lines:
        if ln.refused:
            continue
        old = registered.get(ln.ticket_line_id) if ln.ticket_line_id is not None else None
        same = old if old is not None and old.code == ln.code else None  # the same row: its details still hold
        requests.append(LineRequest(
            ln.code, quantity=ln.quantity, use=ln.use, service=ln.service,
            points=same.points if same else None, ranges=same.ranges if same else None,
            metres=_decimal(same.metres) if same else None, ac_dc=bool(same.ac_dc) if same else False))
    try:
        _, priced = price_again(ticket.version_id, requests, ticket.urgent, policy)
    except EstimateError as e:
        raise TransitionError("bad_intake", str(e)) from None
    amounts = iter(ln.amount_fen for ln in priced.lines)
    return PricedIntake(tuple(lines), priced, tuple(None if ln.refused else next(amounts) for ln in lines))


def receive(ticket_id: int, clerk, device: Device, intake: Intake | None = None, *, lang: str = "zh",
            now: datetime | None = None, policy=None) -> Transition:
    """Take the instruments in: the intake (default: the lines as registered) is priced again
    (`price_intake`: kiosk/store/tickets.py price_again's catalogue version), stored, and a
    pickup voucher is queued."""
    now = now or utc_now()
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        raise TransitionError("no_ticket", f"There is no ticket {ticket_id}.")
    _check_step(ticket, "received")  # early, clear refusal; checked again inside the transaction
    priced = price_intake(ticket_id, intake, policy=policy)
    lines = priced.lines
    details = {
        "total_fen": priced.total_fen,
        "estimate": priced.estimate.to_dict(),
        # service and use: checked against the vocabulary by price_intake
        "lines": [events.IntakeLine(ticket_line_id=ln.ticket_line_id, code=ln.code, quantity=ln.quantity,
                                    service=cast(events.Service, ln.service), use=cast(events.Use, ln.use),
                                    condition=ln.condition, accessories=ln.accessories,
                                    serial_number=ln.serial_number, refused=ln.refused)
                  for ln in lines],
    }

    def write_lines(event_id: int) -> None:
        for position, (ln, amount) in enumerate(zip(lines, priced.amounts)):
            insert(IntakeLine, event=event_id, ticket_line=ln.ticket_line_id, position=position, code=ln.code,
                   quantity=ln.quantity, service=ln.service, use=ln.use, condition=ln.condition,
                   accessories=ln.accessories, serial_number=ln.serial_number, refused=ln.refused,
                   amount_fen=amount)

    return _step(ticket_id, "received", clerk, device, details, now, "voucher", lang, after=write_lines)


def _decimal(text):
    from decimal import Decimal

    return None if text is None else Decimal(text)


def mark_ready(ticket_id: int, clerk, device: Device, *, now: datetime | None = None) -> Transition:
    """The certificates are done: the customer may come."""
    return _step(ticket_id, "ready", clerk, device, {}, now or utc_now())


def pick_up(ticket_id: int, clerk, device: Device, certificate_numbers: dict[int, str] | list[str] | None = None,
            *, lang: str = "zh", now: datetime | None = None) -> Transition:
    """The customer takes the instruments and certificates; a pickup slip is queued.
    `certificate_numbers`: per intake-line position (dict), or in line order (list)."""
    numbers = certificate_numbers or {}
    if isinstance(numbers, (list, tuple)):
        numbers = dict(enumerate(numbers))
    cleaned = {str(int(k)): _clean(v, f"certificate[{k}]", MAX_CERTIFICATE) for k, v in numbers.items()}
    return _step(ticket_id, "picked_up", clerk, device, {"certificates": cleaned}, now or utc_now(), "pickup_slip",
                 lang)


# ---- what was scanned or typed -------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scan or a typed text names: a local ticket, or why not. `error`: not_a_code |
    damaged | bad_signature | unknown_device | revoked | unsupported_version | not_local (a
    valid code of a ticket this desk has not seen: `record` holds it; `import_ticket` stores it)
    | number_taken (a valid code whose number another ticket here holds, e.g. issued again by a
    kiosk restored from a backup: `record` holds it; `set_aside` keeps it)."""

    ticket_id: int | None
    error: str | None = None
    record: object | None = None

    @property
    def for_customer(self) -> str | None:
        """The error as a customer at the kiosk is told it (feedback, progress): not_found |
        damaged | not_here | invalid (forged, revoked, unknown issuer, newer format) | None."""
        if self.error is None:
            return None
        return {"not_a_code": "not_found", "damaged": "damaged", "not_local": "not_here",
                "number_taken": "not_here"}.get(self.error, "invalid")


def identify(text: str, keys_for=None) -> ScanResult:
    """A signed ticket code (checked) or a ticket number typed by hand; never raises for
    any text. `keys_for`: see ticketcode.decode (default: this device's known keys)."""
    from kiosk.domain.ticketcode import TicketCodeError, decode, looks_like_code

    text = (text or "").strip()
    if not text or len(text) > 1000:
        return ScanResult(None, "not_a_code")
    if looks_like_code(text):
        if keys_for is None:
            from kiosk.store.keys import keys_for
        try:
            record = decode(text, keys_for)
        except TicketCodeError as e:
            return ScanResult(None, e.kind)
        ticket_id = find_ticket_by_uid(record.ticket_uid)
        if ticket_id:
            return ScanResult(ticket_id)
        # Never the other ticket that holds its number: that is someone else's.
        return ScanResult(None, "number_taken" if find_ticket(record.number) else "not_local", record)
    ticket_id = find_ticket(text)
    return ScanResult(ticket_id) if ticket_id else ScanResult(None, "not_a_code")


# ---- a ticket known only from its code -----------------------------------------------------


def set_aside(code: str, record) -> None:
    """A valid code whose number another ticket here holds (ScanResult "number_taken"): not
    stored as a ticket (the number is unique here), kept whole with the reason, so nothing of
    it is lost (`kiosk sync --parked`, `kiosk doctor`). Scanned again: kept once."""
    with database_proxy.atomic():
        park(None, "ticket.code", {"code": code.strip(), "ticket": record.ticket_uid, "number": record.number},
             f"number_taken: {record.number} belongs to another ticket here")


def import_ticket(code: str, *, keys_for=None, policy=None, now: datetime | None = None) -> int:
    """Store a ticket this desk has never seen from its signed code alone (its kiosk has not
    synced, or the central system is down) and return its id; the customer is at the counter
    with it. The code is verified again here. Scanning it twice stores it once.

    No outbox event: the ticket is its kiosk's to send; this desk's own steps carry its uid.
    What the code does not carry stays empty until sync brings the kiosk's record: the
    organisation and contact, and a line's points, ranges or length (the clerk corrects the
    intake). The lines are priced again (kiosk/store/tickets.py price_again: the code's
    catalogue version if this desk has it, else its latest); the total is the one the customer
    was shown (signed)."""
    from kiosk.domain.fees import EstimateError, LineRequest
    from kiosk.domain.ticketcode import decode, from_text, to_text

    if keys_for is None:
        from kiosk.store.keys import keys_for
    record = decode(code, keys_for)  # TicketCodeError: the caller said what it was already
    if normalise_number(record.number) != record.number:  # the code's one text: a number, nothing hidden in it
        raise TransitionError("bad_intake", "The ticket code's number is not a ticket number.")
    known = find_ticket_by_uid(record.ticket_uid)
    if known:
        return known
    if find_ticket(record.number):
        raise TransitionError("conflict", f"Another ticket here already has the number {record.number}.")
    requests = tuple(LineRequest(ln.code, quantity=ln.quantity, use=ln.use, service=ln.service) for ln in record.lines)
    try:
        catalog, priced = price_again(record.catalog_version, requests, record.urgent, policy)
    except MissingFeeRows as e:
        raise TransitionError("bad_intake", f"fee rows {', '.join(e.codes)} are not in this desk's catalogue "
                                            f"(version {e.version}); sync the catalogue") from None
    except EstimateError as e:
        raise TransitionError("bad_intake", str(e)) from None
    registered = events.Registered(
        ticket=events.Ticket(uid=record.ticket_uid, number=record.number, device=record.device_uid,
                             created_at=record.created_at, total_fen=record.total_fen,
                             catalog_version=record.catalog_version, policy=priced.policy_id, urgent=record.urgent,
                             code=to_text(from_text(code))),
        customer=events.Customer(organisation=""),  # the code carries none: asked at the counter, or synced
        # the use as its signer's draft chose it (USES), the service the fee row's (checked at its import)
        lines=[events.Line(code=ln.code, quantity=ln.quantity, use=cast(events.Use, ln.use),
                           service=cast(events.Service, est.service), amount_fen=est.amount_fen,
                           free_reason=est.free_reason)
               for ln, est in zip(record.lines, priced.lines)],
    )
    now = now or utc_now()
    with database_proxy.atomic():
        imported = find_ticket_by_uid(record.ticket_uid)  # meanwhile (the check above was outside)
        if imported:
            return imported
        return store_ticket(registered, catalog, estimate_json(priced), priced.quoted_lines, stored_at=now)
