"""服务评价 Feedback: the public-service 好差评 scale, at the kiosk. No Textual here.

A customer rates the service once per ticket (the pickup slip's or the ticket's number, or
the ticket's QR code), or anonymously; an anonymous rating stores no ticket link at all.
Five levels, one tap; then, optional, the "five hearts", a comment and a call back with a
phone number. A poor rating (不满意, 非常不满意) needs a reason and opens a follow-up due in
15 working days (weekends and the institute's holiday list excluded).

Which tickets can be rated with a link: those this node knows that were taken in at a
counter (received, ready or picked up). A ticket only registered has not been served yet
(the customer is told, and may rate without the ticket). This node knows the tickets it
registered and the steps sync brought for them: offline, a ticket picked up meanwhile may
still look "registered" here.

Who may link a rating to a ticket: whoever holds it. The ticket's signed QR code cannot be
forged, so scanning it is enough. A number (typed, or the pickup voucher's plain-number QR) is
sequential and easy to guess, so it needs the last four digits of the contact phone given at
registration (手机尾号后四位); three wrong tries for a ticket and this kiosk offers only the
anonymous rating for it until it restarts. Either way the customer gets a `TicketPass` from this
module, and `give_feedback` links a rating to a ticket only with a valid one.

The rating, its follow-up and its outbox event `feedback.given` are written in ONE
transaction, or nothing is. A second rating of the same ticket writes nothing (a unique
index on feedback.ticket_id is the last word). The call-back phone is in the event's
payload (the central system calls the customer) and never in a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime

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
from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_phone, clean_text
from kiosk.domain.vocabulary import normalise_token
from kiosk.domain.workdays import add_working_days

log = logging.getLogger(__name__)

# rating -> level key (the 好差评 scale): 5 is best.
LEVELS = {5: "very_satisfied", 4: "satisfied", 3: "basic", 2: "dissatisfied", 1: "very_dissatisfied"}
POOR = frozenset({1, 2})
HEARTS = ("warm", "careful", "patient", "dedicated", "reassuring")  # 热心 细心 耐心 尽心 放心
REASONS = ("slow", "attitude", "fees", "unclear", "quality", "other")
MAX_COMMENT = 500
MAX_REASON_TEXT = 200
MAX_NOTE = 500
FOLLOWUP_WORKING_DAYS = 15
RATABLE = ("received", "ready", "picked_up")  # a ticket served at a counter
PHONE_TRIES = 3  # wrong last-four-digits tries for a ticket, then the anonymous rating only


class FeedbackErrors(ValueError):
    """What is wrong, per field (rating, hearts, reason, reason_text, comment, phone)."""

    def __init__(self, errors: dict[str, FieldError]):
        super().__init__(", ".join(f"{k}: {e.key}" for k, e in errors.items()))
        self.errors = errors


class FollowupError(ValueError):
    """`kind`: no_followup | closed | bad_note."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# ---- proof that the customer holds the ticket ----------------------------------------------

_PASS_KEY = secrets.token_bytes(32)  # this process's: a pass is good in the kiosk that issued it


def _seal(ticket_id: int, how: str) -> str:
    return hmac.new(_PASS_KEY, f"{ticket_id}:{how}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TicketPass:
    """Issued by this module only: the ticket's signed code was scanned (`how` "code") or the
    last four digits of its contact phone were given right ("phone"). `give_feedback` links a
    rating to a ticket only with a pass for that very ticket; one made up elsewhere fails."""

    ticket_id: int
    how: str
    seal: str = field(repr=False)

    @classmethod
    def _issue(cls, ticket_id: int, how: str) -> TicketPass:
        return cls(ticket_id, how, _seal(ticket_id, how))

    def admits(self, ticket_id: int | None) -> bool:
        return (ticket_id is not None and self.ticket_id == ticket_id and self.how in ("code", "phone")
                and isinstance(self.seal, str) and self.seal.isascii()
                and hmac.compare_digest(self.seal, _seal(ticket_id, self.how)))


# ---- what the customer chose -------------------------------------------------------------


@dataclass
class FeedbackDraft:
    """The customer's choices so far, kept by the feedback screens (never in widgets only);
    it goes with them when the kiosk returns to the welcome screen."""

    ticket_id: int | None = None
    number: str = ""  # the ticket's number, shown to the customer who scanned it; nothing else
    rating: int | None = None
    hearts: set[str] = field(default_factory=set)
    reason: str | None = None
    reason_text: str = ""
    comment: str = ""
    callback: bool = False
    phone: str = ""
    ticket_pass: TicketPass | None = None  # from find_ticket_for_feedback or check_phone_digits

    @property
    def poor(self) -> bool:
        return self.rating in POOR

    @property
    def is_empty(self) -> bool:
        return self == FeedbackDraft()

    def toggle_heart(self, heart: str) -> None:
        if heart not in HEARTS:
            raise ValueError(heart)
        self.hearts ^= {heart}

    def entry(self, language: str = "zh") -> FeedbackEntry:
        return FeedbackEntry(
            ticket_id=self.ticket_id, rating=self.rating or 0,
            hearts=tuple(h for h in HEARTS if h in self.hearts), reason=self.reason if self.poor else None,
            reason_text=self.reason_text if self.poor else "", comment=self.comment,
            phone=self.phone if self.callback else None, language=language, ticket_pass=self.ticket_pass)


@dataclass(frozen=True)
class FeedbackEntry:
    """One rating as given. `phone` None: no call back asked for. A `ticket_id` needs its
    `ticket_pass` (see TicketPass)."""

    ticket_id: int | None
    rating: int
    hearts: tuple[str, ...] = ()
    reason: str | None = None
    reason_text: str = ""
    comment: str = ""
    phone: str | None = None
    language: str = "zh"
    ticket_pass: TicketPass | None = None


def validate(entry: FeedbackEntry) -> FeedbackEntry:
    """The entry cleaned, or FeedbackErrors naming each bad field (i18n keys)."""
    errors: dict[str, FieldError] = {}
    rating = entry.rating
    if isinstance(rating, bool) or rating not in LEVELS:
        errors["rating"] = FieldError("feedback.error.rating")
    hearts = tuple(h for h in HEARTS if h in entry.hearts)
    if len(set(entry.hearts)) != len(hearts):
        errors["hearts"] = FieldError("feedback.error.hearts")
    reason, reason_text = entry.reason, ""
    if rating in POOR:
        if reason not in REASONS:
            errors["reason"] = FieldError("feedback.error.reason")
        try:
            reason_text = clean_text(entry.reason_text, required=reason == "other", max_length=MAX_REASON_TEXT)
        except FieldError as e:
            errors["reason_text"] = e
    else:
        reason = None  # a reason is for a poor rating; a good one carries none
    try:
        comment = clean_text(entry.comment, max_length=MAX_COMMENT)
    except FieldError as e:
        errors["comment"] = e
    phone = None
    if entry.phone is not None:
        try:
            if not entry.phone.strip():
                raise FieldError("error.required")
            phone = clean_phone(entry.phone)
        except FieldError as e:
            errors["phone"] = e
    if entry.language not in ("zh", "en"):
        raise ValueError(f"language: zh or en, not {entry.language!r}")
    if errors:
        raise FeedbackErrors(errors)
    return FeedbackEntry(entry.ticket_id, rating, hearts, reason, reason_text, comment, phone, entry.language,
                         entry.ticket_pass)


# ---- finding the ticket -------------------------------------------------------------------


@dataclass(frozen=True)
class TicketLookup:
    """What a scanned or typed text names, for feedback. `error` (an i18n key suffix):
    not_found | damaged | invalid | not_here | not_served | no_phone (found by its number, but
    no phone on record to check: anonymous only) | locked (PHONE_TRIES wrong tries for it here:
    anonymous only) | None. `rated`: found by its signed code, and it has a rating (for a number,
    the phone check says). `needs_phone_check`: found by its number:
    ask the last four digits of the contact phone (check_phone_digits) before rating it.
    `ticket_pass`: found by its signed code, which is proof enough."""

    ticket_id: int | None
    number: str = ""
    error: str | None = None
    rated: bool = False
    needs_phone_check: bool = False
    ticket_pass: TicketPass | None = None


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
        rated = Feedback.select().where(Feedback.ticket == ticket.id).exists()
        return TicketLookup(ticket.id, ticket.number, None, rated, ticket_pass=TicketPass._issue(ticket.id, "code"))
    # A number typed is no proof: even "rated already" waits for the phone check, or anyone could
    # learn which tickets were rated by trying numbers.
    if _last_four(Customer.get_by_id(ticket.customer_id).phone) is None:
        return TicketLookup(None, ticket.number, "no_phone")
    if (tries or PHONE_TRIES_HERE).left(ticket.uid) <= 0:
        return TicketLookup(None, ticket.number, "locked")
    return TicketLookup(ticket.id, ticket.number, None, needs_phone_check=True)


# ---- the phone check: the last four digits of the contact phone ------------------------------


class PhoneTries:
    """Wrong tries per ticket (by uid) since the kiosk started; in memory only. Counted here,
    not per screen: going back and starting again does not give a guesser three more tries."""

    def __init__(self) -> None:
        self._wrong: dict[str, int] = {}
        self._lock = threading.Lock()

    def left(self, ticket_uid: str) -> int:
        with self._lock:
            return max(0, PHONE_TRIES - self._wrong.get(ticket_uid, 0))

    def wrong(self, ticket_uid: str) -> int:
        """Count a wrong try; how many are left."""
        with self._lock:
            self._wrong[ticket_uid] = self._wrong.get(ticket_uid, 0) + 1
            return max(0, PHONE_TRIES - self._wrong[ticket_uid])

    def forget(self) -> None:
        with self._lock:
            self._wrong.clear()


PHONE_TRIES_HERE = PhoneTries()


@dataclass(frozen=True)
class PhoneCheck:
    """The answer to four digits. `ticket_pass`: they were right. `error` (an i18n key suffix):
    digits (not four digits: not counted as a try) | wrong (`tries_left` more) | locked (no
    tries left: anonymous only) | no_phone | not_found | not_served. Never the stored phone.
    `rated`: right digits, but the ticket has a rating (said only now, to its owner)."""

    ticket_pass: TicketPass | None
    error: str | None = None
    tries_left: int = PHONE_TRIES
    rated: bool = False


_DIGITS4 = re.compile(r"[0-9]{4}")


def clean_phone_digits(text: str) -> str:
    """Four digits as typed, full-width or with spaces; FieldError otherwise."""
    try:
        digits = clean_text(text, required=True, max_length=20).replace(" ", "")
    except FieldError as e:
        if e.key == "error.required":
            raise
        raise FieldError("feedback.error.digits") from None
    if not _DIGITS4.fullmatch(digits):
        raise FieldError("feedback.error.digits")
    return digits


def _last_four(phone: str | None) -> str | None:
    """The last four digits of a stored phone: a mobile's, a landline's local number's (an
    extension is not what people remember), else of whatever digits there are; None: no phone."""
    if not phone or not phone.strip():
        return None
    try:
        canonical = clean_phone(phone)
    except FieldError:
        digits = "".join(ch for ch in normalise_token(phone) if "0" <= ch <= "9")
        return digits[-4:] if len(digits) >= 4 else None
    parts = canonical.split("-")
    local = parts[1] if parts[0].startswith("0") and len(parts) > 1 else parts[0]
    return local[-4:]


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
    expected = _last_four(Customer.get_by_id(ticket.customer_id).phone)
    if expected is None:
        return PhoneCheck(None, "no_phone", left)
    try:
        given = clean_phone_digits(digits)
    except FieldError:
        return PhoneCheck(None, "digits", left)  # a slip of the finger, not a guess
    if hmac.compare_digest(given, expected):
        log.info("feedback: phone check passed for ticket %s", ticket.id)
        rated = Feedback.select().where(Feedback.ticket == ticket.id).exists()
        return PhoneCheck(TicketPass._issue(ticket.id, "phone"), None, left, rated)
    left = tries.wrong(ticket.uid)
    log.info("feedback: phone check failed for ticket %s, %s tries left", ticket.id, left)
    return PhoneCheck(None, "wrong" if left else "locked", left)


# ---- giving feedback -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackResult:
    """`already_rated`: the ticket had a rating; nothing was written."""

    already_rated: bool
    feedback_id: int | None = None
    uid: str | None = None
    followup_due: date | None = None


def followup_due(given_on: date, cal: Calendar = WEEKENDS_ONLY) -> date:
    """15 working days after the day of the rating (that day not counted)."""
    return add_working_days(given_on, FOLLOWUP_WORKING_DAYS, cal.holidays, cal.workdays)


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
                clerk = (json.loads(event.payload).get("clerk") or {}).get("username")
            except (ValueError, AttributeError):
                clerk = None
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
    due = followup_due(local(now).date(), holidays) if poor else None
    followup_uid = uuid7() if poor else None
    try:
        with database_proxy.atomic():
            ticket, steps = None, {}
            if entry.ticket_id is not None:
                ticket = Ticket.get_or_none(Ticket.id == entry.ticket_id)
                if ticket is None or ticket.status not in RATABLE:
                    raise FeedbackErrors({"ticket": FieldError(
                        "feedback.error.not_found" if ticket is None else "feedback.error.not_served")})
                if Feedback.select().where(Feedback.ticket == ticket.id).exists():
                    return FeedbackResult(already_rated=True)
                steps = _steps(ticket.id)
            received, picked_up = steps.get("received", {}), steps.get("picked_up", {})
            feedback_id = insert(
                Feedback, uid=uid, ticket=ticket.id if ticket else None, device=device.id, rating=entry.rating,
                hearts=",".join(entry.hearts), reason=entry.reason, reason_text=entry.reason_text,
                comment=entry.comment, callback_phone=entry.phone, language=entry.language,
                received_device=received.get("device"), received_clerk=received.get("clerk"),
                picked_up_device=picked_up.get("device"), picked_up_clerk=picked_up.get("clerk"), created_at=now,
                ticket_number=ticket.number if ticket else None)
            if poor:
                insert(Followup, uid=followup_uid, feedback=feedback_id, due_on=due, status="open", call_note="",
                       created_at=now)
            insert(OutboxEvent, uid=event_uid, kind="feedback.given", created_at=now, payload=json.dumps({
                "feedback": uid, "device": device.uid, "at": now.isoformat(),
                "ticket": ticket.uid if ticket else None, "number": ticket.number if ticket else None,
                "rating": entry.rating, "level": LEVELS[entry.rating], "hearts": list(entry.hearts),
                "reason": entry.reason, "reason_text": entry.reason_text, "comment": entry.comment,
                "callback": entry.phone is not None, "phone": entry.phone, "language": entry.language,
                "steps": steps,
                "followup": {"uid": followup_uid, "due_on": due.isoformat()} if poor else None,
            }, ensure_ascii=False, sort_keys=True))
    except IntegrityError:
        # the unique index: rated meanwhile (another writer); the transaction left nothing
        if entry.ticket_id is not None and Feedback.select().where(Feedback.ticket == entry.ticket_id).exists():
            return FeedbackResult(already_rated=True)
        raise
    log.info("feedback %s stored (rating %s%s)", uid, entry.rating, ", follow-up opened" if poor else "")
    return FeedbackResult(False, feedback_id, uid, due)


# ---- follow-ups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFollowup:
    """A poor rating waiting for its call, as a clerk needs it (the phone in full: staff only).
    `kiosk`, `desk`: the names of the kiosk it was given at and of the counter that served the
    customer (picked up, else received), as enrolled at the central system, else the device's
    ticket prefix, else None; `clerk`: who served (a local clerk's name, else the username)."""

    id: int
    uid: str
    due_on: date
    overdue: bool
    number: str | None  # None: anonymous
    rating: int
    reason: str | None
    reason_text: str
    comment: str
    phone: str | None
    given_at: datetime
    kiosk: str | None = None
    desk: str | None = None
    clerk: str | None = None


def device_names() -> dict[str, str]:
    """device uid -> its name here: as enrolled at central (DeviceKey.name), else its prefix."""
    names = {d.uid: d.prefix for d in Device.select(Device.uid, Device.prefix) if d.prefix}
    for key in DeviceKey.select(DeviceKey.device_uid, DeviceKey.name).where(DeviceKey.name.is_null(False)):
        if key.name.strip():
            names[key.device_uid] = key.name.strip()
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
    numbers = ({t.id: t.number for t in Ticket.select(Ticket.id, Ticket.number).where(Ticket.id.in_(missing))}
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
            clerk=(clerks.get(clerk) or clerk) if clerk else None))
    return sorted(result, key=lambda f: (not f.overdue, f.due_on, f.id))


@dataclass(frozen=True)
class ClosedBy:
    """Who closed a follow-up and when (a clerk here, another desk's, or the back office)."""

    at: datetime | None
    name: str | None


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


@dataclass(frozen=True)
class FollowupClosed:
    followup_id: int
    uid: str
    event_uid: str
    at: datetime


def close_followup(followup_id: int, clerk, note: str, device: Device | None = None, *,
                   now: datetime | None = None) -> FollowupClosed:
    """Record the call and close the follow-up with a note, with its outbox event
    `followup.closed`, in one transaction. FollowupError: no_followup | closed | bad_note."""
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
        closed = Followup.update(status="closed", call_note=note, closed_at=now,
                                 closed_by=clerk.id if clerk else None).where(
            (Followup.id == followup_id) & (Followup.status == "open")).execute()
        if closed != 1:
            raise FollowupError("closed", f"Follow-up {followup_id} changed meanwhile.")
        feedback = Feedback.get_by_id(followup.feedback_id)
        insert(OutboxEvent, uid=event_uid, kind="followup.closed", created_at=now, payload=json.dumps({
            "followup": followup.uid, "feedback": feedback.uid, "device": device.uid, "at": now.isoformat(),
            "clerk": {"username": clerk.username, "name": clerk.display_name} if clerk else None,
            "note": note,
        }, ensure_ascii=False, sort_keys=True))
    return FollowupClosed(followup_id, followup.uid, event_uid, now)
