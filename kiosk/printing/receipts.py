"""What a ticket receipt says, as a printer/ document: composed here, rendered there.

Pure but for `ticket_facts`, which reads one stored ticket. A receipt is built from what
was stored at registration (the estimate exactly as the customer saw it), so a reprint
next week prints the same receipt. Privacy: the phone is masked; no ID numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.domain.catalog import fee_number
from kiosk.domain.clock import local
from kiosk.domain.fees import Estimate, StorageCharge
from kiosk.domain.intake import CounterLine, certificates_of, next_due
from kiosk.domain.validation import mask_phone
from kiosk.domain.workdays import expected_ready
from kiosk.i18n import date_text, money, name_of, quantity_text, service_name, spec_of, t
from kiosk.i18n.estimate_text import line_notes, storage_rows, total_rows
from kiosk.i18n.keys import PICKUP_WAYS
from kiosk.settings.institute import InstituteInfo
from printer.document import QR, Column, Cut, Document, Feed, Row, Rule, Table, Text

if TYPE_CHECKING:
    from kiosk.domain.events import PickedUp


@dataclass(frozen=True)
class TicketFacts:
    """One stored ticket, as its receipt needs it."""

    number: str
    qr_data: str
    created_at: datetime  # local time
    organisation: str
    phone: str  # as stored; masked on the receipt
    pickup: str  # in_person | post
    estimate: Estimate


def ticket_facts(ticket_id: int) -> TicketFacts:
    from db.models import Customer, Ticket

    ticket = Ticket.select(Ticket, Customer).join(Customer).where(Ticket.id == ticket_id).get()
    return TicketFacts(
        number=ticket.number,
        qr_data=ticket.code or ticket.number,  # the signed code; tickets from before schema 5 have none
        created_at=local(ticket.created_at),
        organisation=ticket.customer.organisation,
        phone=ticket.customer.phone,
        pickup=ticket.pickup,
        estimate=Estimate.from_dict(json.loads(ticket.estimate_json)),
    )


def ticket_document(facts: TicketFacts, info: InstituteInfo, lang: str) -> Document:
    """Everything the customer needs, and no more: a ticket crosses a 9600-baud serial line
    in about a second (bench/printing.py), so each line earns its place. No label over the
    large number (the title says what it is), no column headings, a pickup row only when
    the certificates are posted. The lines and totals are the estimate screen's, fact for
    fact: the paper the customer keeps is the itemized list they agreed to."""
    est = facts.estimate
    blocks: list = [
        Text(info.name(lang), align="center", bold=True),
        Text(t("receipt.title", lang), align="center"),
        Text(facts.number, align="center", bold=True, size=2),
        QR(facts.qr_data),
        Row(t("receipt.time", lang), facts.created_at.strftime("%Y-%m-%d %H:%M")),
        Text(f"{t('receipt.organisation', lang)}{t('receipt.colon', lang)}{facts.organisation}"),
        Row(t("receipt.phone", lang), mask_phone(facts.phone)),
    ]
    if facts.pickup != "in_person":
        blocks.append(Row(t("receipt.pickup", lang), t(PICKUP_WAYS[facts.pickup], lang)))
    blocks += [Rule(), *_lines(est, lang), Rule()]
    blocks += [Row(t(key, lang), money(fen, lang), bold=key == "total.total") for key, fen in total_rows(est)]
    if est.quoted_lines:
        blocks.append(Text(t("total.quoted", lang, count=est.quoted_lines)))
    ready_on = expected_ready(facts.created_at, est.turnaround_days, info.calendar)
    if ready_on:
        blocks.append(Row(t("receipt.ready_on", lang), date_text(ready_on, lang)))
    if est.urgent_hours:
        blocks.append(Text(t("total.urgent_hours", lang, hours=est.urgent_hours)))
    blocks += [
        Text(t("receipt.confirm", lang)),
        Feed(1),
        Text(t("receipt.go_to", lang, counter=info.receiving_counter(lang)), bold=True),
        Text(t("receipt.pickup_rule_post" if facts.pickup == "post" else "receipt.pickup_rule_in_person", lang)),
        Text(t("receipt.feedback", lang)),
        Feed(2),
        Cut(),
    ]
    return Document(tuple(blocks), name=facts.number)


def _lines(est: Estimate, lang: str) -> list:
    """The estimate screen's list, line by line: what it is, how many, what it costs; under
    it, across the whole width, its fee-standard number, regulation and service, its spec,
    then the screen's own notes (add-ons, free reason, urgent surcharge); discounts as their own
    rows. One table per instrument, so the notes need not squeeze into the item column; the
    columns line up all the same."""
    columns = (
        Column(t("col.item", lang), weight=1),
        Column(t("col.quantity", lang), align="right", weight=0, min_width=6),
        Column(t("col.amount", lang), align="right", weight=0, min_width=10),
    )
    blocks: list = []
    for ln in est.lines:
        amount = t("receipt.free", lang) if ln.free_reason else money(ln.amount_fen, lang)
        row = (f"{ln.index + 1}. {name_of(ln, lang)}", quantity_text(ln.quantity, ln.unit, lang), amount)
        blocks.append(Table(columns, (row,), header=False))
        # The number and regulation first, where no wrap parts them; the spec on its own line(s).
        checked = " ".join(x for x in (fee_number(ln.code), ln.regulation, service_name(ln.service, lang)) if x)
        notes = (checked, spec_of(ln, lang), *line_notes(ln, est.urgent, lang))
        blocks += [Text(f"  {note}") for note in notes if note]
    blocks += [Row(name_of(d, lang), money(d.amount_fen, lang)) for d in est.discounts]
    return blocks


# ---- the clerk desk's receipts: the pickup voucher and the pickup slip -------------------------


@dataclass(frozen=True)
class CounterFacts:
    """A ticket at a counter step, as the voucher or the pickup slip needs it."""

    number: str
    organisation: str
    at: datetime  # local time of the step
    clerk: str
    lines: tuple[CounterLine, ...]
    total_fen: int | None  # the estimate recomputed at intake
    certificates: dict[int, tuple[str, ...]]  # line position -> per instrument ("": none noted) (pickup)
    estimate: Estimate | None = None  # as priced at intake: lines, urgent tier, free reasons, discounts
    qr_data: str = ""  # what the slip's QR carries: the ticket's signed code, or the voucher's QR
    storage: StorageCharge | None = None  # kept past the pickup period: charged at pickup (its own line)


def voucher_qr(number: str) -> str:
    """A voucher's QR: the ticket number with spaces for hyphens, which every scanner types alike."""
    return number.replace("-", " ")


def counter_facts(ticket_id: int, kind: str) -> CounterFacts:
    """Read a ticket's `received` intake and the event of step `kind` (received | picked_up)."""
    from db.models import Clerk, Customer, IntakeLine, PricedRow, Ticket, TicketEvent
    from kiosk.domain import events as shapes  # the event shapes: not loaded before a counter step

    ticket = Ticket.select(Ticket, Customer).join(Customer).where(Ticket.id == ticket_id).get()
    events = {e.kind: e for e in TicketEvent.select().where(TicketEvent.ticket == ticket_id)}
    step, received = events[kind], events["received"]
    clerk = Clerk.get_or_none(Clerk.id == step.clerk_id) if step.clerk_id else None
    intake = shapes.read_kept(shapes.Received, received.payload)
    picked_up = shapes.read_kept(shapes.PickedUp, step.payload) if kind == "picked_up" else None
    est = Estimate.from_dict(intake.estimate or {})
    priced = iter(est.lines)
    rows = {r.code: r for r in PricedRow.select().where(PricedRow.version == ticket.version_id)}
    lines = []
    for ln in IntakeLine.select().where(IntakeLine.event == received.id).order_by(IntakeLine.position):
        row = rows.get(ln.code)
        line = None if ln.refused else next(priced, None)
        lines.append(CounterLine(
            name_zh=line.name_zh if line else (row.item.name_zh if row else ln.code),
            name_en=line.name_en if line else (row.item.name_en if row else ln.code),
            code=ln.code, quantity=ln.quantity, unit=line.unit if line else (row.unit if row else ""),
            service=ln.service, condition=ln.condition, accessories=ln.accessories,
            serial_number=ln.serial_number, refused=ln.refused, cycle_months=row.cycle_months if row else None))
    return CounterFacts(ticket.number, ticket.customer.organisation, local(step.created_at),
                        clerk.display_name if clerk else "", tuple(lines), intake.total_fen,
                        certificates_of({"certificates": picked_up.certificates} if picked_up else {}), est,
                        # the lobby's feedback and progress screens read either (kiosk/store/desk.py identify);
                        # the signed code also proves the holder has the ticket (no phone check to rate)
                        ticket.code or voucher_qr(ticket.number), _storage_of(picked_up))


def _storage_of(step: PickedUp | None) -> StorageCharge | None:
    """The storage charge a pickup step kept (kiosk/store/desk.py pick_up); None: none due."""
    return StorageCharge.from_dict(step.storage) if step is not None and step.storage else None


def _counter_line_blocks(facts: CounterFacts, lang: str, *, pickup: bool,
                         failed: dict[int, int] | None = None) -> list:
    """`failed`: {position: instruments found 不合格} (kiosk/printing/check_notes.py): a line whose every
    instrument failed gets no next verification date on the pickup slip."""
    blocks: list = []
    for i, ln in enumerate(facts.lines):
        name = ln.name_zh if lang == "zh" else ln.name_en
        qty = quantity_text(ln.quantity, ln.unit, lang)
        head = f"{i + 1}. {name}  {qty}"
        if ln.refused:
            head += f"  [{t('desk.refused', lang)}]"
        blocks.append(Text(head, bold=True))
        blocks.append(Text(f"   {service_name(ln.service, lang)} {fee_number(ln.code)}"))
        if ln.serial_number:
            blocks.append(Row(f"   {t('voucher.serial', lang)}", ln.serial_number))
        if not pickup:
            if ln.condition:
                blocks.append(Row(f"   {t('voucher.condition', lang)}", ln.condition))
            if ln.accessories:
                blocks.append(Row(f"   {t('voucher.accessories', lang)}", ln.accessories))
        else:
            for k, number in enumerate(facts.certificates.get(i, ())):
                if number:  # which instrument, when the line has several
                    which = f" {k + 1}/{ln.quantity}" if ln.quantity > 1 else ""
                    blocks.append(Row(f"   {t('slip.certificate', lang)}{which}", number))
            due = next_due(ln, facts.at.date())
            if due and (failed or {}).get(i, 0) < ln.quantity:
                blocks.append(Row(f"   {t('slip.next_due', lang)}", date_text(due, lang)))
    return blocks


def voucher_document(facts: CounterFacts, info: InstituteInfo, lang: str) -> Document:
    """The pickup voucher handed over at the receiving counter, with its own QR."""
    blocks: list = [
        Text(info.name(lang), align="center", bold=True),
        Text(t("voucher.title", lang), align="center"),
        Rule(),
        Text(t("ticket.number", lang), align="center"),
        Text(facts.number, align="center", bold=True, size=2),
        QR(voucher_qr(facts.number)),
        Row(t("voucher.received_at", lang), facts.at.strftime("%Y-%m-%d %H:%M")),
        Row(t("voucher.clerk", lang), facts.clerk),
        Text(f"{t('receipt.organisation', lang)}{t('receipt.colon', lang)}{facts.organisation}"),
        Rule(),
        *_counter_line_blocks(facts, lang, pickup=False),
        Rule(),
    ]
    if facts.total_fen is not None:
        blocks.append(Row(t("voucher.total", lang), money(facts.total_fen, lang), bold=True))
    blocks += [Text(t("total.confirm", lang)), Text(t("voucher.keep", lang)), Feed(2), Cut()]
    return Document(tuple(blocks), name=f"voucher-{facts.number}")


def pickup_slip_document(facts: CounterFacts, info: InstituteInfo, lang: str) -> Document:
    """The slip handed over with the instruments: certificates, next verification dates, and
    an invitation to rate the service."""
    from kiosk.printing.check_notes import failed_instruments, notice_blocks

    failed = failed_instruments(facts)
    blocks: list = [
        Text(info.name(lang), align="center", bold=True),
        Text(t("slip.title", lang), align="center"),
        Rule(),
        Row(t("ticket.number", lang), facts.number, bold=True),
        Row(t("slip.picked_up_at", lang), facts.at.strftime("%Y-%m-%d %H:%M")),
        Row(t("slip.clerk", lang), facts.clerk),
        Text(f"{t('receipt.organisation', lang)}{t('receipt.colon', lang)}{facts.organisation}"),
        Rule(),
        *_counter_line_blocks(facts, lang, pickup=True, failed=failed),
        *notice_blocks(facts, lang, failed),  # found 不合格: a 检定结果通知书 (kiosk/printing/check_notes.py)
        Rule(),
        *_storage_blocks(facts.storage, lang),
        Text(t("slip.feedback", lang), bold=True),
        QR(facts.qr_data or voucher_qr(facts.number)),
        Feed(2),
        Cut(),
    ]
    return Document(tuple(blocks), name=f"pickup-{facts.number}")


def _storage_blocks(storage: StorageCharge | None, lang: str) -> list:
    """Storage past the pickup period, its own line with its days per tier, and what was due."""
    rows = storage_rows(storage, lang) if storage is not None else []
    return [*(Row(label, amount, bold=i == 0) for i, (label, amount) in enumerate(rows)), Rule()] if rows else []


def job_document(kind: str, ticket_id: int, info: InstituteInfo, lang: str, copy: bool = False) -> Document:
    """The document of a print job of any kind: ticket | voucher | pickup_slip. A `copy` (a
    reprint after one printed) says so above everything else, so two papers of one ticket
    are never taken for two tickets or two pickups."""
    if kind == "voucher":
        document = voucher_document(counter_facts(ticket_id, "received"), info, lang)
    elif kind == "pickup_slip":
        document = pickup_slip_document(counter_facts(ticket_id, "picked_up"), info, lang)
    else:
        document = ticket_document(ticket_facts(ticket_id), info, lang)
    if copy:
        mark = Text(t("receipt.copy", lang), align="center", bold=True, size=2)
        document = Document((mark, *document.blocks), name=document.name)
    return document
