"""进度查询 at the lobby kiosk: a customer scans the ticket (or the pickup voucher, or types the
number) and sees where the instruments are: registered (go to the receiving counter), in the
lab (by when), ready (go to the dispatch counter), or picked up. No Textual here; the lookup
runs in the station's database thread.

What is shown is the ticket's state and dates only: never the organisation, contact or phone
(the lobby is public, and a number can be typed by anyone). A lobby kiosk knows the steps of
the tickets it registered (sync brings them, kiosk/sync/feed.py); one registered elsewhere is
answered "ask at the counter".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from db.models import Ticket, TicketEvent, utc_now
from kiosk.domain.clock import local
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.worklist import PICKUP_DAYS, assess, promises
from kiosk.store.rows import tuples


@dataclass(frozen=True)
class Progress:
    """`error` (an i18n key suffix): not_found | damaged | not_here (a valid code of a ticket
    this kiosk does not have) | invalid (forged, revoked, unknown issuer, newer format) | None.
    `late`: in the lab past a promise, or ready for longer than the pickup period."""

    number: str = ""
    status: str | None = None  # registered | received | ready | picked_up
    error: str | None = None
    registered_at: datetime | None = None
    steps: dict[str, datetime] | None = None  # kind -> when (aware), first of each
    urgent_by: datetime | None = None
    ready_on: date | None = None
    late: bool = False
    waiting_days: int = 0
    in_work: tuple[str, ...] = ()  # received: the services of the lines in the lab (what is being done)


def ticket_progress(text: str, *, now: datetime | None = None, cal: Calendar = WEEKENDS_ONLY,
                    pickup_days: int = PICKUP_DAYS, keys_for=None) -> Progress:
    from kiosk.store.desk import identify, services_in_work

    found = identify(text, keys_for)
    if found.ticket_id is None:
        return Progress(error=found.for_customer)
    now = local(now or utc_now())
    ticket = Ticket.get_by_id(found.ticket_id)
    steps: dict[str, datetime] = {}
    for kind, at in tuples(TicketEvent.select(TicketEvent.kind, TicketEvent.created_at)
                           .where(TicketEvent.ticket == ticket.id).order_by(TicketEvent.created_at, TicketEvent.id)):
        steps.setdefault(kind, local(at))
    estimate = json.loads(ticket.estimate_json)  # as the customer was shown it
    urgent_by, ready_on = promises(ticket.created_at, steps.get("received"), estimate.get("turnaround_days"),
                                   estimate.get("urgent_hours"), cal)
    late, waiting = False, 0
    if ticket.status in ("received", "ready"):  # the desk's work list's rule
        item = assess(ticket.id, ticket.number, ticket.status, ("", "", ""), 0,
                      steps.get("received", ticket.created_at), steps.get("ready"), urgent_by, ready_on, now,
                      pickup_days)
        late, waiting = item.late, item.waiting_days
    return Progress(ticket.number, ticket.status, None, local(ticket.created_at), steps, urgent_by, ready_on,
                    late, waiting, services_in_work(ticket.id) if ticket.status == "received" else ())
