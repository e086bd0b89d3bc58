"""Undo here what another device's events did, once central has voided them (a stolen or
misbehaving device, revoked with `--void-since`: central/voiding.py). The change feed's
`event.voided` handler calls it inside the page's transaction (kiosk/sync/feed.py).

Only what that device stated is touched (the rows here that name it as their device; a close,
by the moment it states), and each undo is idempotent: what never came here, or was undone
already, is nothing to do.

- A step (received, ready, picked up): its ticket_event and intake lines go, and the ticket's
  status is again the furthest step left here (registered if none). A step still held for its
  ticket goes too.
- A registration: the ticket goes (its lines and its customer) if nothing here refers to it. If
  a step, a rating or a print job here does, the instruments or the customer really were at
  a counter here: the ticket stays as it is (logged), as central keeps those steps in force.
  Removed rather than marked void: this database has no "void" status for the counters to
  show, and a forged ticket must not be found by its number and taken in.
- A rating: it goes, with its follow-up.
- A follow-up's close: the follow-up is open again here if that close is what closed it here
  (closed at the moment the close states, by no clerk of this node); a close made here stays.
- A call-back or an appeal that device recorded: it goes. Its decision of an appeal: the appeal
  is waiting again here (a later decision by someone else stands).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from db.models import (
    Appeal,
    Customer,
    Device,
    Feedback,
    Followup,
    FollowupCall,
    HeldChange,
    IntakeLine,
    PrintJob,
    Ticket,
    TicketEvent,
    TicketLine,
)
from kiosk.domain.voiding import EventVoided, VoidedEvent
from kiosk.store.desk import STATUSES

log = logging.getLogger(__name__)
WORK_ORDER_KINDS = ("followup.called", "rating.appealed", "appeal.decided")


def undo(voided: EventVoided, own_uid: str) -> int:
    """What these voided events did here, undone; how many things were."""
    if voided.device_uid == own_uid:
        return 0  # this node's own events: it is the revoked device, and pulls nothing more
    # None: no row here names that device yet (a step of it may still be held for its ticket).
    device = Device.get_or_none(Device.uid == voided.device_uid)
    device_id = device.id if device else None
    done = 0
    # Registrations last: a ticket whose steps and rating are voided too is then free to go.
    for event in sorted(voided.events, key=lambda e: e.kind == "ticket.registered"):
        if event.ref is None:
            continue
        if event.kind == "followup.closed":
            done += _close(event.ref, event.at)
        elif event.kind in WORK_ORDER_KINDS:
            done += _work_order(event, voided.device_uid)
        elif event.kind.startswith("certificate."):  # a certificate check, kept by the device's uid
            from kiosk.store.certificate_checks import undo_pulled

            done += undo_pulled(event.ref, voided.device_uid)
        elif event.kind.removeprefix("ticket.") in STATUSES[1:]:
            done += _step(event, device_id)
        elif device_id is None:
            continue
        elif event.kind == "ticket.registered":
            done += _registration(event.ref, device_id)
        elif event.kind == "feedback.given":
            done += _rating(event.ref, device_id)
    return done


def _step(event: VoidedEvent, device_id: int | None) -> int:
    row = None if device_id is None else TicketEvent.get_or_none(
        (TicketEvent.uid == event.ref) & (TicketEvent.device == device_id))
    if row is None:
        return _held(event)
    IntakeLine.delete().where(IntakeLine.event == row.id).execute()
    TicketEvent.delete().where(TicketEvent.id == row.id).execute()
    kinds: list[str] = [step.kind for step in TicketEvent.select(TicketEvent.kind)
                        .where(TicketEvent.ticket == row.ticket_id)]
    Ticket.update(status=max(kinds, key=STATUSES.index, default="registered")).where(
        Ticket.id == row.ticket_id).execute()
    return 1


def _held(event: VoidedEvent) -> int:
    """A step still waiting here for its ticket (kiosk/sync/feed.py holds it)."""
    if event.ticket is None:
        return 0
    held = [h.seq for h in HeldChange.select().where(HeldChange.ticket_uid == event.ticket)
            if json.loads(h.data).get("event") == event.ref]
    return HeldChange.delete().where(HeldChange.seq.in_(held)).execute() if held else 0


def _registration(ticket_uid: str, device_id: int) -> int:
    ticket = Ticket.get_or_none((Ticket.uid == ticket_uid) & (Ticket.device == device_id))
    if ticket is None:
        return 0
    if (TicketEvent.select().where(TicketEvent.ticket == ticket.id).exists()
            or Feedback.select().where(Feedback.ticket == ticket.id).exists()
            or PrintJob.select().where(PrintJob.ticket == ticket.id).exists()):
        log.warning("ticket %s: its registration was voided at central, but it was served here; kept",
                    ticket.number)
        return 0
    TicketLine.delete().where(TicketLine.ticket == ticket.id).execute()
    Ticket.delete().where(Ticket.id == ticket.id).execute()
    if not Ticket.select().where(Ticket.customer == ticket.customer_id).exists():
        Customer.delete().where(Customer.id == ticket.customer_id).execute()
    return 1


def _rating(feedback_uid: str, device_id: int) -> int:
    rating = Feedback.get_or_none((Feedback.uid == feedback_uid) & (Feedback.device == device_id))
    if rating is None:
        return 0
    Followup.delete().where(Followup.feedback == rating.id).execute()
    Feedback.delete().where(Feedback.id == rating.id).execute()
    return 1


def _close(followup_uid: str, at: datetime | None) -> int:
    return Followup.update(status="open", call_note="", closed_at=None, closed_by=None, closed_by_name=None).where(
        (Followup.uid == followup_uid) & (Followup.status == "closed") & Followup.closed_by.is_null()
        & (Followup.closed_at == at)).execute() if at is not None else 0


def _work_order(event: VoidedEvent, device_uid: str) -> int:
    """A call-back, an appeal or a decision the revoked desk recorded (kept here by its uid, with
    that desk's uid: kiosk/store/window_ratings.py store_pulled)."""
    if event.kind == "followup.called":
        return FollowupCall.delete().where(
            (FollowupCall.uid == event.ref) & (FollowupCall.device == device_uid)).execute()
    if event.kind == "rating.appealed":
        return Appeal.delete().where((Appeal.uid == event.ref) & (Appeal.device == device_uid)).execute()
    return Appeal.update(decision=None, decision_reason=None, decided_by=None, decided_by_name=None, decided_at=None,
                         decided_device=None, decided_via=None).where(
        (Appeal.uid == event.ref) & (Appeal.decided_device == device_uid)).execute()
