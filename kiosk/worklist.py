"""在办清单 at the clerk desk: the tickets taken in and not yet handed back, so the counter
sees what is owed to customers (the lab's promises, urgent work first) and who has not come
to collect. No Textual here; `work_list` runs in the station's database thread.

- In the lab (received, not ready): an urgent ticket is promised within its tier's hours
  from the moment the receiving counter took the instruments (the lab cannot start before);
  its other lines, and every line of a normal ticket, by the date on the customer's receipt
  (registration date + the ticket's turnaround in the institute's working days,
  kiosk/receipts.py `expected_ready`). Late: a promise has passed.
- Ready, not picked up: waiting since it was marked ready; overdue after `pickup_days`
  calendar days (the institute's commitment: collect within 30 days).

Order: late lab work (the most urgent promise first), then overdue pickups (the longest
waiting first), then the rest of the lab work by promise, then the other pickups, the
longest waiting first. The phone is given in full: clerks call customers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from db.models import Customer, IntakeLine, Ticket, TicketEvent, TicketLine, utc_now

from .holidays import WEEKENDS_ONLY, Calendar
from .receipts import expected_ready

PICKUP_DAYS = 30  # the demo institute's commitment (kiosk/data/institute.toml)
CHUNK = 500  # tickets per IN list


@dataclass(frozen=True)
class WorkItem:
    ticket_id: int
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
    return None if day is None else datetime.combine(day + timedelta(days=1), datetime.min.time()).astimezone()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def work_list(now: datetime | None = None, cal: Calendar = WEEKENDS_ONLY,
              pickup_days: int = PICKUP_DAYS) -> WorkList:
    """Every ticket received or ready here, in the order above."""
    now = (now or utc_now()).astimezone()
    tickets = list(Ticket.select(Ticket.id, Ticket.number, Ticket.status, Ticket.created_at, Ticket.estimate_json,
                                 Customer.organisation, Customer.contact, Customer.phone)
                   .join(Customer).where(Ticket.status.in_(("received", "ready"))))
    ids = [t.id for t in tickets]
    steps: dict[tuple[int, str], TicketEvent] = {}
    counted: dict[int, int] = {}
    for chunk in _chunks(ids):
        for event in (TicketEvent.select(TicketEvent.id, TicketEvent.ticket, TicketEvent.kind, TicketEvent.created_at)
                      .where(TicketEvent.ticket.in_(chunk) & TicketEvent.kind.in_(("received", "ready")))
                      .order_by(TicketEvent.created_at, TicketEvent.id)):
            steps.setdefault((event.ticket_id, event.kind), event)  # the first, if two desks took it
    received = {key[0]: e for key, e in steps.items() if key[1] == "received"}
    intake_of = {e.id: ticket_id for ticket_id, e in received.items()}
    for chunk in _chunks(list(intake_of)):
        for line in IntakeLine.select(IntakeLine.event, IntakeLine.quantity, IntakeLine.refused).where(
                IntakeLine.event.in_(chunk)):
            ticket_id = intake_of[line.event_id]
            counted[ticket_id] = counted.get(ticket_id, 0) + (0 if line.refused else line.quantity)
    without_intake = [i for i in ids if i not in counted]
    for chunk in _chunks(without_intake):  # no intake known here: its lines as registered
        for line in TicketLine.select(TicketLine.ticket, TicketLine.quantity).where(TicketLine.ticket.in_(chunk)):
            counted[line.ticket_id] = counted.get(line.ticket_id, 0) + line.quantity

    items = []
    for t in tickets:
        estimate = json.loads(t.estimate_json)
        taken = received.get(t.id)
        since_received = taken.created_at if taken is not None else t.created_at
        hours = estimate.get("urgent_hours")
        urgent_by = since_received + timedelta(hours=hours) if hours else None
        ready_on = expected_ready(t.created_at.astimezone(), estimate.get("turnaround_days") or 0, cal)
        if t.status == "received":
            late = bool((urgent_by and now > urgent_by) or (ready_on and now.date() > ready_on))
            since, waiting = since_received, 0
        else:
            ready = steps.get((t.id, "ready"))
            since = ready.created_at if ready is not None else since_received
            waiting = (now.date() - since.astimezone().date()).days
            late = waiting > pickup_days
        items.append(WorkItem(t.id, t.number, t.status, t.customer.organisation, t.customer.contact,
                              t.customer.phone, counted.get(t.id, 0), since.astimezone(),
                              urgent_by.astimezone() if urgent_by else None, ready_on, late, waiting))
    return WorkList(sorted(items, key=_order), pickup_days)


def _order(item: WorkItem):
    far = datetime.max.replace(tzinfo=item.since.tzinfo)
    if item.status == "received":
        return (0 if item.late else 2, item.due or far, item.number)
    return (1 if item.late else 3, -item.waiting_days, item.number)
