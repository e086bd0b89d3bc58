"""Periodic verification due (周检提醒) at a desk, read from this node's database: the lines
taken in at its counters, of the tickets since picked up, with their fee rows. The rule is
kiosk/domain/due.py's (`due_list`); the table and the CSV are kiosk/i18n/due_text.py's. No
Textual here.

Privacy: the table shows the contact's phone masked; the CSV is for the institute's staff
who make the calls and carries the full number. Keep it inside the institute.
"""

from __future__ import annotations

from datetime import date

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
from kiosk.domain.due import DueInstrument, PickedUpLine, due_list
from kiosk.store.certificate_checks import failed_by_ticket
from kiosk.store.rows import tuples


def due_instruments(within_days: int, today: date | None = None, *, overdue: bool = False) -> list[DueInstrument]:
    """Instruments due from `today` to `today + within_days` (and those already overdue, with
    `overdue`), earliest first."""
    today = today or institute_today()
    received = TicketEvent.alias()
    query = (
        IntakeLine.select(
            TicketEvent.created_at.alias("picked_up_at"), Ticket.number, Customer.organisation, Customer.contact,
            Customer.phone, FeeItem.name_zh, FeeItem.name_en, PricedRow.unit, PricedRow.cycle_months,
            IntakeLine.code, IntakeLine.quantity, IntakeLine.service, IntakeLine.serial_number, IntakeLine.refused,
            Ticket.uid, IntakeLine.position)
        .join(received, on=(IntakeLine.event == received.id))
        .join(Ticket, on=(received.ticket == Ticket.id))
        .join(Customer, on=(Ticket.customer == Customer.id))
        .join(TicketEvent, on=((TicketEvent.ticket == Ticket.id) & (TicketEvent.kind == "picked_up")))
        .join(PricedRow, on=((PricedRow.version == Ticket.version) & (PricedRow.code == IntakeLine.code)))
        .join(FeeItem, on=(PricedRow.item == FeeItem.id))
        .where((received.kind == "received") & (IntakeLine.refused == False)
               & (IntakeLine.service == "verification") & PricedRow.cycle_months.is_null(False))
        .order_by(TicketEvent.created_at, Ticket.id, IntakeLine.position)
    )
    failed = failed_by_ticket()  # found 不合格 at the dispatch check (kiosk/store/certificate_checks.py)
    lines = (PickedUpLine(local(at).date(),  # local day, as on the pickup slip
                          number, organisation, contact, phone, name_zh, name_en, unit, cycle, code, quantity,
                          service, serial, bool(refused), failed.get(uid, {}).get(position, 0))
             for (at, number, organisation, contact, phone, name_zh, name_en, unit, cycle, code, quantity, service,
                  serial, refused, uid, position) in tuples(query))
    return due_list(lines, within_days, today, overdue=overdue)
