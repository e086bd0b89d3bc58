"""Pull: central's change feed applied here, one handler per kind of change.

A page of changes is applied in one transaction with the cursor that follows it: a crash
between the two cannot skip a change or apply one twice. Changes made of device events
(tickets, steps, ratings, follow-ups) are read with their shared definition
(kiosk/domain/events.py), checked as central checked them; a ticket is stored the one way
every path stores one (kiosk/store/tickets.py).

A node never stops on a change it cannot apply. Each change is applied in a savepoint of its
own; whatever fails in it (a ticket number this node has under another ticket, a reference to
nothing, a payload not of its kind's shape, a kind newer than this software) rolls back that
change alone, which is parked with the reason (kiosk/store/parked.py, `kiosk sync --parked`),
and the cursor moves past it with the rest of the page. Only the disk failing (full, read-only,
damaged) fails the page: then nothing of it is applied and the pass is tried again. A step
whose ticket is not here yet is held until the ticket comes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import traceback
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec
import peewee
from msgspec.structs import replace

from db.backup import problem_kind
from db.inserts import insert, insert_many
from db.models import (
    CatalogVersion,
    Clerk,
    Customer,
    DeviceKey,
    Feedback,
    Followup,
    HeldChange,
    IntakeLine,
    Ticket,
    TicketEvent,
    database_proxy,
    utc_now,
)
from kiosk.domain import events
from kiosk.domain.catalog import parse_csv, to_csv
from kiosk.domain.fees import LineRequest
from kiosk.domain.ticketcode import TicketCodeError, read_checked
from kiosk.domain.voiding import EventVoided
from kiosk.store.catalog import import_rows
from kiosk.store.desk import STATUSES
from kiosk.store.organisations import learn as learn_organisations
from kiosk.store.parked import park
from kiosk.store.tickets import (
    CUSTOMER_FIELDS,
    LINE_TEXTS,
    CustomerDetails,
    MissingFeeRows,
    TextRefused,
    as_receipt,
    clean_customer,
    clean_field,
    estimate_json,
    foreign_device,
    has_step,
    line_ids,
    price_again,
    refuse_hidden,
    set_status,
    store_ticket,
    stored_ticket,
)
from kiosk.store.voiding import undo as undo_voided
from kiosk.sync.settings import CURSOR, put_setting, setting

log = logging.getLogger(__name__)


def cursor() -> int:
    return int(setting(CURSOR, "0"))


@dataclass
class Applied:
    keys: int = 0
    revoked: int = 0
    catalogs: list[int] = field(default_factory=list)  # local catalogue versions imported
    tickets: int = 0
    steps: int = 0
    held: int = 0
    feedback: int = 0  # ratings given at a kiosk, stored here
    followups_closed: int = 0  # follow-ups closed elsewhere, closed here too
    followups_ignored: int = 0  # a close of a follow-up unknown here, or closed here already
    organisations: int = 0  # customer organisations' names new here (the customer screen completes them)
    parked: int = 0  # changes that failed here: kept aside with the reason (`kiosk sync --parked`)
    voided: int = 0  # steps, tickets, ratings, closes of a revoked device undone here (event.voided)
    certificate_checks: int = 0  # certificates checked (or taken as they are) at another desk, stored here
    institute: int = 0  # versions of the institute's file central published, stored here (the welcome screen)
    work_orders: int = 0  # call-backs, appeals and decisions recorded elsewhere, stored here


def apply_changes(changes: list[dict], next_cursor: int, own_uid: str) -> Applied:
    """Apply a page of the feed and move the cursor past it, in one transaction; a change
    that fails is parked (see the module's docstring)."""
    applied = Applied()
    with database_proxy.atomic():
        for change in changes:
            if not isinstance(change, dict):
                _park(None, None, change, "malformed: a change that is not an object", applied)
                continue
            kind, data, seq = change.get("kind"), change.get("data") or {}, change.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool):
                _park(None, kind, change, "malformed: a change without a whole-number seq", applied)
                continue
            _apply(kind, data, seq, own_uid, applied)
        put_setting(CURSOR, str(max(next_cursor, cursor())))
    return applied


def _apply(kind: object, data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """One change, in a savepoint of its own: applied whole, or rolled back and parked. `kind`
    is whatever JSON the change carried there."""
    # A kind that is no string is no kind of ours (a list or an object would not even hash:
    # the page would fail whole, again at every pass).
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        _park(seq, kind, data, "unknown kind", applied)  # a newer central's: a later version may apply it
        return
    try:
        with database_proxy.atomic():
            if kind in _RELAYED_TEXT:  # a step's estimate is the catalogue's wording, which no desk typed
                refuse_hidden({name: value for name, value in data.items() if name != "estimate"}, kind)
            handler(data, seq, own_uid, applied)
    except Exception as e:  # whatever one change does, the feed goes on
        if problem_kind(e) is not None:
            raise  # the disk, not the change: nothing of the page is applied, the pass is tried again
        _park(seq, kind, data, _reason(e), applied)


def _park(seq: int | None, kind, data, reason: str, applied: Applied) -> None:
    park(seq, kind if isinstance(kind, str) else None, data, reason)
    applied.parked += 1
    log.warning("change %s of kind %r parked: %s", seq, kind, reason)


class NotApplicable(Exception):
    """A change a handler will not apply, with the reason it is parked with (no personal data)."""


def _reason(error: Exception) -> str:
    """Why a change failed, in words with no personal data in them: SQLite's constraint
    messages and msgspec's shape errors name only columns, types and paths; for anything
    else, the error's type and where it was raised, not its message (it may quote a value)."""
    if isinstance(error, NotApplicable):
        return str(error)
    if isinstance(error, peewee.IntegrityError):
        return f"conflict: {error}"
    if isinstance(error, msgspec.ValidationError):
        return f"malformed: {error}"
    if isinstance(error, KeyError):
        return f"malformed: no {error}"
    if isinstance(error, TextRefused):
        return f"malformed: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"failed: {type(error).__name__}{where}"


# ---- devices and the fee schedule: central's own changes ------------------------------------------


def _device_key(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    uid, raw = data["device_uid"], base64.b64decode(data["public_key"])
    name = (data.get("name") or "").strip() or None  # as enrolled at central, e.g. "1号收件窗口"
    row = DeviceKey.get_or_none(DeviceKey.device_uid == uid)
    if row is None:
        DeviceKey.create(device_uid=uid, public_key=raw, source="sync", added_at=utc_now(), name=name)
        applied.keys += 1
        return
    if bytes(row.public_key) != raw:
        log.warning("change %s: device %s has a different key here (%s); kept the one here", seq, uid, row.source)
    if name is not None and row.name != name:
        DeviceKey.update(name=name).where(DeviceKey.id == row.id).execute()


def _device_revoked(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    applied.revoked += DeviceKey.update(revoked_at=utc_now()).where(
        (DeviceKey.device_uid == data["device_uid"]) & DeviceKey.revoked_at.is_null()).execute()


def _catalog_version(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A new fee schedule, whole or not at all (the transaction of the page). Identical to the
    latest one here: nothing to do. Estimates in progress keep the version they began with;
    a ticket records its version."""
    # A central not yet upgraded, or a version it stored before rows named their compulsory uses,
    # sends 是 for "free for every compulsory use", as this node's own rows said at schema 12.
    rows = parse_csv(data["csv"], f"central catalogue {data.get('version')}", before_uses=True)
    digest = hashlib.sha256(to_csv(rows).encode("utf-8")).hexdigest()
    latest = CatalogVersion.select().order_by(CatalogVersion.id.desc()).first()
    if latest is None or latest.sha256 != digest:
        applied.catalogs.append(import_rows(rows, f"central:{data.get('version')}"))


# ---- tickets and their steps ------------------------------------------------------------------------


def _cleaned(registered: events.Registered) -> events.Registered:
    """The ticket's free text cleaned as this node cleans its own (TextRefused)."""
    given = registered.customer
    customer = clean_customer(CustomerDetails(**{name: getattr(given, name) or "" for name in CUSTOMER_FIELDS}))
    lines = [replace(ln, **{name: clean_field(getattr(ln, name), f"lines[{i}].{name}") for name in LINE_TEXTS})
             for i, ln in enumerate(registered.lines)]
    ticket = replace(registered.ticket, certificate_name=clean_field(registered.ticket.certificate_name,
                                                                     "ticket.certificate_name"))
    return replace(registered, ticket=ticket, customer=events.Customer(**asdict(customer)), lines=lines)


def _ticket_registered(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A ticket registered at a kiosk (clerk desks only). Known already from its code alone
    (taken in before the kiosk synced): the customer's details are filled in. Text this node
    refuses (an invisible format character, say): not stored, the desk takes it in from its code."""
    registered = events.read(events.Registered, data)
    t = registered.ticket
    try:
        registered = _cleaned(registered)
    except TextRefused as e:
        log.warning("change %s: ticket %s has text this node refuses (%s); taken in from its code instead",
                    seq, t.number, e)
        return
    t = registered.ticket
    existing = stored_ticket(t.uid)
    if existing is not None:
        if existing.device_uid != own_uid:
            Customer.update(**{name: getattr(registered.customer, name) or "" for name in CUSTOMER_FIELDS}).where(
                Customer.id == existing.customer_id).execute()
            Ticket.update(pickup=t.pickup or existing.pickup, certificates=t.certificates or 1,
                          certificate_name=t.certificate_name or "").where(Ticket.id == existing.id).execute()
        return
    requests = [LineRequest(ln.code, quantity=ln.quantity, use=ln.use, service=ln.service, points=ln.points,
                            ranges=ln.ranges, metres=None if ln.metres is None else Decimal(ln.metres),
                            ac_dc=ln.ac_dc, extra_data=ln.extra_data) for ln in registered.lines]
    try:
        # The estimate the kiosk showed, rebuilt (the event carries none): the counters show its
        # lines' names and price the intake again anyway; the total stays the event's.
        catalog, priced = price_again(t.catalog_version, requests, t.urgent)
    except MissingFeeRows as e:
        log.warning("change %s: ticket %s has fee rows this node lacks (%s); taken in from its code instead",
                    seq, t.number, ", ".join(e.codes))
        return
    try:  # the figures of the customer's receipt, as the kiosk signed them
        receipt = as_receipt(priced, read_checked(t.code)) if t.code else priced
    except TicketCodeError:
        receipt = priced
    store_ticket(registered, catalog, estimate_json(receipt), receipt.quoted_lines)
    applied.tickets += 1
    for held_seq, held_data in database_proxy.execute_sql(
            "SELECT seq, data FROM held_change WHERE ticket_uid = ? ORDER BY seq", (t.uid,)).fetchall():
        HeldChange.delete_by_id(held_seq)
        _apply("ticket.event", json.loads(held_data), held_seq, own_uid, applied)


def _ticket_event(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A step recorded at another desk (the step's event, with the feed's `kind`). Its ticket
    not here yet: held until it comes. The same step recorded here too (two desks, offline):
    the first one here stays; central's history keeps both. Status only moves forward."""
    if data.get("device") == own_uid:
        return  # our own step, already here
    kind = data.get("kind")
    if kind not in events.STEPS:
        raise NotApplicable("unknown kind")  # a step newer than this software: parked for a later version
    # Its shape before all else: a malformed step is parked at once, never held for a ticket.
    step = events.read(events.STEPS[kind], {k: v for k, v in data.items() if k != "kind"})
    ticket = stored_ticket(step.ticket)
    if ticket is None:
        HeldChange.insert(seq=seq, ticket_uid=step.ticket,
                          data=json.dumps(data, ensure_ascii=False)).on_conflict_ignore().execute()
        applied.held += 1
        return
    if has_step(ticket.id, kind, step.event):
        return
    # What the desk kept with its own ticket_event (kiosk/store/desk.py _step), with the clerk's name.
    details = {k: v for k, v in data.items() if k not in ("event", "ticket", "number", "kind", "device", "at")}
    event_id = insert(TicketEvent, uid=step.event, ticket=ticket.id, kind=kind, clerk=None,
                      device=foreign_device(step.device, ticket.number),
                      payload=json.dumps(details, ensure_ascii=False, sort_keys=True), created_at=step.at)
    if isinstance(step, events.Received):
        _intake_lines(event_id, ticket.id, step)
    if STATUSES.index(kind) > STATUSES.index(ticket.status):
        set_status(ticket.id, kind)
    applied.steps += 1


def _intake_lines(event_id: int, ticket_id: int, step: events.Received) -> None:
    """The other desk's intake, its line ids mapped to this node's lines by position."""
    local = line_ids(ticket_id)
    amounts = iter(ln.get("amount_fen") for ln in (step.estimate or {}).get("lines", []))
    insert_many(IntakeLine, [
        {"event": event_id, "ticket_line": local[position] if ln.ticket_line_id is not None and position < len(local)
         else None, "position": position, "code": ln.code, "quantity": ln.quantity, "service": ln.service,
         "use": ln.use, "condition": ln.condition, "accessories": ln.accessories, "serial_number": ln.serial_number,
         "refused": ln.refused, "amount_fen": None if ln.refused else next(amounts, None)}
        for position, ln in enumerate(step.lines or [])])


# ---- feedback and follow-ups: kiosk/store/feedback.py's events, as central publishes them to desks --


def _feedback_given(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A rating given at a kiosk, with its follow-up if poor. Known already (its uid): nothing.
    Its ticket rated here already (two kiosks, offline: the unique index allows one rating per
    ticket): kept, without the ticket link but with its number, so neither the rating nor the
    page is lost."""
    given = events.read(events.FeedbackGiven, data)
    if _found("SELECT 1 FROM feedback WHERE uid = ?", given.feedback):
        return
    number = given.number or None
    ticket = stored_ticket(given.ticket) if given.ticket else None
    # one rating per ticket and stage (a window's pad rates intake and completion; the lobby's has none)
    if ticket is not None and _found("SELECT 1 FROM feedback WHERE ticket_id = ? AND COALESCE(stage, '') = ?",
                                     ticket.id, given.stage or ""):
        log.info("change %s: ticket %s is rated here already; rating %s kept without the link", seq, number,
                 given.feedback)
        ticket = None
    received, picked_up = given.steps.get("received"), given.steps.get("picked_up")
    feedback_id = insert(
        Feedback, uid=given.feedback, ticket=ticket.id if ticket else None,
        device=foreign_device(given.device, None), rating=given.rating, hearts=",".join(given.hearts),
        reason=given.reason, reason_text=given.reason_text or "", comment=given.comment or "",
        callback_phone=given.phone or None, language=given.language or "zh",
        received_device=received.device if received else None, received_clerk=received.clerk if received else None,
        picked_up_device=picked_up.device if picked_up else None,
        picked_up_clerk=picked_up.clerk if picked_up else None, created_at=given.at, ticket_number=number,
        stage=given.stage, staff_number=given.staff_number, counter=given.counter)
    followup = given.followup
    if followup and not _found("SELECT 1 FROM followup WHERE uid = ?", followup.uid):
        insert(Followup, uid=followup.uid, feedback=feedback_id, due_on=followup.due_on, status="open", call_note="",
               created_at=given.at)
    applied.feedback += 1


def _found(sql: str, *params) -> bool:
    """Whether the query finds a row. In plain SQL: building the ORM's query costs more than
    running it, for every change a desk catching up applies."""
    return database_proxy.execute_sql(sql, params).fetchone() is not None


def _followup_closed(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A follow-up closed at another desk or in central's back office (the office's names its
    clerk {"username": "office", "name": ...}). Unknown here, or closed here already (the first
    close here stays; central keeps both): counted, ignored."""
    closed = events.read(events.FollowupClosed, data)
    row = Followup.get_or_none(Followup.uid == closed.followup)
    if row is None or row.status != "open":
        log.info("change %s: follow-up %s is %s here; its close ignored", seq, closed.followup,
                 "unknown" if row is None else "closed")
        applied.followups_ignored += 1
        return
    clerk = closed.clerk or events.Clerk()
    name = clerk.name or clerk.username or ("office" if closed.via == "office" else None)
    closed_by = None
    if closed.device == own_uid and clerk.username:  # a clerk of this node (a restored backup)
        local = Clerk.get_or_none(Clerk.username == clerk.username)
        closed_by = local.id if local else None
    applied.followups_closed += Followup.update(
        status="closed", call_note=closed.note or "", closed_at=closed.at, closed_by=closed_by,
        closed_by_name=name).where((Followup.id == row.id) & (Followup.status == "open")).execute()


def _work_order_step(data: dict, seq: int, own_uid: str, applied: Applied, *, kind: str) -> None:
    """A call-back, an appeal or a supervisor's decision recorded at another desk or in the back
    office (kiosk/store/window_ratings.py store_pulled): stored once, shown in F10's detail."""
    from kiosk.store.window_ratings import store_pulled

    stored = store_pulled(kind, data, own_uid)
    applied.work_orders += stored
    if not stored:
        log.info("change %s: %s known here already, or of a work order or rating unknown here", seq, kind)


def _followup_called(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    _work_order_step(data, seq, own_uid, applied, kind="followup.called")


def _rating_appealed(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    _work_order_step(data, seq, own_uid, applied, kind="rating.appealed")


def _appeal_decided(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    _work_order_step(data, seq, own_uid, applied, kind="appeal.decided")


# ---- customer organisations' names: central's own change ---------------------------------------------


def _organisations_known(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """Names of other kiosks' customer organisations, for the customer screen to complete."""
    applied.organisations += learn_organisations(events.read(events.OrganisationsKnown, data).names, utc_now())


# ---- the institute's file, kept at central (central/institute.py) ------------------------------------


def _institute_info(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A new version of the institute's file: stored whole, if this version reads it (else parked)."""
    from kiosk.settings.institute import InstituteFileError
    from kiosk.store.institute import store_synced

    version, text = data.get("version"), data.get("text")
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(text, str):
        raise NotApplicable("refused: an institute file needs a whole-number version and a text")
    try:
        applied.institute += store_synced(version, text, utc_now())
    except InstituteFileError as e:  # the words of this version's parser: where in the file, no one's data
        raise NotApplicable(f"refused: {str(e)[:200]}") from None


# ---- a revoked device's events voided at central (central/voiding.py) ----------------------------------


def _events_voided(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """What those events did here is undone (kiosk/store/voiding.py): a step removed and the
    ticket's status recomputed, a forged ticket, rating or follow-up close taken back."""
    applied.voided += undo_voided(events.read(EventVoided, data), own_uid)


# ---- certificate checks at another desk of the site (kiosk/store/certificate_checks.py) -----------------


def _certificate_step(data: dict, seq: int, own_uid: str, applied: Applied, *, kind: str) -> None:
    """A certificate checked, returned, re-checked or taken as it is at another desk: stored by the
    ticket's uid (its ticket may come later), once."""
    from kiosk.store.certificate_checks import store_pulled

    applied.certificate_checks += store_pulled(kind, data, own_uid)


def _certificate_checked(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    _certificate_step(data, seq, own_uid, applied, kind="certificate.checked")


def _certificate_taken_as_is(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    _certificate_step(data, seq, own_uid, applied, kind="certificate.taken_as_is")


# Other nodes' events whose free text (notes, reasons, comments, an intake's condition, clerks'
# names) is stored as it comes: refused whole (parked) if any of it hides a character this node
# refuses in its own text. A ticket's texts are cleaned by its handler (_cleaned); central's own
# changes (catalogue, institute file, names) by theirs.
_RELAYED_TEXT = frozenset({"ticket.event", "feedback.given", "followup.closed", "followup.called", "rating.appealed",
                           "appeal.decided", "certificate.checked", "certificate.taken_as_is"})

_HANDLERS = {
    "device.key": _device_key,
    "device.revoked": _device_revoked,
    "catalog.version": _catalog_version,
    "ticket.registered": _ticket_registered,
    "ticket.event": _ticket_event,
    "feedback.given": _feedback_given,
    "followup.closed": _followup_closed,
    "followup.called": _followup_called,
    "rating.appealed": _rating_appealed,
    "appeal.decided": _appeal_decided,
    "organisation.known": _organisations_known,
    "event.voided": _events_voided,
    "certificate.checked": _certificate_checked,
    "certificate.taken_as_is": _certificate_taken_as_is,
    "institute.info": _institute_info,
}
