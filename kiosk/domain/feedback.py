"""服务评价 Feedback, the rules: the public-service 好差评 scale, what a rating must say, the
proof that the customer holds the ticket, the phone check's digits and a follow-up's deadline.
Plain data only; kiosk/store/feedback.py stores ratings and follow-ups with these rules.

Five levels, one tap; then, optional, the "five hearts", a comment and a call back with a
phone number. A poor rating (不满意, 非常不满意) needs a reason and opens a follow-up due in
15 working days (weekends and the institute's holiday list excluded).

Who may link a rating to a ticket: whoever holds it. The ticket's signed QR code cannot be
forged, so scanning it is enough. A number is sequential and easy to guess, so it needs the
last four digits of the contact phone given at registration (手机尾号后四位); three wrong tries
for a ticket and the kiosk offers only the anonymous rating for it until it restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.rating_rules import DEFAULT_RULES, FOLLOWUP_WORKING_DAYS, RatingRules  # re-exported
from kiosk.domain.validation import FieldError, clean_phone, clean_text
from kiosk.domain.vocabulary import normalise_token
from kiosk.domain.workdays import add_working_days

# rating -> level key (the 好差评 scale): 5 is best.
LEVELS = {5: "very_satisfied", 4: "satisfied", 3: "basic", 2: "dissatisfied", 1: "very_dissatisfied"}
POOR = frozenset({1, 2})
HEARTS = ("warm", "careful", "patient", "dedicated", "reassuring")  # 热心 细心 耐心 尽心 放心
REASONS = ("slow", "attitude", "fees", "unclear", "quality", "other")
MAX_COMMENT = 500
MAX_REASON_TEXT = 200
MAX_NOTE = 500
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
    """Issued by kiosk/store/feedback.py only (`_issue`): the ticket's signed code was scanned
    (`how` "code") or the last four digits of its contact phone were given right ("phone").
    `give_feedback` links a rating to a ticket only with a pass for that very ticket; one made up
    elsewhere fails."""

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


# ---- finding the ticket and the phone check -----------------------------------------------


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


def last_four(phone: str | None) -> str | None:
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
    counter: str | None = None  # a window rating's: the counter its pad stands at (the place, and who served)


@dataclass(frozen=True)
class ClosedBy:
    """Who closed a follow-up and when (a clerk here, another desk's, or the back office)."""

    at: datetime | None
    name: str | None


@dataclass(frozen=True)
class FollowupClosed:
    followup_id: int
    uid: str
    event_uid: str
    at: datetime


# ---- 好差评 as the standard has it (GB/T 39734-2020, 国办发〔2019〕51号): issue 21 ---------------

# The standard's labels, stored and exported as such whatever the screen's language; the two lowest
# are 差评. The hearts stay this project's own detail.
STANDARD_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
STAGES = ("intake", "completion")  # 受理, 办结
STAGE_CODES = {"intake": 1, "completion": 2}  # as provincial device interfaces number them
STAGE_LABELS = {"intake": "受理", "completion": "办结"}
STAGE_OF_STEP = {"received": "intake", "picked_up": "completion"}  # the desk's steps a pad asks about
# The customer's rating of a poor rating's fix, and its labels.
FIX_LEVELS = ("satisfied", "basic", "dissatisfied")
FIX_LABELS = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}
APPEAL_DECISIONS = ("upheld", "rejected")  # upheld: the rating is left out of the counts, never deleted
MAX_STAFF_NUMBER = 20


def is_poor(rating: int) -> bool:
    """差评: 不满意 or 非常不满意."""
    return rating in POOR


def work_order_due(given_at: datetime, rules: RatingRules = DEFAULT_RULES,
                   cal: Calendar = WEEKENDS_ONLY) -> tuple[date, datetime | None]:
    """A poor rating's work order: the day it is due (on the institute's clock, the rating's day
    not counted) and the moment the call back is due (None: no rule). `given_at`: aware."""
    from datetime import timedelta

    from kiosk.domain.clock import local

    day = local(given_at).date()
    if rules.working_days:
        due = add_working_days(day, rules.days, cal.holidays, cal.workdays)
    else:
        due = day + timedelta(days=rules.days)
    callback = given_at + timedelta(hours=rules.callback_hours) if rules.callback_hours else None
    return due, callback


def clean_staff_number(text: str | None) -> str | None:
    """A 工号 as typed (full-width, spaces around): cleaned, or None for none; FieldError if too long."""
    if text is None:
        return None
    value = clean_text(text, max_length=MAX_STAFF_NUMBER).replace(" ", "")
    return value or None
