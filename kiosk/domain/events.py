"""The events a device writes to its outbox: one definition per kind, its fields, their types
and its version, shared by the device (which builds them and reads them back from the change
feed) and by central (which checks every pushed payload against them, central/events.py).

Each payload is a msgspec Struct: central decodes the bytes a device sent straight into it (in
C, with every constraint below checked), and a device reads a pulled change with `read`, which
checks the same. A device reads tolerantly: fields a kind does not name are allowed (a newer
central may relay some). Central decodes pushes with `strict(shape)`, which refuses them: what
it stores and relays to other devices is only what a shape names, so a field is added here
first (optional), then written by devices. A kind's `version` changes only when a reader of the
previous one could no longer read it (a field removed, renamed or narrowed), never for an added
optional field.

`to_json` writes a payload as the outbox stores and pushes it: keys sorted, UTF-8 text, times as
`datetime.isoformat` writes them. Those bytes are what central stores and relays.

Pure: no database, no network; msgspec is the one dependency.
"""

from __future__ import annotations

import json
import operator
import types
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, reduce
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct

from kiosk.domain.validation import EMAIL_PATTERN, MAX_TEXT

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # canonical, lower case
NUMBER_PATTERN = r"^[0-9A-Z]{1,8}-[0-9]{6}-[0-9]{4,6}$"  # K7Q-261124-0007 (kiosk/domain/ids.py)

Uuid = Annotated[str, Meta(pattern=UUID_PATTERN)]
Number = Annotated[str, Meta(pattern=NUMBER_PATTERN)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]
Required = Annotated[str, Meta(pattern=r"\S", max_length=MAX_TEXT)]  # not blank
Time = Annotated[datetime, Meta(tz=True)]  # ISO-8601 / RFC 3339 with a UTC offset
Fen = Annotated[int, Meta(ge=0, le=10**12)]
Comment = Annotated[str, Meta(max_length=500)]
Service = Literal["verification", "calibration", "testing", "repair"]
Use = Literal["trade", "safety", "medical", "environment", "other"]
UrgentHours = Literal[8, 24, 72]
Level = Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
Heart = Literal["warm", "careful", "patient", "dedicated", "reassuring"]
Language = Literal["zh", "en"]
Stage = Literal["intake", "completion"]  # 受理, 办结: what a rating at the window rates (GB/T 39734)
FixLevel = Literal["satisfied", "basic", "dissatisfied"]  # the customer's rating of a poor rating's fix
StaffNumber = Annotated[str, Meta(pattern=r"\S", max_length=20)]  # 工号


class Payload(Struct, forbid_unknown_fields=False):
    """A payload's shape, as devices read it: unknown fields are allowed. `strict()`: as central
    reads a push."""


# ---- ticket.registered: kiosk/store/registration.py commit() -------------------------------------


class Line(Payload):
    code: Annotated[str, Meta(pattern=r"\S", max_length=20)]
    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    service: Service
    use: Use
    amount_fen: Fen | None = None  # None: the counter quotes the price
    model: Text | None = None
    serial_number: Text | None = None
    manufacturer: Text | None = None
    requirements: Text | None = None
    free_reason: Text | None = None
    position: Annotated[int, Meta(ge=0)] | None = None
    points: Annotated[int, Meta(ge=0)] | None = None
    ranges: Annotated[int, Meta(ge=0)] | None = None
    metres: Annotated[str, Meta(max_length=20)] | None = None  # decimal text, never a float
    ac_dc: bool = False
    extra_data: bool = False  # data the regulation does not require, asked for (fees.py rule 4)
    repair_if_fails: bool = False


class Ticket(Payload):
    uid: Uuid
    number: Number
    device: Uuid
    created_at: Time
    total_fen: Fen
    catalog_version: Annotated[int, Meta(ge=1)] | None = None
    certificates: Annotated[int, Meta(ge=1, le=10)] | None = None
    urgent: Text | None = None
    pickup: Text | None = None
    certificate_name: Text | None = None
    policy: Text | None = None
    code: Annotated[str, Meta(max_length=4000)] | None = None  # the signed ticket code (its QR)
    ready_on: date | None = None  # the date the receipt promised for the non-urgent lines
    urgent_hours: UrgentHours | None = None  # the urgent lines' promise, from intake


class Customer(Payload):
    organisation: Required
    credit_code: Text | None = None
    address: Text | None = None
    contact: Text | None = None
    phone: Text | None = None


class Notify(Payload):
    """The customer asked to be told (default: not): on the phone given (`sms`: customer.phone) and/or at
    `email`, in `language` (the one they used at the kiosk). central/notices/ sends them; retention
    erases `email` with the customer."""

    language: Language = "zh"
    sms: bool = False
    email: Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=200)] | None = None


class Registered(Payload, omit_defaults=True):
    """A ticket as registered: also the one description every path stores a ticket from
    (kiosk/store/tickets.py store_ticket)."""

    ticket: Ticket
    customer: Customer
    lines: Annotated[list[Line], Meta(min_length=1, max_length=100)]
    notify: Notify | None = None  # None (not written: omit_defaults): no notices, as before notices


# ---- ticket.received / ready / picked_up: kiosk/store/desk.py _step() ------------------------------


class Clerk(Payload, omit_defaults=True):
    """Who took the step; written as {} when no clerk did."""

    username: Text | None = None
    name: Text | None = None


class Step(Payload, omit_defaults=True):
    event: Uuid  # the desk's own ticket_event uid
    ticket: Uuid
    number: Number
    device: Uuid
    at: Time
    clerk: Clerk | None = None
    kind: None = None  # reserved: the change feed adds the step's kind under this name (never written)


class IntakeLine(Payload):
    """One line as the receiving clerk took it in."""

    code: Annotated[str, Meta(pattern=r"\S", max_length=20)]
    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    service: Service
    use: Use
    ticket_line_id: int | None = None  # None: a line the clerk added
    condition: Text = ""
    accessories: Text = ""
    serial_number: Text = ""
    refused: bool = False


class Received(Step):
    total_fen: Fen | None = None
    estimate: dict[str, Any] | None = None  # kiosk.domain.fees.Estimate.to_dict() of the lines kept
    lines: Annotated[list[IntakeLine], Meta(max_length=100)] | None = None


class Ready(Step):
    pass


Certificate = Annotated[str, Meta(max_length=40)]


class PickedUp(Step):
    """`certificates`: intake position -> one number per instrument of the line, in order ("":
    none noted for that one). A single string: one number for the whole line, as desks wrote
    it before a line of several instruments got one each (still read, never written now)."""

    certificates: dict[str, Annotated[list[Certificate], Meta(max_length=100_000)] | Certificate] | None = None
    storage: dict[str, Any] | None = None  # kiosk.domain.fees.StorageCharge.to_dict(): kept past the pickup period


# ---- feedback.given / followup.closed: kiosk/store/feedback.py -----------------------------------


class StepSeen(Payload):
    """Where and by whom a ticket was served, as the rating kiosk knew it."""

    device: Uuid | None = None
    clerk: Text | None = None  # the clerk's username


class FollowupOpened(Payload, omit_defaults=True):
    uid: Uuid
    due_on: date
    callback_by: Time | None = None  # the work order's call-back deadline (the institute's rule); None: none


class FeedbackGiven(Payload, kw_only=True):
    feedback: Uuid
    device: Uuid
    at: Time
    rating: Annotated[int, Meta(ge=1, le=5)]
    level: Level
    ticket: Uuid | None = None  # None: anonymous, no link
    number: Number | None = None
    hearts: Annotated[list[Heart], Meta(max_length=5)] = []
    reason: Text | None = None
    reason_text: Text | None = None
    comment: Comment | None = None
    callback: bool = False
    phone: Annotated[str, Meta(max_length=20)] | None = None
    language: Language = "zh"
    steps: Annotated[dict[str, StepSeen], Meta(max_length=10)] = {}  # "received", "picked_up"
    followup: FollowupOpened | None = None  # a poor rating's follow-up
    # A rating at the window (the counter's pad, kiosk/store/window_ratings.py; None: the lobby kiosk's):
    # the stage it rates, the serving clerk's username and 工号, the window's number. `number` is the
    # transaction number (办件编号).
    stage: Stage | None = None
    clerk: Text | None = None
    staff_number: StaffNumber | None = None
    counter: Annotated[str, Meta(max_length=20)] | None = None


class FollowupClosed(Payload, kw_only=True):
    followup: Uuid
    feedback: Uuid
    device: Uuid
    at: Time
    note: Comment = ""
    clerk: Clerk | None = None
    via: Literal["desk", "office"] | None = None  # "office": closed in central's back office
    fix: FixLevel | None = None  # the customer's rating of the fix (满意 基本满意 不满意), asked at the close


# ---- followup.called / rating.appealed / appeal.decided: kiosk/store/window_ratings.py ----------------


class FollowupCalled(Payload, kw_only=True):
    """A call-back made for a poor rating's work order (回访记录), reached or not."""

    call: Uuid
    followup: Uuid
    feedback: Uuid
    device: Uuid
    at: Time
    reached: bool
    note: Comment = ""
    clerk: Clerk | None = None


class RatingAppealed(Payload, kw_only=True):
    """Staff ask a supervisor to review a rating they think mistaken or malicious (申诉)."""

    appeal: Uuid
    feedback: Uuid
    device: Uuid
    at: Time
    reason: Annotated[str, Meta(pattern=r"\S", max_length=500)]
    clerk: Clerk | None = None


class AppealDecided(Payload, kw_only=True):
    """The supervisor's decision on an appeal, with its reason. Upheld: the rating is left out of
    the counts and the export marks it; it is never deleted."""

    appeal: Uuid
    feedback: Uuid
    device: Uuid
    at: Time
    decision: Literal["upheld", "rejected"]
    reason: Annotated[str, Meta(pattern=r"\S", max_length=500)]
    supervisor: Clerk | None = None
    via: Literal["desk", "office"] | None = None


# ---- organisation.known: central's own change (central/ingest.py), to every device -------------


class OrganisationsKnown(Payload):
    """Customer organisations' names central learnt from a push of registrations, each name
    published once, for the customer screen to complete (kiosk/store/organisations.py). Every
    lobby kiosk gets it: names only, never a contact or a phone."""

    names: Annotated[list[Required], Meta(min_length=1, max_length=1000)]


# ---- certificate.checked / certificate.taken_as_is: kiosk/store/certificate_checks.py -------------
# The last gate at the dispatch counter (kiosk/domain/certificate_check.py has the rule).

Point = Literal["instrument", "serial", "holder", "conclusion", "due_date", "copies"]
Conclusion = Literal["pass", "fail", "results"]


class CertificateChecked(Payload, omit_defaults=True):
    """One certificate (one instrument of an intake line) checked at dispatch: passed, or returned
    to the lab with the points found wrong and the reason in words, and the corrected one's
    promise. A re-check names the returned check (`recheck_of`). `code`: the line's fee code
    (its lab field, for the figures)."""

    check: Uuid
    ticket: Uuid
    number: Number
    device: Uuid
    at: Time
    line: Annotated[int, Meta(ge=0, le=10_000)]
    instrument: Annotated[int, Meta(ge=0, le=100_000)]
    outcome: Literal["passed", "returned"]
    code: Annotated[str, Meta(max_length=20)] = ""
    service: Service | None = None
    certificate: Certificate = ""
    document: Literal["certificate", "notice"] = "certificate"
    conclusion: Conclusion | None = None
    wrong: Annotated[list[Point], Meta(max_length=6)] = []
    reason: Text = ""
    promised_on: date | None = None
    recheck_of: Uuid | None = None
    clerk: Clerk | None = None


class CertificateTakenAsIs(Payload, omit_defaults=True):
    """The customer takes a returned certificate as it is (their choice, the clerk's note)."""

    event: Uuid
    check: Uuid  # the returned check
    ticket: Uuid
    number: Number
    device: Uuid
    at: Time
    line: Annotated[int, Meta(ge=0, le=10_000)]
    instrument: Annotated[int, Meta(ge=0, le=100_000)]
    note: Text = ""
    clerk: Clerk | None = None


# ---- the kinds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventKind:
    name: str
    payload: type[Payload]
    version: int = 1


KINDS: dict[str, EventKind] = {k.name: k for k in (
    EventKind("ticket.registered", Registered),
    EventKind("ticket.received", Received),
    EventKind("ticket.ready", Ready),
    EventKind("ticket.picked_up", PickedUp),
    EventKind("feedback.given", FeedbackGiven),
    EventKind("followup.closed", FollowupClosed),
    EventKind("followup.called", FollowupCalled),
    EventKind("rating.appealed", RatingAppealed),
    EventKind("appeal.decided", AppealDecided),
    EventKind("certificate.checked", CertificateChecked),
    EventKind("certificate.taken_as_is", CertificateTakenAsIs),
)}
STEPS: dict[str, type[Step]] = {"received": Received, "ready": Ready, "picked_up": PickedUp}  # by status

P = TypeVar("P", bound=Payload)


@cache
def strict(shape: type[P]) -> type[P]:
    """`shape` refusing every field it does not name, at any depth (its nested shapes made
    strict too): central decodes a push with it. Same fields, types, limits and defaults."""
    fields: list[tuple] = []
    for f in msgspec.structs.fields(shape):
        hint = _strict_type(f.type)
        if f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, hint, msgspec.field(default_factory=f.default_factory)))
        elif f.default is not msgspec.NODEFAULT:
            fields.append((f.name, hint, f.default))
        else:
            fields.append((f.name, hint))
    return msgspec.defstruct(f"Strict{shape.__name__}", fields, kw_only=True, forbid_unknown_fields=True,
                             module=__name__)  # type: ignore[return-value]  # built from shape's own fields


def _strict_type(hint: Any) -> Any:
    """A field's type with every payload shape in it made strict (Annotated limits kept)."""
    if isinstance(hint, type) and issubclass(hint, Payload):
        return strict(hint)
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return Annotated[(_strict_type(args[0]), *hint.__metadata__)]
    if not args or origin is Literal:
        return hint
    inner = tuple(_strict_type(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return reduce(operator.or_, inner)  # X | Y | None again
    return origin[inner]  # list[...], dict[...]


def _iso(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_iso)  # json.dumps makes one per call


def to_json(payload: Payload | dict) -> str:
    """A payload (or a dict holding payload parts) as the outbox stores it."""
    plain = msgspec.to_builtins(payload, builtin_types=(datetime, date))  # times stay isoformat's, not msgspec's "Z"
    return _ENCODER.encode(plain)


_SORTED = msgspec.json.Encoder(order="sorted")


def ticket_json(ticket: Ticket) -> str:
    """`to_json(ticket)`, the same text, in half the time: a registration writes it inside its
    transaction (kiosk/store/registration.py commit). msgspec writes a Ticket's fields as json does
    (keys sorted, ", " and ": " once formatted, the same escapes, a date as isoformat writes it)
    but for a time, which it ends in "Z" where isoformat writes "+00:00": its one time is given
    as isoformat's text (tests/test_registration.py holds both to the byte)."""
    fields = msgspec.structs.asdict(ticket)
    fields["created_at"] = ticket.created_at.isoformat()
    return msgspec.json.format(_SORTED.encode(fields), indent=0).decode()


def read(kind: type[P], data: dict) -> P:
    """A payload read back (e.g. from the change feed), checked as central checks it;
    msgspec.ValidationError if it is not of the kind's shape."""
    return msgspec.convert(data, kind)


# ---- a step as a node keeps it: its ticket_event row's payload --------------------------------------

S = TypeVar("S", bound=Step)
# A step's fields its ticket_event row holds in columns (uid, ticket, device, created_at; the number
# is the ticket's), and the feed's kind: not in the row's payload.
IN_COLUMNS = ("event", "ticket", "number", "device", "at", "kind")


@cache
def kept(step: type[S]) -> type[S]:
    """The shape of what a node keeps of a `step` (STEPS) in its ticket_event row's payload: the
    step's own fields (kiosk/store/desk.py _step), and the clerk of a step pulled from another desk
    (kiosk/sync/feed.py). A subclass of `step` with the same fields, types and limits, but those
    in IN_COLUMNS: never in the payload, read as None (they are the row's columns)."""
    return msgspec.defstruct(f"Kept{step.__name__}", [(name, None, None) for name in IN_COLUMNS],
                             bases=(step,), module=__name__)  # type: ignore[return-value]  # a subclass of step


def read_kept(step: type[S], payload: str) -> S:
    """A ticket_event row's payload read as `kept(step)`, checked as `read` checks; msgspec.DecodeError
    (a ValueError) if it is not JSON of that shape."""
    return msgspec.json.decode(payload, type=kept(step))
