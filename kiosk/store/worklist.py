"""在办清单 at the clerk desk: the tickets taken in and not yet handed back, so the counter
sees what is owed to customers (the lab's promises, urgent work first) and who has not come
to collect. No Textual here; `work_list` runs in the station's database thread.

- In the lab (received, not ready): an urgent ticket is promised within its tier's hours
  from the moment the receiving counter took the instruments (the lab cannot start before);
  its other lines, and every line of a normal ticket, by the date on the customer's receipt
  (registration date + the ticket's turnaround in the institute's working days,
  kiosk/printing/receipts.py `expected_ready`). Late: a promise has passed.
- Ready, not picked up: waiting since it was marked ready; overdue after `pickup_days`
  calendar days (the institute's commitment: collect within 30 days).

Order: late lab work (the most urgent promise first), then overdue pickups (the longest
waiting first), then the rest of the lab work by promise, then the other pickups, the
longest waiting first. The phone is given in full: clerks call customers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import Case, fn

from db.models import Customer, IntakeLine, Ticket, TicketEvent, TicketLine, utc_now
from kiosk.domain.clock import local, start_of
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.workdays import expected_ready
from kiosk.i18n import t

PICKUP_DAYS = 30  # the demo institute's commitment (kiosk/data/institute.toml)
CHUNK = 500  # tickets per IN list
OPEN = ("received", "ready")  # at the counter and not handed back; also the steps that date them


@dataclass(frozen=True)
class WorkItem:
    ticket_id: int | str  # the id here; the uid in the back office
    number: str
    status: str  # received | ready
    organisation: str
    contact: str
    phone: str
    instruments: int  # taken in (refused lines not counted)
    since: datetime  # aware: received (in the lab) or marked ready (waiting)
    urgent_by: datetime | None  # aware: the urgent lines' promise; None: not urgent
    ready_on: date | None  # the receipt's date for the other lines; None: every line urgent
    late: bool  # in the lab: a promise has passed; ready: waiting longer than pickup_days
    waiting_days: int  # ready: whole days since marked ready (local dates); in the lab: 0

    @property
    def due(self) -> datetime | None:
        """The earliest promise, as a moment (a date's promise holds until its end)."""
        moments = [m for m in (self.urgent_by, _end_of(self.ready_on)) if m is not None]
        return min(moments, default=None)


@dataclass(frozen=True)
class WorkList:
    items: list[WorkItem]
    pickup_days: int

    @property
    def in_lab(self) -> int:
        return sum(1 for i in self.items if i.status == "received")

    @property
    def in_lab_late(self) -> int:
        return sum(1 for i in self.items if i.status == "received" and i.late)

    @property
    def waiting(self) -> int:
        return sum(1 for i in self.items if i.status == "ready")

    @property
    def waiting_overdue(self) -> int:
        return sum(1 for i in self.items if i.status == "ready" and i.late)


def _end_of(day: date | None) -> datetime | None:
    return None if day is None else start_of(day + timedelta(days=1))


def promises(registered_at: datetime, received_at: datetime | None, turnaround_days: int | None,
             urgent_hours: int | None, cal: Calendar = WEEKENDS_ONLY) -> tuple[datetime | None, date | None]:
    """(urgent lines by, other lines by): the urgent hours count from the counter's intake (the
    lab cannot start before; not yet received: no urgent promise yet), the rest is the date on
    the customer's receipt."""
    urgent_by = local(received_at + timedelta(hours=urgent_hours)) if urgent_hours and received_at else None
    return urgent_by, expected_ready(local(registered_at), turnaround_days or 0, cal)


def work_list(now: datetime | None = None, cal: Calendar = WEEKENDS_ONLY,
              pickup_days: int = PICKUP_DAYS) -> WorkList:
    """Every ticket received or ready here, in the order above. Rows are read as tuples and the
    estimate's two figures in SQL (json_extract): building a model object or parsing the whole
    estimate per ticket cost five times the reads (bench/worklist.py)."""
    now = local(now or utc_now())
    is_open = Ticket.status.in_(OPEN)
    tickets = list(Ticket.select(Ticket.id, Ticket.number, Ticket.status, Ticket.created_at,
                                 fn.json_extract(Ticket.estimate_json, "$.turnaround_days").coerce(False),
                                 fn.json_extract(Ticket.estimate_json, "$.urgent_hours").coerce(False),
                                 Customer.organisation, Customer.contact, Customer.phone)
                   .join(Customer).where(is_open).tuples())
    steps: dict[tuple[int, str], tuple[int, datetime]] = {}  # (ticket, kind) -> its first (event, at)
    for event_id, ticket_id, kind, at in (TicketEvent.select(TicketEvent.id, TicketEvent.ticket, TicketEvent.kind,
                                                             TicketEvent.created_at)
                                          .join(Ticket).where(is_open & TicketEvent.kind.in_(OPEN))
                                          .order_by(TicketEvent.created_at, TicketEvent.id).tuples()):
        steps.setdefault((ticket_id, kind), (event_id, at))  # the first, if two desks took it in
    intake_of = {event_id: ticket_id for (ticket_id, kind), (event_id, _) in steps.items() if kind == "received"}
    counted: dict[int, int] = {}
    taken_in = fn.SUM(Case(None, ((IntakeLine.refused, 0),), IntakeLine.quantity))
    for event_id, quantity in (IntakeLine.select(IntakeLine.event, taken_in).join(TicketEvent).join(Ticket)
                               .where(is_open).group_by(IntakeLine.event).tuples()):
        if event_id in intake_of:
            counted[intake_of[event_id]] = quantity
    without_intake = [t[0] for t in tickets if t[0] not in counted]
    for start in range(0, len(without_intake), CHUNK):  # no intake known here: the lines as registered
        for ticket_id, quantity in (TicketLine.select(TicketLine.ticket, TicketLine.quantity)
                                    .where(TicketLine.ticket.in_(without_intake[start:start + CHUNK])).tuples()):
            counted[ticket_id] = counted.get(ticket_id, 0) + quantity

    items = []
    for ticket_id, number, status, created_at, turnaround, hours, organisation, contact, phone in tickets:
        taken, ready = steps.get((ticket_id, "received")), steps.get((ticket_id, "ready"))
        received_at = taken[1] if taken is not None else created_at
        urgent_by, ready_on = promises(created_at, received_at, turnaround, hours, cal)
        items.append(assess(ticket_id, number, status, (organisation, contact, phone), counted.get(ticket_id, 0),
                            received_at, ready[1] if ready is not None else None, urgent_by, ready_on, now,
                            pickup_days))
    return ordered(items, pickup_days)


def assess(key, number: str, status: str, customer: tuple[str, str, str], instruments: int,
           received_at: datetime, ready_at: datetime | None, urgent_by: datetime | None, ready_on: date | None,
           now: datetime, pickup_days: int) -> WorkItem:
    """One open ticket, late or not (the desk's and the back office's rule). `key`: the
    ticket's id here, or its uid at central."""
    if status == "received":
        late = bool((urgent_by and now > urgent_by) or (ready_on and now.date() > ready_on))
        since, waiting = received_at, 0
    else:
        since = ready_at or received_at
        waiting = (now.date() - local(since).date()).days
        late = waiting > pickup_days
    return WorkItem(key, number, status, *customer, instruments, local(since), urgent_by, ready_on, late,
                    waiting)


def ordered(items: list[WorkItem], pickup_days: int) -> WorkList:
    return WorkList(sorted(items, key=_order), pickup_days)


def _order(item: WorkItem):
    far = datetime.max.replace(tzinfo=item.since.tzinfo)
    if item.status == "received":
        return (0 if item.late else 2, item.due or far, item.number)
    return (1 if item.late else 3, -item.waiting_days, item.number)


# ---- words and files ------------------------------------------------------------------------


def state_text(item: WorkItem, lang: str) -> str:
    """在检 11-23 逾期 / 加急 11-25 08:00 / 待取 36天 超期: the earliest promise, or the wait."""
    if item.status == "ready":
        return t("desk.worklist.waiting_overdue" if item.late else "desk.worklist.waiting", lang,
                 days=item.waiting_days)
    due = item.due
    if due is None:
        return t("desk.worklist.in_lab", lang)
    urgent = item.urgent_by == due
    when = f"{due:%m-%d %H:%M}" if urgent else f"{item.ready_on:%m-%d}"
    text = t("desk.worklist.urgent" if urgent else "desk.worklist.promised", lang, when=when)
    return text + (" " + t("desk.worklist.late", lang) if item.late else "")


def item_dict(item: WorkItem, mask: Callable[[str], str] | None = None) -> dict:
    """As JSON and CSV give it; `mask`: how the phone is shown (None: in full)."""
    return {"ticket": item.ticket_id, "number": item.number, "status": item.status, "late": item.late,
            "organisation": item.organisation, "contact": item.contact,
            "phone": mask(item.phone) if mask else item.phone, "instruments": item.instruments,
            "since": item.since.isoformat(), "urgent_by": item.urgent_by.isoformat() if item.urgent_by else None,
            "ready_on": item.ready_on.isoformat() if item.ready_on else None, "waiting_days": item.waiting_days}


CSV_COLUMNS = ("status", "late", "number", "organisation", "contact", "phone", "instruments", "since", "urgent_by",
               "ready_on", "waiting_days")


def to_csv(items: list[WorkItem]) -> str:
    """For the staff who call customers: the full phone number."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        row = item_dict(item)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
