"""What a ticket receipt says, as a printer/ document: composed here, rendered there.

Pure but for `ticket_facts`, which reads one stored ticket. A receipt is built from what
was stored at registration (the estimate exactly as the customer saw it), so a reprint
next week prints the same receipt. Privacy: the phone is masked; no ID numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from printer.document import QR, Column, Cut, Document, Feed, Row, Rule, Table, Text

from .estimate_text import line_notes
from .fees import Estimate
from .i18n import date_text, money, name_of, quantity_text, service_name, spec_of, t
from .institute import InstituteInfo
from .validation import mask_phone
from .workdays import add_working_days


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

    @property
    def ready_on(self) -> date | None:
        return expected_ready(self.created_at, self.estimate.turnaround_days)


def expected_ready(created_local: datetime, turnaround_days: int) -> date | None:
    """The promised date for the non-urgent lines; None when every line is urgent."""
    return add_working_days(created_local.date(), turnaround_days) if turnaround_days else None


def ticket_facts(ticket_id: int) -> TicketFacts:
    from db.models import Customer, Ticket

    ticket = Ticket.select(Ticket, Customer).join(Customer).where(Ticket.id == ticket_id).get()
    return TicketFacts(
        number=ticket.number,
        qr_data=ticket.number,  # the signed ticket code replaces this (clerk-desk issue)
        created_at=ticket.created_at.astimezone(),
        organisation=ticket.customer.organisation,
        phone=ticket.customer.phone,
        pickup=ticket.pickup,
        estimate=Estimate.from_dict(json.loads(ticket.estimate_json)),
    )


def ticket_document(facts: TicketFacts, info: InstituteInfo, lang: str) -> Document:
    est = facts.estimate
    blocks: list = [
        Text(info.name(lang), align="center", bold=True),
        Text(t("receipt.title", lang), align="center"),
        Rule(),
        Text(t("ticket.number", lang), align="center"),
        Text(facts.number, align="center", bold=True, size=2),
        QR(facts.qr_data),
        Row(t("receipt.time", lang), facts.created_at.strftime("%Y-%m-%d %H:%M")),
        Text(f"{t('receipt.organisation', lang)}{t('receipt.colon', lang)}{facts.organisation}"),
        Row(t("receipt.phone", lang), mask_phone(facts.phone)),
        Row(t("receipt.pickup", lang), t(f"customer.pickup_{facts.pickup}", lang)),
        Rule(),
        *_lines(est, lang),
        Rule(),
        Row(t("total.total", lang), money(est.total_fen, lang), bold=True),
    ]
    if est.waived_fen:
        blocks.append(Row(t("total.waived", lang), money(est.waived_fen, lang)))
    if est.quoted_lines:
        blocks.append(Text(t("total.quoted", lang, count=est.quoted_lines)))
    if est.urgent_hours:
        blocks.append(Text(t("total.urgent_hours", lang, hours=est.urgent_hours)))
    if facts.ready_on:
        blocks.append(Row(t("receipt.ready_on", lang), date_text(facts.ready_on, lang)))
    blocks += [
        Text(t("total.confirm", lang)),
        Rule(),
        Text(t("ticket.go_to", lang, counter=info.receiving_counter(lang)), bold=True),
        Text(t("receipt.pickup_rule", lang)),
        Text(t("receipt.feedback", lang)),
        Feed(2),
        Cut(),
    ]
    return Document(tuple(blocks), name=facts.number)


def _lines(est: Estimate, lang: str) -> list:
    """Per instrument: what it is, how many, what it costs; under it, across the whole
    width, what is done to it and why it costs what it costs. One table per instrument, so
    the notes need not squeeze into the item column; the columns line up all the same."""
    columns = (
        Column(t("col.item", lang), weight=1),
        Column(t("col.quantity", lang), align="right", weight=0, min_width=6),
        Column(t("col.amount", lang), align="right", weight=0, min_width=10),
    )
    blocks: list = [Table(columns, ())]
    for ln in est.lines:
        amount = t("receipt.free", lang) if ln.free_reason else money(ln.amount_fen, lang)
        row = (f"{ln.index + 1}. {name_of(ln, lang)}", quantity_text(ln.quantity, ln.unit, lang), amount)
        blocks.append(Table(columns, (row,), header=False))
        detail = " ".join(x for x in (spec_of(ln, lang), service_name(ln.service, lang), ln.code) if x)
        blocks += [Text(f"   {note}") for note in (detail, *line_notes(ln, est.urgent, lang))]
    return blocks
