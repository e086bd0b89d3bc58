"""一次一评 at the window, and 好差评's work orders and appeals: the SQL. The rules (labels,
stages, the work order's deadline) are kiosk/domain/feedback.py's. No Textual here.

The desk and its counter's rating pad (`kiosk pad --counter N`, screens/pad/) run on the same
machine and share the desk's SQLite database (WAL: the pad reads while the desk writes). When
the desk takes the intake (F5) or the pickup (F7) step, `ask_rating` writes a `rating_request`
for its counter in the step's own transaction (kiosk/store/desk.py _step): the step and the
question are one fact, so a crash never leaves a step the pad was not asked about, nor a
question about a step that did not happen. The pad polls `waiting_request` (an indexed read,
twice a second) and answers with `rate` or `decline`; the rating, its work order if poor and
the outbox event `feedback.given` (with its stage, the ticket's number, the clerk's 工号 and
the window's number) are one transaction, which the desk's sync loop pushes like every event.

Only the newest waiting request of a counter is shown: the desk's next step supersedes the
one before it. A request is shown for REQUEST_SECONDS at most; a rating is never induced:
the customer may decline, and an unanswered request expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from peewee import IntegrityError

from db.inserts import insert
from db.models import (
    Appeal,
    Clerk,
    Device,
    Feedback,
    Followup,
    FollowupCall,
    OutboxEvent,
    RatingRequest,
    Ticket,
    database_proxy,
    utc_now,
)
from kiosk.domain import events
from kiosk.domain.feedback import (
    APPEAL_DECISIONS,
    DEFAULT_RULES,
    FIX_LEVELS,
    LEVELS,
    MAX_NOTE,
    POOR,
    REASONS,
    FeedbackEntry,
    FeedbackResult,
    RatingRules,
    validate,
    work_order_due,
)
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_text
from kiosk.store.rating_requests import DEFAULT_COUNTER, ask_rating, clean_counter, desk_counter, set_counter

log = logging.getLogger(__name__)

REQUEST_SECONDS = 180  # a request older than this is not shown: the customer has gone


class RatingError(ValueError):
    """`kind`: no_request | answered | no_followup | closed | no_feedback | no_appeal | decided |
    appeal_open | set_aside | not_admin | bad_note | bad_reason | bad_fix | bad_decision."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(message or kind)
        self.kind = kind


def set_staff_number(username: str, number: str) -> str:
    """A clerk's 工号 (shown on the pad, carried by each rating): ClerkError unknown | bad_name."""
    from kiosk.domain.feedback import clean_staff_number
    from kiosk.store.clerks import ClerkError, normalise_username

    try:
        cleaned = clean_staff_number(number)
    except FieldError:
        cleaned = None
    if not cleaned:
        raise ClerkError("bad_name", f"staff number: 1 to 20 characters, not {number[:40]!r}")
    with database_proxy.atomic():
        changed = Clerk.update(staff_number=cleaned).where(Clerk.username == normalise_username(username)).execute()
    if changed != 1:
        raise ClerkError("unknown", f"There is no clerk {username.strip().lower()}.")
    return cleaned


# ---- the pad reads and answers ------------------------------------------------------------------


@dataclass(frozen=True)
class PadRequest:
    """What the pad shows: the ticket's number (the transaction number), the stage, who served."""

    id: int
    number: str
    stage: str
    clerk_name: str
    staff_number: str
    created_at: datetime


def waiting_request(counter: str, now: datetime | None = None) -> PadRequest | None:
    """The counter's newest waiting request, if asked less than REQUEST_SECONDS ago."""
    now = now or utc_now()
    row = (RatingRequest.select(RatingRequest, Ticket.number).join(Ticket)
           .where((RatingRequest.counter == counter) & (RatingRequest.state == "waiting")
                  & (RatingRequest.created_at >= now - timedelta(seconds=REQUEST_SECONDS)))
           .order_by(RatingRequest.id.desc()).first())
    if row is None:
        return None
    return PadRequest(row.id, row.ticket.number, row.stage, row.clerk_name, row.staff_number, row.created_at)


def decline(request_id: int, expired: bool = False, now: datetime | None = None) -> bool:
    """The customer chose not to rate (or walked away: `expired`). Whether it was still waiting."""
    now = now or utc_now()
    with database_proxy.atomic():
        return RatingRequest.update(state="expired" if expired else "declined", updated_at=now).where(
            (RatingRequest.id == request_id) & (RatingRequest.state == "waiting")).execute() == 1


def rate(request_id: int, rating: int, reason: str | None = None, reason_text: str = "", *, language: str = "zh",
         rules: RatingRules = DEFAULT_RULES, holidays: Calendar = WEEKENDS_ONLY,
         now: datetime | None = None) -> FeedbackResult:
    """The customer's rating of the request's ticket and stage: the rating, its work order if
    poor (due by `rules`), the outbox event and the request answered, in one transaction.
    FeedbackErrors (validate's); RatingError no_request | answered. A ticket and stage rated
    already (the unique index): FeedbackResult(already_rated=True), the request answered."""
    from kiosk.store.feedback import _steps

    entry = validate(FeedbackEntry(None, rating, reason=reason, reason_text=reason_text, language=language))
    now = now or utc_now()
    uid, event_uid = uuid7(), uuid7()
    poor = entry.rating in POOR
    followup = None
    if poor:
        due_on, callback_by = work_order_due(now, rules, holidays)
        followup = events.FollowupOpened(uuid7(), due_on, callback_by)
    try:
        with database_proxy.atomic():
            request = RatingRequest.get_or_none(RatingRequest.id == request_id)
            if request is None:
                raise RatingError("no_request", f"There is no rating request {request_id}.")
            if request.state != "waiting":
                raise RatingError("answered", f"Rating request {request_id} is {request.state}.")
            ticket = Ticket.get_by_id(request.ticket_id)
            device = Device.get_by_id(request.step.device_id)
            steps = _steps(ticket.id)
            received, picked_up = steps.get("received", {}), steps.get("picked_up", {})
            username = Clerk.get_by_id(request.clerk_id).username if request.clerk_id else None
            feedback_id = insert(
                Feedback, uid=uid, ticket=ticket.id, device=device.id, rating=entry.rating, hearts="",
                reason=entry.reason, reason_text=entry.reason_text, comment="", callback_phone=None,
                language=entry.language, received_device=received.get("device"),
                received_clerk=received.get("clerk"), picked_up_device=picked_up.get("device"),
                picked_up_clerk=picked_up.get("clerk"), created_at=now, ticket_number=ticket.number,
                stage=request.stage, staff_number=request.staff_number or None, counter=request.counter)
            if followup is not None:
                insert(Followup, uid=followup.uid, feedback=feedback_id, due_on=followup.due_on, status="open",
                       call_note="", created_at=now, callback_by=followup.callback_by)
            given = events.FeedbackGiven(
                feedback=uid, device=device.uid, at=now, ticket=ticket.uid, number=ticket.number,
                rating=entry.rating, level=cast(events.Level, LEVELS[entry.rating]), reason=entry.reason,
                reason_text=entry.reason_text, language=cast(events.Language, entry.language),
                steps={kind: events.StepSeen(**seen) for kind, seen in steps.items()}, followup=followup,
                stage=cast(events.Stage, request.stage), clerk=username,
                staff_number=request.staff_number or None, counter=request.counter)
            insert(OutboxEvent, uid=event_uid, kind="feedback.given", created_at=now, payload=events.to_json(given))
            RatingRequest.update(state="rated", feedback=feedback_id, updated_at=now).where(
                RatingRequest.id == request_id).execute()
    except IntegrityError:
        # this ticket and stage rated meanwhile (the unique index): nothing was written
        decline(request_id, now=now)
        return FeedbackResult(already_rated=True)
    log.info("window rating %s stored (rating %s, stage %s%s)", uid, entry.rating, request.stage,
             ", work order opened" if poor else "")
    return FeedbackResult(False, feedback_id, uid, followup.due_on if followup else None)


# ---- work orders: the call back, the fix rated --------------------------------------------------


def _clerk_event(clerk) -> events.Clerk | None:
    return events.Clerk(username=clerk.username, name=clerk.display_name) if clerk else None


def _note(text: str, kind: str, required: bool = True) -> str:
    try:
        return clean_text(text, required=required, max_length=MAX_NOTE)
    except FieldError as e:
        raise RatingError(kind, f"{kind}: {e.key}") from None


def this_device() -> Device:
    return Device.select().order_by(Device.id).get()


def call_back(followup_id: int, clerk, reached: bool, note: str, device: Device | None = None, *,
              now: datetime | None = None) -> str:
    """A call-back made for an open work order (回访记录), with its outbox event `followup.called`,
    in one transaction; the call's uid. RatingError no_followup | closed | bad_note."""
    note = _note(note, "bad_note", required=False)
    now = now or utc_now()
    device = device or this_device()
    uid = uuid7()
    with database_proxy.atomic():
        followup = Followup.get_or_none(Followup.id == followup_id)
        if followup is None:
            raise RatingError("no_followup", f"There is no work order {followup_id}.")
        if followup.status != "open":
            raise RatingError("closed", f"Work order {followup_id} is closed.")
        insert(FollowupCall, uid=uid, followup=followup_id, reached=bool(reached), note=note,
               clerk=clerk.id if clerk else None, clerk_name=clerk.display_name if clerk else None, created_at=now)
        called = events.FollowupCalled(call=uid, followup=followup.uid, feedback=followup.feedback.uid,
                                       device=device.uid, at=now, reached=bool(reached), note=note,
                                       clerk=_clerk_event(clerk))
        insert(OutboxEvent, uid=uuid7(), kind="followup.called", created_at=now, payload=events.to_json(called))
    return uid


@dataclass(frozen=True)
class WorkOrder:
    """A poor rating's work order as staff follow it (the phone: staff only)."""

    id: int
    uid: str
    feedback_uid: str
    number: str | None
    stage: str | None
    rating: int
    reason: str | None
    staff_number: str | None
    counter: str | None
    due_on: object
    callback_by: datetime | None
    status: str
    calls: int
    fix: str | None
    given_at: datetime


def work_orders(include_closed: bool = False) -> list[WorkOrder]:
    """Work orders, the earliest due first."""
    query = Followup.select(Followup, Feedback).join(Feedback).order_by(Followup.due_on, Followup.id)
    if not include_closed:
        query = query.where(Followup.status == "open")
    rows = list(query)
    calls: dict[int, int] = {}
    for call in FollowupCall.select(FollowupCall.followup):
        calls[call.followup_id] = calls.get(call.followup_id, 0) + 1
    return [WorkOrder(f.id, f.uid, f.feedback.uid, f.feedback.ticket_number, f.feedback.stage, f.feedback.rating,
                      f.feedback.reason, f.feedback.staff_number, f.feedback.counter, f.due_on, f.callback_by,
                      f.status, calls.get(f.id, 0), f.fix_rating, f.feedback.created_at) for f in rows]


def close_work_order(followup_id: int, clerk, note: str, fix: str | None, device: Device | None = None, *,
                     now: datetime | None = None):
    """Close a work order with what was done and the customer's rating of the fix (满意 基本满意
    不满意; None: the customer would not say): kiosk/store/feedback.py close_followup with `fix`."""
    from kiosk.store.feedback import close_followup

    if fix is not None and fix not in FIX_LEVELS:
        raise RatingError("bad_fix", f"fix: one of {', '.join(FIX_LEVELS)}, not {fix!r}")
    return close_followup(followup_id, clerk, note, device, now=now, fix=fix)


# ---- appeals --------------------------------------------------------------------------------------


def _feedback_by(ref: str | int) -> Feedback:
    query = Feedback.select()
    row = (query.where(Feedback.id == int(ref)).first() if str(ref).isdigit()
           else query.where(Feedback.uid == str(ref)).first())
    if row is None:
        raise RatingError("no_feedback", f"There is no rating {ref}.")
    return row


def appeal(feedback: str | int, clerk, reason: str, device: Device | None = None, *,
           now: datetime | None = None) -> int:
    """Staff ask a supervisor to review a rating (by id or uid) they think mistaken or
    malicious, with the reason; outbox event `rating.appealed`. One waiting appeal per rating,
    and none once one was upheld (it is out of the counts: nothing left to ask).
    RatingError no_feedback | appeal_open | set_aside | bad_reason. The appeal's id."""
    reason = _note(reason, "bad_reason")
    now = now or utc_now()
    device = device or this_device()
    uid = uuid7()
    try:
        with database_proxy.atomic():
            rated = _feedback_by(feedback)
            if rated.id in upheld_appeals(rated.id):
                raise RatingError("set_aside", f"Rating {feedback} was set aside by an upheld appeal already.")
            appeal_id = insert(Appeal, uid=uid, feedback=rated.id, reason=reason, raised_by=clerk.id if clerk else None,
                               raised_by_name=clerk.display_name if clerk else None, created_at=now)
            raised = events.RatingAppealed(appeal=uid, feedback=rated.uid, device=device.uid, at=now, reason=reason,
                                           clerk=_clerk_event(clerk))
            insert(OutboxEvent, uid=uuid7(), kind="rating.appealed", created_at=now, payload=events.to_json(raised))
    except IntegrityError:
        raise RatingError("appeal_open", f"Rating {feedback} has an appeal waiting for a decision.") from None
    return appeal_id


def decide(appeal_id: int, supervisor, decision: str, reason: str, device: Device | None = None, *,
           now: datetime | None = None) -> None:
    """A supervisor's decision (an admin clerk's): upheld (the rating is left out of the counts)
    or rejected, with the reason; outbox event `appeal.decided`. The rating stays.
    RatingError no_appeal | decided | not_admin | bad_decision | bad_reason."""
    if decision not in APPEAL_DECISIONS:
        raise RatingError("bad_decision", f"decision: upheld or rejected, not {decision!r}")
    if supervisor is None or not getattr(supervisor, "admin", False):
        raise RatingError("not_admin", "Only a supervisor (an admin clerk) decides an appeal.")
    reason = _note(reason, "bad_reason")
    now = now or utc_now()
    device = device or this_device()
    with database_proxy.atomic():
        row = Appeal.get_or_none(Appeal.id == appeal_id)
        if row is None:
            raise RatingError("no_appeal", f"There is no appeal {appeal_id}.")
        if row.decision is not None:
            raise RatingError("decided", f"Appeal {appeal_id} was decided: {row.decision}.")
        if supervisor.id == row.raised_by_id:
            raise RatingError("not_admin", "Whoever appealed does not decide the appeal.")
        Appeal.update(decision=decision, decision_reason=reason, decided_by=supervisor.id,
                      decided_by_name=supervisor.display_name, decided_at=now, decided_via="desk").where(
            Appeal.id == appeal_id).execute()
        decided = events.AppealDecided(appeal=row.uid, feedback=row.feedback.uid, device=device.uid, at=now,
                                       decision=cast(Literal["upheld", "rejected"], decision),  # checked above
                                       reason=reason, supervisor=_clerk_event(supervisor), via="desk")
        insert(OutboxEvent, uid=uuid7(), kind="appeal.decided", created_at=now, payload=events.to_json(decided))


def appeal_work_order(followup_id: int, clerk, reason: str, device: Device | None = None, *,
                      now: datetime | None = None) -> int:
    """An appeal (`appeal`) against the rating an open work order follows (the desk's F10)."""
    row = Followup.get_or_none(Followup.id == followup_id)
    if row is None:
        raise RatingError("no_followup", f"There is no work order {followup_id}.")
    return appeal(row.feedback_id, clerk, reason, device, now=now)


# ---- what the desks recorded of a work order: here and elsewhere (schema 18) -------------------------


@dataclass(frozen=True)
class CallRecord:
    """A call-back: when, by whom, at which desk (None: this one), reached, what was said."""

    at: datetime
    name: str | None
    desk: str | None
    reached: bool
    note: str


@dataclass(frozen=True)
class AppealRecord:
    """An appeal against the rating: filed when, by whom, where, why; the decision if any."""

    at: datetime
    name: str | None
    desk: str | None
    reason: str
    decision: str | None  # upheld | rejected; None: waiting
    decided_by: str | None
    decision_reason: str | None
    via: str | None  # desk | office


@dataclass(frozen=True)
class Records:
    calls: tuple[CallRecord, ...] = ()
    appeals: tuple[AppealRecord, ...] = ()


def records(followup_ids: list[int]) -> dict[int, Records]:
    """work order id -> its call-backs and its rating's appeals, oldest first, whoever recorded them."""
    if not followup_ids:
        return {}
    from kiosk.store.feedback import device_names

    names = device_names()
    feedback_of = {f.id: f.feedback_id for f in Followup.select(Followup.id, Followup.feedback)
                   .where(Followup.id.in_(followup_ids))}
    calls: dict[int, list[CallRecord]] = {}
    for c in (FollowupCall.select().where(FollowupCall.followup.in_(followup_ids))
              .order_by(FollowupCall.created_at, FollowupCall.id)):
        calls.setdefault(c.followup_id, []).append(CallRecord(
            c.created_at, c.clerk_name, (names.get(c.device) or c.device[-8:]) if c.device else None,
            bool(c.reached), c.note))
    appeals: dict[int, list[AppealRecord]] = {}
    for a in (Appeal.select().where(Appeal.feedback.in_(list(feedback_of.values())))
              .order_by(Appeal.created_at, Appeal.id)):
        appeals.setdefault(a.feedback_id, []).append(AppealRecord(
            a.created_at, a.raised_by_name, (names.get(a.device) or a.device[-8:]) if a.device else None,
            a.reason, a.decision, a.decided_by_name, a.decision_reason, a.decided_via))
    return {f: Records(tuple(calls.get(f, ())), tuple(appeals.get(feedback_of[f], ())))
            for f in followup_ids if f in feedback_of}


def store_pulled(kind: str, data: dict, own_uid: str) -> int:
    """A call-back, an appeal or a decision recorded at another desk (or the back office), as
    central's change feed brings it (kiosk/sync/feed.py): stored once (its uid), named with the
    desk and the clerk its event carried. Its work order or rating unknown here (another site's),
    or the appeal decided here already (the first decision stays, as at central): 0, nothing."""
    if kind == "followup.called":
        called = events.read(events.FollowupCalled, data)
        followup = Followup.get_or_none(Followup.uid == called.followup)
        if followup is None or FollowupCall.select().where(FollowupCall.uid == called.call).exists():
            return 0
        clerk = called.clerk or events.Clerk()
        insert(FollowupCall, uid=called.call, followup=followup.id, reached=called.reached, note=called.note or "",
               clerk=None, clerk_name=clerk.name or clerk.username, created_at=called.at,
               device=None if called.device == own_uid else called.device)
        return 1
    if kind == "rating.appealed":
        raised = events.read(events.RatingAppealed, data)
        rated = Feedback.get_or_none(Feedback.uid == raised.feedback)
        if rated is None or Appeal.select().where(Appeal.uid == raised.appeal).exists():
            return 0
        clerk = raised.clerk or events.Clerk()
        insert(Appeal, uid=raised.appeal, feedback=rated.id, reason=raised.reason, raised_by=None,
               raised_by_name=clerk.name or clerk.username, created_at=raised.at,
               device=raised.device if raised.device != own_uid else None)
        return 1
    if kind == "appeal.decided":
        decided = events.read(events.AppealDecided, data)
        supervisor = decided.supervisor or events.Clerk()
        return Appeal.update(
            decision=decided.decision, decision_reason=decided.reason, decided_by=None,
            decided_by_name=supervisor.name or supervisor.username or ("office" if decided.via == "office" else None),
            decided_at=decided.at, decided_device=decided.device, decided_via=decided.via or "desk").where(
            (Appeal.uid == decided.appeal) & Appeal.decision.is_null()).execute()
    raise ValueError(f"not a work order's kind: {kind}")


def upheld_appeals(feedback_id: int | None = None) -> set[int]:
    """The ratings (feedback ids; or of that one) an upheld appeal leaves out of the counts: any
    upheld appeal, whatever came after it (two desks may appeal one rating offline), as at
    central (central/readmodels/appealed.py) and in the satisfaction figures."""
    query = Appeal.select(Appeal.feedback).where(Appeal.decision == "upheld")
    if feedback_id is not None:
        query = query.where(Appeal.feedback == feedback_id)
    return {a.feedback_id for a in query}



# ---- the export and the window's figures, from this node's database ---------------------------------


def export_ratings(since: datetime | None = None, until: datetime | None = None):
    """The ratings stored here given from `since` (included) to `until` (excluded), as the
    provincial export has them (kiosk/domain/ratings_export.py), with their appeals' state."""
    from kiosk.domain.ratings_export import ExportRating

    query = Feedback.select().order_by(Feedback.created_at, Feedback.id)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if until is not None:
        query = query.where(Feedback.created_at < until)
    appeals: dict[int, str] = {}
    for a in Appeal.select(Appeal.feedback, Appeal.decision).order_by(Appeal.id):
        if appeals.get(a.feedback_id) != "upheld":  # the latest appeal's state, unless one was upheld
            appeals[a.feedback_id] = a.decision or "waiting"
    staff = {c.username: c.staff_number or c.username for c in Clerk.select(Clerk.username, Clerk.staff_number)}
    result = []
    for f in query:
        if f.rating not in LEVELS:
            continue
        linked = bool(f.ticket_number or f.ticket_id)
        stage = f.stage or (None if not linked else "completion" if (f.picked_up_device or f.picked_up_clerk)
                            else "intake")
        served = f.picked_up_clerk or f.received_clerk
        result.append(ExportRating(
            f.uid, f.created_at, f.rating, stage, f.ticket_number,
            f.staff_number or (staff.get(served) or served if served else None),
            f.counter, f.reason, f.reason_text or "", "window" if f.stage else "kiosk", appeals.get(f.id)))
    return result


def clerk_names() -> dict[str, str]:
    """工号 (or username) -> the clerk's name, for the figures by clerk."""
    return {c.staff_number or c.username: c.display_name for c in Clerk.select()}


__all__ = ["DEFAULT_COUNTER", "REASONS", "AppealRecord", "CallRecord", "PadRequest", "RatingError", "Records",
           "WorkOrder", "appeal", "appeal_work_order", "ask_rating", "call_back", "clean_counter", "clerk_names",
           "close_work_order", "decide", "decline", "desk_counter", "export_ratings", "rate", "records",
           "set_counter", "set_staff_number", "store_pulled", "upheld_appeals", "waiting_request", "work_orders"]
