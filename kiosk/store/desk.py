"""The clerk desk's counters: a ticket goes registered -> received -> ready -> picked_up,
only forward and each step once. Every step is a ticket_event (who, when, where) written
with the ticket's new status, its outbox event and, where a receipt is due, its print job,
in ONE transaction, or nothing at all. No Textual here.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
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
from kiosk.domain.clock import local, today
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import MAX_TEXT
from kiosk.store.parked import park
from kiosk.store.tickets import (
    MissingFeeRows,
    TextRefused,
    as_receipt,
    clean_field,
    estimate_json,
    price_again,
    price_basis,
    store_ticket,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kiosk.domain.fees import Estimate, LineRequest, StorageCharge
    from kiosk.domain.repricing import LineDifference, PricedLine
    from kiosk.domain.ticketcode import TicketRecord

log = logging.getLogger(__name__)

STATUSES = ("registered", "received", "ready", "picked_up")
MAX_CERTIFICATE = 40  # characters of a certificate number (kiosk/domain/events.py PickedUp)


class TransitionError(ValueError):
    """A step the ticket cannot take. `kind`: no_ticket | already (the step, or a later one,
    was taken: `status`, `at`, `by`) | not_yet (an earlier step is missing: `status`) |
    bad_intake | certificates_returned (a pickup waits for a certificate sent back: `count` of them)."""

    def __init__(self, kind: str, message: str, *, status: str | None = None, at: datetime | None = None,
                 by: str | None = None, count: int = 0):
        super().__init__(message)
        self.kind, self.status, self.at, self.by, self.count = kind, status, at, by, count


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
    # What the line's price depends on beyond its row (kiosk/domain/fees.py LineRequest): as
    # registered, corrected by the clerk; checked as the kiosk checks them (request_from_dict).
    points: int | None = None
    ranges: int | None = None
    metres: Decimal | None = None
    ac_dc: bool = False
    extra_data: bool = False

    def pricing(self) -> tuple:
        """What its price depends on: equal for two lines priced alike by one catalogue and policy."""
        return (self.code, self.quantity, self.service, self.use, self.points, self.ranges, self.metres,
                self.ac_dc, self.extra_data, self.refused)


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
    estimate: Estimate | None = None  # as the customer was shown it: lines, urgent tier, free reasons
    in_work: tuple[str, ...] = ()  # received: the services of the lines in the lab (services_in_work)


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
        IntakeLineInput(ln.id, ln.code, ln.quantity, ln.service, ln.use, serial_number=ln.serial_number,
                        points=ln.points, ranges=ln.ranges, metres=_decimal(ln.metres), ac_dc=bool(ln.ac_dc),
                        extra_data=bool(ln.extra_data))
        for ln in TicketLine.select().where(TicketLine.ticket == ticket_id).order_by(TicketLine.position))
    return TicketSummary(ticket.id, ticket.number, ticket.status, ticket.customer.organisation, ticket.created_at,
                         ticket.total_fen, lines, tuple(names.get(i, ln.code) for i, ln in enumerate(lines)), est,
                         services_in_work(ticket_id) if ticket.status == "received" else ())


def services_in_work(ticket_id: int) -> tuple[str, ...]:
    """The services of the lines in the lab: as the latest intake here took them in (refused
    lines not), else as registered (a step synced without its intake)."""
    received = (TicketEvent.select(TicketEvent.payload)
                .where((TicketEvent.ticket == ticket_id) & (TicketEvent.kind == "received"))
                .order_by(TicketEvent.id.desc()).first())
    taken = events.read_kept(events.Received, received.payload).lines if received is not None else None
    if taken:
        return tuple(ln.service for ln in taken if not ln.refused)
    return tuple(ln.service for ln in TicketLine.select(TicketLine.service).where(TicketLine.ticket == ticket_id))


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
    clerk = events.read_kept(events.Step, payload).clerk
    return clerk.name if clerk is not None else None


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
          print_kind: str | tuple[str, ...] | None = None, lang: str = "zh", after=None) -> Transition:
    """The one transaction of a step: event, status, outbox event, print jobs (of `print_kind`, or
    of each kind in order: the Transition names the first). `details`: the step's own fields of its
    event (kiosk/domain/events.py STEPS), kept with the ticket_event too."""
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
        for kind in (print_kind,) if isinstance(print_kind, str) else print_kind or ():
            queued = insert(PrintJob, ticket=ticket_id, kind=kind, state="pending", attempts=0, created_at=now,
                            updated_at=now, lang=lang)
            job_id = job_id or queued
        step = events.STEPS[to](event=uid, ticket=ticket.uid, number=ticket.number, device=device.uid,
                                clerk=clerk_fields, at=now, **details)
        insert(OutboxEvent, uid=outbox_uid, kind=f"ticket.{to}", created_at=now, payload=events.to_json(step))
        # 一次一评: the counter's rating pad asks about an intake or a pickup, in the step's transaction
        from kiosk.store.rating_requests import ask_rating

        ask_rating(ticket, to, event_id, clerk, now)
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
    refused line, which costs nothing, or a price the counter quotes). An intake priced as
    registered costs what the receipt says (its estimate: `basis` tells whether this desk's
    catalogue and policy are the kiosk's). `differences`: the receipt's figure beside the new
    one, line by line, with why (kiosk/domain/repricing.py)."""

    lines: tuple[IntakeLineInput, ...]
    estimate: Estimate  # of the lines not refused, in order
    amounts: tuple[int | None, ...]
    basis: str = "same"  # kiosk/domain/repricing.py BASES
    differences: tuple[LineDifference, ...] = ()

    @property
    def total_fen(self) -> int:
        return self.estimate.total_fen

    @property
    def version(self) -> int | None:
        return self.estimate.catalog_version


def _line_request(ln: IntakeLineInput, i: int) -> LineRequest:
    """The line as the kiosk validates a line (kiosk/domain/fees.py request_from_dict): every add-on
    in its bounds, metres to the mm. TransitionError bad_intake names the field as lines[i].<name>."""
    from kiosk.domain.fees import EstimateError, request_from_dict

    raw: dict = {"item": ln.code, "quantity": ln.quantity, "use": ln.use, "service": ln.service,
                 "ac_dc": ln.ac_dc, "extra_data": ln.extra_data}
    raw.update({name: value for name, value in (("points", ln.points), ("ranges", ln.ranges),
                                                ("metres", None if ln.metres is None else str(ln.metres)))
                if value is not None})
    try:
        return request_from_dict({"lines": [raw]}).lines[0]
    except EstimateError as e:
        raise TransitionError("bad_intake", f"lines[{i}]{str(e).removeprefix('lines[0]')}") from None


def price_intake(ticket_id: int, intake: Intake | None = None, *, policy=None) -> PricedIntake:
    """Clean and price an intake (default: the lines as registered) exactly as `receive`
    stores it; writes nothing. TransitionError: no_ticket | bad_intake (what and where)."""
    from kiosk.domain.fees import MAX_QUANTITY, EstimateError
    from kiosk.domain.fees import Estimate as Priced
    from kiosk.domain.repricing import differences
    from kiosk.domain.vocabulary import SERVICES, USES

    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        raise TransitionError("no_ticket", f"There is no ticket {ticket_id}.")
    as_registered = ticket_summary(ticket_id).lines
    if intake is None:
        intake = Intake(as_registered)
    registered = {ln.ticket_line_id: ln for ln in as_registered}
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
    requests = [_line_request(ln, i) for i, ln in enumerate(lines) if not ln.refused]
    try:
        catalog, priced = price_again(ticket.version_id, requests, ticket.urgent, policy)
    except EstimateError as e:
        raise TransitionError("bad_intake", str(e)) from None
    basis = price_basis(ticket.code, catalog, policy)
    receipt = Priced.from_dict(json.loads(ticket.estimate_json))
    if [ln.pricing() for ln in lines] == [ln.pricing() for ln in as_registered]:
        # Taken in as registered: the price is the receipt's. With the kiosk's catalogue and
        # policy it is also this desk's (else a bug, said in the log); with others it stands.
        if basis == "same" and priced.total_fen != receipt.total_fen:
            log.error("ticket %s: priced again with its own catalogue and policy at %d fen, its receipt says %d",
                      ticket.number, priced.total_fen, receipt.total_fen)
        priced = receipt
    kept = iter(priced.lines)
    now = [None if ln.refused else next(kept) for ln in lines]
    by_position = {ln.ticket_line_id: position for position, ln in enumerate(as_registered)}
    on_receipt = [None if ln.ticket_line_id is None else _priced_line(registered[ln.ticket_line_id],
                                                                      _nth(receipt, by_position[ln.ticket_line_id]))
                  for ln in lines]
    found = differences(on_receipt, [_priced_line(ln, est) for ln, est in zip(lines, now)], basis)
    return PricedIntake(tuple(lines), priced, tuple(None if est is None else est.amount_fen for est in now), basis,
                        found)


def _nth(priced: Estimate, position: int):
    return priced.lines[position] if position < len(priced.lines) else None


def _priced_line(ln: IntakeLineInput, est) -> PricedLine:
    from kiosk.domain.repricing import PricedLine

    return PricedLine(ln.code, ln.quantity, ln.service, ln.use, ln.points, ln.ranges, ln.metres, ln.ac_dc,
                      ln.extra_data, None if est is None else est.amount_fen, None if est is None else est.urgent_fen,
                      ln.refused)


def receive(ticket_id: int, clerk, device: Device, intake: Intake | None = None, *, lang: str = "zh",
            now: datetime | None = None, policy=None) -> Transition:
    """Take the instruments in: the intake (default: the lines as registered) is priced again
    (`price_intake`: kiosk/store/tickets.py price_again's catalogue version), stored, and a
    pickup voucher and the instruments' labels are queued."""
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

    # The voucher first (the customer waits for it), then a label on each instrument taken in
    # (kiosk/printing/labels.py): none when every line is refused.
    jobs = ("voucher",) if all(ln.refused for ln in lines) else ("voucher", "labels")
    return _step(ticket_id, "received", clerk, device, details, now, jobs, lang, after=write_lines)


def _decimal(text):
    from decimal import Decimal

    return None if text is None else Decimal(text)


def mark_ready(ticket_id: int, clerk, device: Device, *, now: datetime | None = None) -> Transition:
    """The certificates are done: the customer may come."""
    return _step(ticket_id, "ready", clerk, device, {}, now or utc_now())


def pick_up(ticket_id: int, clerk, device: Device,
            certificate_numbers: Mapping[int, Sequence[str] | str] | Sequence[Sequence[str] | str] | None = None,
            *, lang: str = "zh", now: datetime | None = None, policy=None) -> Transition:
    """The customer takes the instruments and certificates; a pickup slip is queued.
    `certificate_numbers`: per intake-line position (a dict, or a list in line order), the
    numbers of its instruments in order ("" or missing: none noted for that one; a single
    string: the first instrument's). More numbers than the line has instruments, or any for a
    line refused or not taken in: TransitionError bad_certificates, nothing written. Collected past
    the pickup period: the storage charge (`storage_due`) is kept with the step, for the slip."""
    numbers = (certificate_numbers if isinstance(certificate_numbers, Mapping)
               else dict(enumerate(certificate_numbers or ())))
    numbers = _with_checked(ticket_id, numbers)
    taken = _taken_in(ticket_id)
    cleaned: dict[str, list[str]] = {}
    for key, given in numbers.items():
        position = int(key)
        per_instrument = [given] if isinstance(given, str) else list(given)
        values = [_clean(v, f"certificate[{position}][{k}]", MAX_CERTIFICATE)
                  for k, v in enumerate(per_instrument)]
        while values and not values[-1]:
            values.pop()
        if not values:
            continue
        if len(values) > taken.get(position, 0):
            raise TransitionError("bad_certificates", f"certificate[{position}]: {len(values)} numbers for "
                                                      f"{taken.get(position, 0)} instrument(s) taken in")
        cleaned[str(position)] = values
    now = now or utc_now()
    details: dict = {"certificates": cleaned}
    storage = storage_due(ticket_id, now, policy)
    if storage is not None and storage.tiers:
        details["storage"] = storage.to_dict()
    return _step(ticket_id, "picked_up", clerk, device, details, now, "pickup_slip", lang,
                 after=lambda _event_id: _certificates_back(ticket_id))


def _with_checked(ticket_id: int, numbers: Mapping) -> dict:
    """The numbers given, and where none was given for an instrument, the number its certificate
    was last checked with at dispatch (kiosk/store/certificate_checks.py)."""
    from kiosk.store.certificate_checks import checked_numbers

    checked = checked_numbers(ticket_id)
    if not checked:
        return dict(numbers)
    merged: dict = {}
    for key in {*(int(k) for k in numbers), *checked}:
        given = numbers.get(key, numbers.get(str(key), ()))
        given = [given] if isinstance(given, str) else list(given)
        found = checked.get(key, {})
        size = max(len(given), max(found, default=-1) + 1)
        merged[key] = [(given[k] if k < len(given) else "") or found.get(k, "") for k in range(size)]
    return merged


def _certificates_back(ticket_id: int) -> None:
    """In the pickup's transaction: a certificate returned to the lab for correction holds the
    pickup until it passes a re-check or the customer takes it as it is (kiosk/store/certificate_checks.py)."""
    from kiosk.store.certificate_checks import holding_pickup

    held = holding_pickup(ticket_id)
    if held:
        where = ", ".join(f"{s.position + 1}/{s.instrument + 1}" for s in held)
        raise TransitionError("certificates_returned", f"{len(held)} certificate(s) returned for correction "
                                                       f"(line/instrument {where}): the pickup waits for them.",
                              count=len(held))


def storage_due(ticket_id: int, now: datetime | None = None, policy=None) -> StorageCharge | None:
    """Storage past the pickup period if the ticket is collected at `now` (kiosk/domain/fees.py
    storage_charge): the days from its ready step's date to `now`'s, both on the institute's clock,
    on the total the receiving counter fixed (else the registration's). None: the policy charges no
    storage, or this desk holds no ready step of the ticket."""
    from kiosk.domain.fees import storage_charge
    from kiosk.settings.pricing import configured_policy

    storage = (policy or configured_policy()).storage  # the policy this node charges (kiosk/settings/pricing.py)
    steps = {e.kind: e for e in TicketEvent.select().where(TicketEvent.ticket == ticket_id).order_by(TicketEvent.id)}
    if storage is None or "ready" not in steps:
        return None
    received = steps.get("received")
    total = events.read_kept(events.Received, received.payload).total_fen if received is not None else None
    if total is None:
        total = Ticket.get_by_id(ticket_id).total_fen
    return storage_charge(storage, total, today(steps["ready"].created_at), today(now))


def _taken_in(ticket_id: int) -> dict[int, int]:
    """Intake position -> instruments taken in (refused lines: none), as received here."""
    received = (TicketEvent.select(TicketEvent.id)
                .where((TicketEvent.ticket == ticket_id) & (TicketEvent.kind == "received"))
                .order_by(TicketEvent.id.desc()).first())
    if received is None:  # received at another desk and not synced here: its lines are unknown
        return {}
    return {ln.position: 0 if ln.refused else ln.quantity
            for ln in IntakeLine.select().where(IntakeLine.event == received.id)}


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
    record: TicketRecord | None = None
    line: int | None = None  # an instrument label's: its intake line's position (from 0)
    row: int | None = None  # and that line's row in ticket_summary's lines (None: added at the counter)

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
    label = _LABEL.fullmatch(" ".join(_NUMBER_PARTS.findall(unicodedata.normalize("NFKC", text).upper())))
    if label:
        ticket_id = find_ticket(label["number"])
        position = int(label["line"]) - 1
        return ScanResult(ticket_id, line=position, row=labelled_row(ticket_id, position)) if ticket_id \
            else ScanResult(None, "not_a_code")
    ticket_id = find_ticket(text)
    return ScanResult(ticket_id) if ticket_id else ScanResult(None, "not_a_code")


# An instrument label's QR code (kiosk/printing/labels.py label_qr): the ticket number's three
# parts, the line and the instrument, counted from 1.
_LABEL = re.compile(r"(?P<number>[A-Z0-9]+ [0-9]{6} [0-9]+) (?P<line>[1-9][0-9]{0,3}) [1-9][0-9]{0,3}")


def labelled_row(ticket_id: int, position: int) -> int | None:
    """The row of ticket_summary's lines that intake line `position` (a label's line, from 0) took
    in; None: a line added at the counter, or an intake this desk does not hold."""
    received = (TicketEvent.select(TicketEvent.id)
                .where((TicketEvent.ticket == ticket_id) & (TicketEvent.kind == "received"))
                .order_by(TicketEvent.id.desc()).first())
    taken = None if received is None else IntakeLine.get_or_none(
        (IntakeLine.event == received.id) & (IntakeLine.position == position))
    if taken is None or taken.ticket_line_id is None:
        return None
    rows = [ln.id for ln in TicketLine.select(TicketLine.id).where(TicketLine.ticket == ticket_id)
            .order_by(TicketLine.position)]
    return rows.index(taken.ticket_line_id) if taken.ticket_line_id in rows else None


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
    organisation and contact. The lines are priced again with the add-ons the code carries
    (kiosk/store/tickets.py price_again: the code's catalogue version if this desk has it, else
    its latest). The ticket costs what the customer's receipt says: a format 3 code carries each
    line's amount and urgent surcharge and the hashes of the catalogue and policy they were priced
    with. With the same catalogue and policy the desk's price must be the receipt's (a difference
    is a bug: parked with the code, `kiosk doctor` shows it); with others the receipt's figures
    stand and the counter says the catalogue differs (`price_intake`'s basis). A format 2 code
    carries no add-ons: its lines are priced without them, its signed total kept."""
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
    requests = tuple(LineRequest(ln.code, quantity=ln.quantity, use=ln.use, service=ln.service, points=ln.points,
                                 ranges=ln.ranges, metres=ln.metres, ac_dc=ln.ac_dc, extra_data=ln.extra_data)
                     for ln in record.lines)
    try:
        catalog, priced = price_again(record.catalog_version, requests, record.urgent, policy)
    except MissingFeeRows as e:
        raise TransitionError("bad_intake", f"fee rows {', '.join(e.codes)} are not in this desk's catalogue "
                                            f"(version {e.version}); sync the catalogue") from None
    except EstimateError as e:
        raise TransitionError("bad_intake", str(e)) from None
    text = to_text(from_text(code))
    receipt = as_receipt(priced, record)
    mismatch = receipt != priced and price_basis(text, catalog, policy) == "same"
    registered = events.Registered(
        ticket=events.Ticket(uid=record.ticket_uid, number=record.number, device=record.device_uid,
                             created_at=record.created_at, total_fen=record.total_fen,
                             catalog_version=record.catalog_version, policy=priced.policy_id, urgent=record.urgent,
                             code=text),
        customer=events.Customer(organisation=""),  # the code carries none: asked at the counter, or synced
        # the use as its signer's draft chose it (USES), the service the fee row's (checked at its import)
        lines=[events.Line(code=ln.code, quantity=ln.quantity, use=cast(events.Use, ln.use),
                           service=cast(events.Service, est.service), amount_fen=est.amount_fen,
                           free_reason=est.free_reason, points=ln.points, ranges=ln.ranges,
                           metres=None if ln.metres is None else str(ln.metres), ac_dc=ln.ac_dc,
                           extra_data=ln.extra_data)
               for ln, est in zip(record.lines, receipt.lines)],
    )
    now = now or utc_now()
    with database_proxy.atomic():
        imported = find_ticket_by_uid(record.ticket_uid)  # meanwhile (the check above was outside)
        if imported:
            return imported
        if mismatch:  # the same catalogue and policy, another price: a bug, kept with the code to find it
            log.error("ticket %s: priced again with its own catalogue and policy at %d fen, its code says %d",
                      record.number, priced.total_fen, record.total_fen)
            park(None, "ticket.code", {"code": text, "ticket": record.ticket_uid, "number": record.number,
                                       "priced_fen": [ln.amount_fen for ln in priced.lines]},
                 f"price_mismatch: {record.number} priced {priced.total_fen}, its receipt {record.total_fen}")
        return store_ticket(registered, catalog, estimate_json(receipt), receipt.quoted_lines, stored_at=now)
