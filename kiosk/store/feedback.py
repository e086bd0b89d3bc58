"""服务评价 Feedback at the kiosk, and 回访 at the desk: the SQL. The rules (the scale, what a
rating must say, the ticket pass, the follow-up's deadline) are kiosk/domain/feedback.py's.
No Textual here.

A customer rates the service once per ticket (the pickup slip's or the ticket's number, or
the ticket's QR code), or anonymously; an anonymous rating stores no ticket link at all.

Which tickets can be rated with a link: those this node knows that were taken in at a
counter (received, ready or picked up). A ticket only registered has not been served yet
(the customer is told, and may rate without the ticket). This node knows the tickets it
registered and the steps sync brought for them: offline, a ticket picked up meanwhile may
still look "registered" here.

The customer proves holding the ticket (its signed code, or the last four digits of the
contact phone: `check_phone_digits`) and gets a `TicketPass` from this module only;
`give_feedback` links a rating to a ticket only with a valid one.

The rating, its follow-up and its outbox event `feedback.given` are written in ONE
transaction, or nothing is. A second rating of the same ticket writes nothing (a unique
index on feedback.ticket_id is the last word). The call-back phone is in the event's
payload (the central system calls the customer) and never in a log line.
"""

from __future__ import annotations

import hmac
import logging
from datetime import date, datetime
from typing import cast

from peewee import IntegrityError

from db.inserts import insert
from db.models import (
    Clerk,
    Customer,
    Device,
    DeviceKey,
    Feedback,
    Followup,
    OutboxEvent,
    Ticket,
    TicketEvent,
    database_proxy,
    utc_now,
)
from kiosk.domain import events
from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.domain.feedback import (
    LEVELS,
    MAX_NOTE,
    POOR,
    RATABLE,
    ClosedBy,
    FeedbackEntry,
    FeedbackErrors,
    FeedbackResult,
    FollowupClosed,
    FollowupError,
    OpenFollowup,
    PhoneCheck,
    PhoneTries,
    TicketLookup,
    TicketPass,
    clean_phone_digits,
    followup_due,
    last_four,
    validate,
)
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_text

log = logging.getLogger(__name__)

# Wrong phone-check tries per ticket since this kiosk started (kiosk/domain/feedback.py PhoneTries).
PHONE_TRIES_HERE = PhoneTries()


def find_ticket_for_feedback(text: str, keys_for=None, tries: PhoneTries | None = None) -> TicketLookup:
    """A pickup slip's or ticket's number (typed, any width, with or without hyphens), the
    pickup voucher's QR (the number with spaces), or the ticket's signed QR code. Only the
    signed code comes with a pass; a number needs the phone check."""
    from kiosk.domain.ticketcode import looks_like_code
    from kiosk.store.desk import identify

    found = identify(text, keys_for)
    if found.ticket_id is None:
        return TicketLookup(None, error=found.for_customer)
    ticket = Ticket.get_by_id(found.ticket_id)
    if ticket.status not in RATABLE:
        return TicketLookup(None, ticket.number, "not_served")
    if looks_like_code((text or "").strip()):  # identify found it: the signature was checked
        rated = Feedback.select().where((Feedback.ticket == ticket.id) & Feedback.stage.is_null()).exists()
        return TicketLookup(ticket.id, ticket.number, None, rated, ticket_pass=TicketPass._issue(ticket.id, "code"))
    # A number typed is no proof: even "rated already" waits for the phone check, or anyone could
    # learn which tickets were rated by trying numbers.
    if last_four(Customer.get_by_id(ticket.customer_id).phone) is None:
        return TicketLookup(None, ticket.number, "no_phone")
    if (tries or PHONE_TRIES_HERE).left(ticket.uid) <= 0:
        return TicketLookup(None, ticket.number, "locked")
    return TicketLookup(ticket.id, ticket.number, None, needs_phone_check=True)


def check_phone_digits(ticket_id: int, digits: str, tries: PhoneTries | None = None) -> PhoneCheck:
    """Right digits: a pass for this ticket. Wrong ones count against it (PHONE_TRIES here)."""
    tries = tries or PHONE_TRIES_HERE
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        return PhoneCheck(None, "not_found")
    if ticket.status not in RATABLE:
        return PhoneCheck(None, "not_served")
    left = tries.left(ticket.uid)
    if left <= 0:
        return PhoneCheck(None, "locked", 0)
    expected = last_four(Customer.get_by_id(ticket.customer_id).phone)
    if expected is None:
        return PhoneCheck(None, "no_phone", left)
    try:
        given = clean_phone_digits(digits)
    except FieldError:
        return PhoneCheck(None, "digits", left)  # a slip of the finger, not a guess
    if hmac.compare_digest(given, expected):
        log.info("feedback: phone check passed for ticket %s", ticket.id)
        rated = Feedback.select().where((Feedback.ticket == ticket.id) & Feedback.stage.is_null()).exists()
        return PhoneCheck(TicketPass._issue(ticket.id, "phone"), None, left, rated)
    left = tries.wrong(ticket.uid)
    log.info("feedback: phone check failed for ticket %s, %s tries left", ticket.id, left)
    return PhoneCheck(None, "wrong" if left else "locked", left)


# ---- giving feedback -----------------------------------------------------------------------


def _steps(ticket_id: int) -> dict[str, dict]:
    """Where and by whom the ticket was received and picked up, as far as this node knows."""
    steps = {}
    query = (TicketEvent.select(TicketEvent, Device).join(Device)
             .where((TicketEvent.ticket == ticket_id) & TicketEvent.kind.in_(("received", "picked_up"))))
    for event in query:
        clerk = None
        if event.clerk_id:
            row = Clerk.get_or_none(Clerk.id == event.clerk_id)
            clerk = row.username if row else None
        else:  # a step pulled from the central system carries its clerk in the payload
            try:
                step = events.read_kept(events.STEPS[event.kind], event.payload)
            except ValueError:  # msgspec.DecodeError: not a step's payload
                clerk = None
            else:
                clerk = step.clerk.username if step.clerk is not None else None
        steps[event.kind] = {"device": event.device.uid, "clerk": clerk}
    return steps


def this_device() -> Device:
    return Device.select().order_by(Device.id).get()


def give_feedback(entry: FeedbackEntry, device: Device | None = None, *, holidays: Calendar = WEEKENDS_ONLY,
                  now: datetime | None = None) -> FeedbackResult:
    """Validate (FeedbackErrors), then store the rating, its follow-up if poor and its outbox
    event in one transaction. A ticket already rated: FeedbackResult(already_rated=True),
    nothing written. A ticket not known or not served, or without its pass (the signed code, or the
    phone check): FeedbackErrors on `ticket`."""
    entry = validate(entry)
    if entry.ticket_id is not None and not (entry.ticket_pass and entry.ticket_pass.admits(entry.ticket_id)):
        raise FeedbackErrors({"ticket": FieldError("feedback.error.unverified")})
    now = now or utc_now()
    device = device or this_device()
    uid, event_uid = uuid7(), uuid7()
    poor = entry.rating in POOR
    followup = events.FollowupOpened(uuid7(), followup_due(local(now).date(), holidays)) if poor else None
    try:
        with database_proxy.atomic():
            ticket, steps = None, {}
            if entry.ticket_id is not None:
                ticket = Ticket.get_or_none(Ticket.id == entry.ticket_id)
                if ticket is None or ticket.status not in RATABLE:
                    raise FeedbackErrors({"ticket": FieldError(
                        "feedback.error.not_found" if ticket is None else "feedback.error.not_served")})
                if Feedback.select().where((Feedback.ticket == ticket.id) & Feedback.stage.is_null()).exists():
                    return FeedbackResult(already_rated=True)  # the window's ratings (a stage each) are apart
                steps = _steps(ticket.id)
            received, picked_up = steps.get("received", {}), steps.get("picked_up", {})
            feedback_id = insert(
                Feedback, uid=uid, ticket=ticket.id if ticket else None, device=device.id, rating=entry.rating,
                hearts=",".join(entry.hearts), reason=entry.reason, reason_text=entry.reason_text,
                comment=entry.comment, callback_phone=entry.phone, language=entry.language,
                received_device=received.get("device"), received_clerk=received.get("clerk"),
                picked_up_device=picked_up.get("device"), picked_up_clerk=picked_up.get("clerk"), created_at=now,
                ticket_number=ticket.number if ticket else None)
            if followup is not None:
                insert(Followup, uid=followup.uid, feedback=feedback_id, due_on=followup.due_on, status="open",
                       call_note="", created_at=now)
            # level, hearts and language: in the events' vocabulary, as validate() checked
            given = events.FeedbackGiven(
                feedback=uid, device=device.uid, at=now, ticket=ticket.uid if ticket else None,
                number=ticket.number if ticket else None, rating=entry.rating,
                level=cast(events.Level, LEVELS[entry.rating]), hearts=cast(list[events.Heart], list(entry.hearts)),
                reason=entry.reason, reason_text=entry.reason_text, comment=entry.comment,
                callback=entry.phone is not None, phone=entry.phone, language=cast(events.Language, entry.language),
                steps={kind: events.StepSeen(**seen) for kind, seen in steps.items()}, followup=followup)
            insert(OutboxEvent, uid=event_uid, kind="feedback.given", created_at=now, payload=events.to_json(given))
    except IntegrityError:
        # the unique index: rated meanwhile (another writer); the transaction left nothing
        if entry.ticket_id is not None and Feedback.select().where(
                (Feedback.ticket == entry.ticket_id) & Feedback.stage.is_null()).exists():
            return FeedbackResult(already_rated=True)
        raise
    log.info("feedback %s stored (rating %s%s)", uid, entry.rating, ", follow-up opened" if poor else "")
    return FeedbackResult(False, feedback_id, uid, followup.due_on if followup else None)


# ---- follow-ups -----------------------------------------------------------------------------


def device_names() -> dict[str, str]:
    """device uid -> its name here: as enrolled at central (DeviceKey.name), else its prefix."""
    names = {d.uid: d.prefix for d in Device.select(Device.uid, Device.prefix) if d.prefix}
    for key in DeviceKey.select(DeviceKey.device_uid, DeviceKey.name).where(DeviceKey.name.is_null(False)):
        name = (key.name or "").strip()  # never None: the query's condition
        if name:
            names[key.device_uid] = name
    return names


def open_followups(today: date | None = None) -> list[OpenFollowup]:
    """Open follow-ups, the overdue ones first (earliest due date first). The ticket's number
    is the rating's own (feedback.ticket_number: a desk may hold a rating without its ticket)."""
    today = today or institute_today()
    query = (Followup.select(Followup, Feedback, Device).join(Feedback).join(Device)
             .where(Followup.status == "open").order_by(Followup.due_on, Followup.id))
    rows = list(query)
    # A rating stored before schema 9 has no number of its own: its ticket's.
    missing = [f.feedback.ticket_id for f in rows if f.feedback.ticket_id and not f.feedback.ticket_number]
    numbers: dict[int | None, str] = (  # None, an anonymous rating's ticket, finds none
        {t.id: t.number for t in Ticket.select(Ticket.id, Ticket.number).where(Ticket.id.in_(missing))}
        if missing else {})
    names = device_names() if rows else {}
    clerks = {c.username: c.display_name for c in Clerk.select(Clerk.username, Clerk.display_name)} if rows else {}
    result = []
    for f in rows:
        fb = f.feedback
        served = "picked_up" if fb.picked_up_device or fb.picked_up_clerk else "received"
        desk, clerk = getattr(fb, f"{served}_device"), getattr(fb, f"{served}_clerk")
        result.append(OpenFollowup(
            f.id, f.uid, f.due_on, f.due_on < today, fb.ticket_number or numbers.get(fb.ticket_id), fb.rating,
            fb.reason, fb.reason_text, fb.comment, fb.callback_phone, fb.created_at,
            kiosk=names.get(fb.device.uid), desk=names.get(desk) if desk else None,
            clerk=(clerks.get(clerk) or clerk) if clerk else None, counter=fb.counter))
    return sorted(result, key=lambda f: (not f.overdue, f.due_on, f.id))


def who_closed(followup_id: int) -> ClosedBy | None:
    """None: no such follow-up, or still open."""
    row = Followup.get_or_none(Followup.id == followup_id)
    if row is None or row.status == "open":
        return None
    name = row.closed_by_name
    if row.closed_by_id is not None:
        clerk = Clerk.get_or_none(Clerk.id == row.closed_by_id)
        name = clerk.display_name if clerk else name
    return ClosedBy(row.closed_at, name)


def close_followup(followup_id: int, clerk, note: str, device: Device | None = None, *,
                   now: datetime | None = None, fix: str | None = None) -> FollowupClosed:
    """Record the call and close the follow-up with a note, with its outbox event
    `followup.closed`, in one transaction. FollowupError: no_followup | closed | bad_note.
    `fix`: the customer's rating of the fix (kiosk/domain/feedback.py FIX_LEVELS), or None."""
    try:
        note = clean_text(note, required=True, max_length=MAX_NOTE)
    except FieldError as e:
        raise FollowupError("bad_note", f"note: {e.key}") from None
    now = now or utc_now()
    device = device or this_device()
    event_uid = uuid7()
    with database_proxy.atomic():
        followup = Followup.get_or_none(Followup.id == followup_id)
        if followup is None:
            raise FollowupError("no_followup", f"There is no follow-up {followup_id}.")
        if followup.status != "open":
            raise FollowupError("closed", f"Follow-up {followup_id} was closed at {followup.closed_at:%Y-%m-%d %H:%M}.")
        closed = Followup.update(status="closed", call_note=note, closed_at=now, fix_rating=fix,
                                 closed_by=clerk.id if clerk else None).where(
            (Followup.id == followup_id) & (Followup.status == "open")).execute()
        if closed != 1:
            raise FollowupError("closed", f"Follow-up {followup_id} changed meanwhile.")
        feedback = Feedback.get_by_id(followup.feedback_id)
        closing = events.FollowupClosed(
            followup=followup.uid, feedback=feedback.uid, device=device.uid, at=now, note=note,
            clerk=events.Clerk(username=clerk.username, name=clerk.display_name) if clerk else None,
            fix=cast(events.FixLevel, fix) if fix else None)
        insert(OutboxEvent, uid=event_uid, kind="followup.closed", created_at=now, payload=events.to_json(closing))
    return FollowupClosed(followup_id, followup.uid, event_uid, now)
