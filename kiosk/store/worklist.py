"""在办清单 at the clerk desk, read from this node's database: the tickets taken in and not yet
handed back. The rule (promises, lateness, order) is kiosk/domain/worklist.py's; this module
only reads the facts. No Textual here; `work_list` runs in the station's database thread.
"""

from __future__ import annotations

from datetime import datetime

from peewee import Case, fn

from db.models import Customer, IntakeLine, Ticket, TicketEvent, TicketLine, utc_now
from kiosk.domain.clock import local
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.worklist import PICKUP_DAYS, WorkList, assess, ordered, promises, with_returns
from kiosk.store.rows import tuples

CHUNK = 500  # tickets per IN list
OPEN = ("received", "ready")  # at the counter and not handed back; also the steps that date them


def work_list(now: datetime | None = None, cal: Calendar = WEEKENDS_ONLY,
              pickup_days: int = PICKUP_DAYS) -> WorkList:
    """Every ticket received or ready here, in the order above. Rows are read as tuples and the
    estimate's two figures in SQL (json_extract): building a model object or parsing the whole
    estimate per ticket cost five times the reads (bench/worklist.py)."""
    now = local(now or utc_now())
    is_open = Ticket.status.in_(OPEN)
    tickets = list(tuples(Ticket.select(Ticket.id, Ticket.number, Ticket.status, Ticket.created_at,
                                        fn.json_extract(Ticket.estimate_json, "$.turnaround_days").coerce(False),
                                        fn.json_extract(Ticket.estimate_json, "$.urgent_hours").coerce(False),
                                        Customer.organisation, Customer.contact, Customer.phone)
                          .join(Customer).where(is_open)))
    steps: dict[tuple[int, str], tuple[int, datetime]] = {}  # (ticket, kind) -> its first (event, at)
    for event_id, ticket_id, kind, at in tuples(TicketEvent.select(TicketEvent.id, TicketEvent.ticket,
                                                                   TicketEvent.kind, TicketEvent.created_at)
                                                .join(Ticket).where(is_open & TicketEvent.kind.in_(OPEN))
                                                .order_by(TicketEvent.created_at, TicketEvent.id)):
        steps.setdefault((ticket_id, kind), (event_id, at))  # the first, if two desks took it in
    intake_of = {event_id: ticket_id for (ticket_id, kind), (event_id, _) in steps.items() if kind == "received"}
    counted: dict[int, int] = {}
    services: dict[int, set[str]] = {}  # what is done in the lab (kiosk/i18n/status_text.py words it)
    taken_in = fn.SUM(Case(None, ((IntakeLine.refused, 0),), IntakeLine.quantity))
    for event_id, quantity in tuples(IntakeLine.select(IntakeLine.event, taken_in).join(TicketEvent).join(Ticket)
                                     .where(is_open).group_by(IntakeLine.event)):
        if event_id in intake_of:
            counted[intake_of[event_id]] = quantity
    for event_id, service in tuples(IntakeLine.select(IntakeLine.event, IntakeLine.service).distinct()
                                    .join(TicketEvent).join(Ticket).where(is_open & ~IntakeLine.refused)):
        if event_id in intake_of:
            services.setdefault(intake_of[event_id], set()).add(service)
    without_intake = [t[0] for t in tickets if t[0] not in counted]
    for start in range(0, len(without_intake), CHUNK):  # no intake known here: the lines as registered
        for ticket_id, quantity, service in tuples(
                TicketLine.select(TicketLine.ticket, TicketLine.quantity, TicketLine.service)
                .where(TicketLine.ticket.in_(without_intake[start:start + CHUNK]))):
            counted[ticket_id] = counted.get(ticket_id, 0) + quantity
            services.setdefault(ticket_id, set()).add(service)

    from kiosk.store.certificate_checks import returned_for_correction

    uids = dict(tuples(Ticket.select(Ticket.id, Ticket.uid).where(is_open)))
    returns = returned_for_correction(list(uids.values()))  # certificates sent back at dispatch
    items = []
    for ticket_id, number, status, created_at, turnaround, hours, organisation, contact, phone in tickets:
        taken, ready = steps.get((ticket_id, "received")), steps.get((ticket_id, "ready"))
        received_at = taken[1] if taken is not None else created_at
        urgent_by, ready_on = promises(created_at, received_at, turnaround, hours, cal)
        items.append(assess(ticket_id, number, status, (organisation, contact, phone), counted.get(ticket_id, 0),
                            received_at, ready[1] if ready is not None else None, urgent_by, ready_on, now,
                            pickup_days, tuple(sorted(services.get(ticket_id, ())))))
        if uids.get(ticket_id) in returns:
            items[-1] = with_returns(items[-1], *returns[uids[ticket_id]], now)
    return ordered(items, pickup_days)
