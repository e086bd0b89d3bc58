"""Periodic verification due (周检提醒): which instruments fall due soon, so the institute can
remind their owners. No Textual here.

From every picked-up ticket: the lines taken in at the counter (the `received` step's intake,
not the registration: the clerk may have corrected them), not refused, verification only,
whose fee row has a cycle (检定周期, months). The next due date is the pickup day plus the
cycle, exactly as the pickup slip printed it (kiosk/printing/receipts.py `next_due`).

An instrument verified again later (the same fee row and serial number on a later pickup)
is listed once, with its latest due date. Lines without a serial number cannot be matched
and are each listed.

Privacy: the table shows the contact's phone masked; the CSV is for the institute's staff
who make the calls and carries the full number. Keep it inside the institute.

`due_list` is the pure part (lines in, due instruments out): the central back office
computes its due list from pushed events with it (central/due.py), so both agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from db.models import (
    Customer,
    FeeItem,
    IntakeLine,
    PricedRow,
    Ticket,
    TicketEvent,
)
from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.domain.intake import CounterLine, next_due
from kiosk.domain.validation import mask_phone
from kiosk.i18n import date_text, t
from kiosk.i18n.textwidth import pad


@dataclass(frozen=True)
class DueInstrument:
    due_on: date
    number: str  # the ticket it was last verified under
    organisation: str
    contact: str
    phone: str  # in full; masked in the table
    name_zh: str
    name_en: str
    code: str  # fee-standard number
    serial_number: str
    quantity: int
    picked_up_on: date
    cycle_months: int


def parse_within(text: str) -> int:
    """`30d`, `30` (days) or `6w` (weeks): a number of days from 1 to 3660."""
    raw = (text or "").strip().lower()
    factor = 7 if raw.endswith("w") else 1
    digits = raw.rstrip("dw")
    if not digits.isascii() or not digits.isdigit() or not 1 <= int(digits) * factor <= 3660:
        raise ValueError(f"--within: a number of days like 30d (or weeks like 6w), up to 3660 days, not {text!r}")
    return int(digits) * factor


@dataclass(frozen=True)
class PickedUpLine:
    """One line taken in at a counter, of a ticket since picked up, with its fee row."""

    picked_up_on: date  # the local day of the pickup
    number: str
    organisation: str
    contact: str
    phone: str
    name_zh: str
    name_en: str
    unit: str
    cycle_months: int | None
    code: str
    quantity: int
    service: str
    serial_number: str
    refused: bool


def due_list(lines: Iterable[PickedUpLine], within_days: int, today: date, *,
             overdue: bool = False) -> list[DueInstrument]:
    """Pure: the instruments due from `today` to `today + within_days` (and those already
    overdue, with `overdue`), earliest first. `lines` in pickup order: for the same fee row and
    serial number the latest pickup wins; lines without a serial number are each listed."""
    last = today + timedelta(days=within_days)
    latest: dict[tuple, DueInstrument] = {}
    unmatched: list[DueInstrument] = []
    for ln in lines:
        line = CounterLine(ln.name_zh, ln.name_en, ln.code, ln.quantity, ln.unit, ln.service, "", "",
                           ln.serial_number, ln.refused, ln.cycle_months)
        due = next_due(line, ln.picked_up_on)
        if due is None:
            continue
        item = DueInstrument(due, ln.number, ln.organisation, ln.contact, ln.phone, ln.name_zh, ln.name_en, ln.code,
                             ln.serial_number, ln.quantity, ln.picked_up_on, ln.cycle_months)
        if ln.serial_number:
            latest[(ln.code, ln.serial_number.upper())] = item  # in pickup order: the latest pickup wins
        else:
            unmatched.append(item)
    items = [i for i in (*latest.values(), *unmatched)
             if i.due_on <= last and (overdue or i.due_on >= today)]
    return sorted(items, key=lambda i: (i.due_on, i.number, i.code, i.serial_number))


def due_instruments(within_days: int, today: date | None = None, *, overdue: bool = False) -> list[DueInstrument]:
    """Instruments due from `today` to `today + within_days` (and those already overdue, with
    `overdue`), earliest first."""
    today = today or institute_today()
    received = TicketEvent.alias()
    query = (
        IntakeLine.select(
            TicketEvent.created_at.alias("picked_up_at"), Ticket.number, Customer.organisation, Customer.contact,
            Customer.phone, FeeItem.name_zh, FeeItem.name_en, PricedRow.unit, PricedRow.cycle_months,
            IntakeLine.code, IntakeLine.quantity, IntakeLine.service, IntakeLine.serial_number, IntakeLine.refused)
        .join(received, on=(IntakeLine.event == received.id))
        .join(Ticket, on=(received.ticket == Ticket.id))
        .join(Customer, on=(Ticket.customer == Customer.id))
        .join(TicketEvent, on=((TicketEvent.ticket == Ticket.id) & (TicketEvent.kind == "picked_up")))
        .join(PricedRow, on=((PricedRow.version == Ticket.version) & (PricedRow.code == IntakeLine.code)))
        .join(FeeItem, on=(PricedRow.item == FeeItem.id))
        .where((received.kind == "received") & (IntakeLine.refused == False)
               & (IntakeLine.service == "verification") & PricedRow.cycle_months.is_null(False))
        .order_by(TicketEvent.created_at, Ticket.id, IntakeLine.position)
        .tuples()
    )
    lines = (PickedUpLine(local(at).date(),  # local day, as on the pickup slip
                          number, organisation, contact, phone, name_zh, name_en, unit, cycle, code, quantity,
                          service, serial, bool(refused))
             for (at, number, organisation, contact, phone, name_zh, name_en, unit, cycle, code, quantity, service,
                  serial, refused) in query)
    return due_list(lines, within_days, today, overdue=overdue)


COLUMNS = ("due_on", "number", "organisation", "contact", "phone", "instrument", "code", "serial", "quantity")


def _cells(item: DueInstrument, lang: str, *, full_phone: bool) -> list[str]:
    return [item.due_on.isoformat(), item.number, item.organisation, item.contact,
            item.phone if full_phone else mask_phone(item.phone), item.name_zh if lang == "zh" else item.name_en,
            item.code, item.serial_number, str(item.quantity)]


def format_table(items: list[DueInstrument], lang: str, today: date | None = None) -> str:
    """For a terminal: columns by display width (a hanzi takes two), the phone masked."""
    today = today or institute_today()
    widths = (11, 16, 26, 8, 13, 24, 11, 14, 4)
    lines = [" ".join(pad(t(f"due.col.{c}", lang), w, ">" if c == "quantity" else "<")
                      for c, w in zip(COLUMNS, widths)).rstrip()]
    for item in items:
        cells = _cells(item, lang, full_phone=False)
        if item.due_on < today:
            cells[0] = f"{cells[0]}!"
        lines.append(" ".join(pad(c, w, ">" if name == "quantity" else "<")
                              for c, w, name in zip(cells, widths, COLUMNS)).rstrip())
    lines.append(t("due.count", lang, count=len(items), date=date_text(today, lang)))
    return "\n".join(lines)


def to_csv(items: list[DueInstrument], lang: str) -> str:
    """For the institute's staff (a spreadsheet): the full phone number, nothing cut."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"due.col.{c}", lang) for c in COLUMNS])
    for item in items:
        writer.writerow(_cells(item, lang, full_phone=True))
    return out.getvalue()
