"""What a pushed event may be: the shape of each kind (kiosk/domain/events.py, shared with the
devices that build them), and here the rules central adds: whose event it is, which ticket and
status fact it states, and which change it publishes.

A kind is registered by name with the role that may push it and a function reading the
decoded payload into the event's `Facts`: whose event it is, for ticket kinds which ticket and
which status fact, and what else the trust rules need (central/trust.py: who may say what). A
bad event raises `Invalid` naming the field and the reason; the push path then refuses it by uid
and applies nothing of the batch (central/ingest.py).

msgspec checks a payload in C, straight from the bytes the device sent, against the kind's
shape made strict (kiosk/domain/events.py `strict`: a field the shape does not name is refused),
and those bytes are what is stored and relayed: nothing is decoded into Python objects and
written out again.

Adding a kind (e.g. `device.note`) is its Struct and an `EventKind` line in
kiosk/domain/events.py, one decorated function here (and a line in central/feed.py's AUDIENCE
if it is published):

    @kind("device.note", feed="device.note", pushers=("kiosk", "clerk"))
    def _note(p: DeviceNote) -> Facts:
        return Facts(owner=p.device, said_at=p.at)

`feed=None` stores a kind without publishing it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from kiosk.domain import events as shapes
from kiosk.domain.hidden_text import hidden_at

from .words import RANK, STATUSES

# One payload: a registration is ~1.1 KB with one instrument, 34 KB with 100; the largest the
# kiosk's screens can build is ~148 KB (measured for issue 17), which must never be parked.
MAX_EVENT_BYTES = 192 * 1024
# The time as a device writes it (datetime.isoformat(), with its UTC offset); central/api/events.py
# describes the same in the OpenAPI, with real calendar days.
TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
                     r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
UID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._:-]{0,63}$")
UNKNOWN_FIELD_RE = re.compile(r"^Object contains unknown field `(.*)`$", re.DOTALL)

# Readable names for the patterns, in messages.
PATTERN_NAMES = {shapes.UUID_PATTERN: "a UUID (canonical, lower case)",
                 shapes.NUMBER_PATTERN: "a ticket number like K7Q-261124-0007", r"\S": "text, not blank"}


class Invalid(ValueError):
    """`code`: a short, stable reason (unknown_kind, invalid, and central/trust.py's words);
    str(): details."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class Facts:
    owner: str  # the uid of the device the event belongs to
    ticket: str | None = None  # ticket uid, for ticket kinds
    status: int | None = None  # the status fact's rank (words.RANK), for ticket kinds
    number: str | None = None  # the ticket's number, as the event carries it
    organisation: tuple[str, str] | None = None  # a registration's, and its contact (central/organisations.py)
    said_at: datetime | None = None  # the time the payload states (its `at`, a ticket's created_at)
    concerns: str | None = None  # a ticket uid that must be of the pusher's site, if central knows it
    closes: tuple[str, str] | None = None  # (follow-up uid, its rating's feedback uid) a close names


@dataclass(frozen=True)
class CheckedEvent:
    uid: str
    kind: str
    created_at: datetime
    payload_json: str  # the payload exactly as the device sent it
    facts: Facts


@dataclass(frozen=True)
class Kind:
    decoder: msgspec.json.Decoder
    facts: Callable[[Any], Facts]
    feed: str | None  # the change feed kind it is published as, or None
    pushers: tuple[str, ...]  # the device roles that may push it (central/trust.py role)


KINDS: dict[str, Kind] = {}
FEED_KINDS: dict[str, str | None] = {}  # event kind -> change feed kind


def kind(name: str, feed: str | None, pushers: tuple[str, ...]):
    """Register an event kind of kiosk/domain/events.py: its facts, the change it publishes,
    who may push it."""

    def register(facts: Callable[[Any], Facts]) -> Callable[[Any], Facts]:
        KINDS[name] = Kind(msgspec.json.Decoder(shapes.strict(shapes.KINDS[name].payload)), facts, feed, pushers)
        FEED_KINDS[name] = feed
        return facts

    return register


# Lobby kiosks register tickets and take ratings; clerk desks take the steps and close the
# follow-ups (central/README-API.md, "Who may say what").


@kind("ticket.registered", feed="ticket.registered", pushers=("kiosk",))
def _registered(p: shapes.Registered) -> Facts:
    return Facts(owner=p.ticket.device, ticket=p.ticket.uid, status=RANK["registered"], number=p.ticket.number,
                 organisation=(p.customer.organisation, p.customer.contact or ""), said_at=p.ticket.created_at)


def _step(status: str) -> Callable[[shapes.Step], Facts]:
    def facts(p: shapes.Step) -> Facts:
        return Facts(owner=p.device, ticket=p.ticket, status=RANK[status], number=p.number, said_at=p.at,
                     concerns=p.ticket)

    return facts


for _status in ("received", "ready", "picked_up"):
    kind(f"ticket.{_status}", feed="ticket.event", pushers=("clerk",))(_step(_status))


# feedback.given / followup.closed are stored (at most once, like every event) for the back
# office (central/followups.py, satisfaction.py) and published to the clerk desks as pushed: a
# desk sees every poor rating to call back and every follow-up closed elsewhere. The back office
# closes follow-ups too: it writes `followup.closed` itself, under device id 0 and central's own
# device uid (central/followups.py), with `clerk` the signed-in office user's {"username", "name"}
# and `"via": "office"`.


@kind("feedback.given", feed="feedback.given", pushers=("kiosk", "clerk"))  # clerk: its counter's pad (一次一评)
def _feedback_given(p: shapes.FeedbackGiven) -> Facts:
    return Facts(owner=p.device, said_at=p.at, concerns=p.ticket, number=p.number if p.ticket else None)


@kind("followup.closed", feed="followup.closed", pushers=("clerk",))
def _followup_closed(p: shapes.FollowupClosed) -> Facts:
    return Facts(owner=p.device, said_at=p.at, closes=(p.followup, p.feedback))


# Work orders and appeals (issue 21, kiosk/store/window_ratings.py): stored for the back office
# (central/appeals.py, central/ratings_export.py) and, from schema 19, published to the clerk desks
# as pushed (a desk sees the call-backs and appeals other desks recorded, and the decisions). A
# call names its follow-up and rating as a close does (trust.known_followups checks both).


@kind("followup.called", feed="followup.called", pushers=("clerk",))
def _followup_called(p: shapes.FollowupCalled) -> Facts:
    return Facts(owner=p.device, said_at=p.at, closes=(p.followup, p.feedback))


@kind("rating.appealed", feed="rating.appealed", pushers=("clerk",))
def _rating_appealed(p: shapes.RatingAppealed) -> Facts:
    return Facts(owner=p.device, said_at=p.at)


@kind("appeal.decided", feed="appeal.decided", pushers=("clerk",))
def _appeal_decided(p: shapes.AppealDecided) -> Facts:
    return Facts(owner=p.device, said_at=p.at)


# Certificate checks at dispatch (issue 23; kiosk/domain/certificate_check.py): clerk desks only,
# on a ticket of the desk's site (trust.same_site, like the steps); no status fact. Published to
# the desks of the site, which keep every certificate's state (central/certificate_checks.py folds
# them for the back office's figures).


@kind("certificate.checked", feed="certificate.checked", pushers=("clerk",))
def _certificate_checked(p: shapes.CertificateChecked) -> Facts:
    return Facts(owner=p.device, number=p.number, said_at=p.at, concerns=p.ticket)


@kind("certificate.taken_as_is", feed="certificate.taken_as_is", pushers=("clerk",))
def _certificate_taken_as_is(p: shapes.CertificateTakenAsIs) -> Facts:
    return Facts(owner=p.device, number=p.number, said_at=p.at, concerns=p.ticket)


# ---- one event -----------------------------------------------------------------------------


def parse_time(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if TIME_RE.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid("invalid", f"{where}: not an ISO-8601 time with a UTC offset "
                                 "(like 2026-11-24T09:30:00+08:00)")
    return parsed  # whether the device's clock is sane is central/trust.py's (clock)


def _message(error: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int` >= 1 - at `$.lines[0].quantity`" as "payload.lines[0].quantity: ..."."""
    text = str(error)
    what, _, where = text.rpartition(" - at `")
    if not what:
        what, where = text, "$`"
    unknown = UNKNOWN_FIELD_RE.match(what)
    if unknown:  # a field the shape does not name: said where it is, like any other
        return f"payload{where[1:-1]}.{unknown[1][:40]}: unknown field"
    for pattern, name in PATTERN_NAMES.items():
        what = what.replace(f"Expected `str` matching regex {pattern!r}", f"expected {name}")
    return f"payload{where[1:-1]}: {what}"


def _control(ch: str) -> bool:
    return ch < " " or ch == "\x7f"


def _hidden_path(payload) -> str | None:
    """Where in a payload a string (or a key) holds a character no text here keeps: a control
    character anywhere; an invisible format character (U+202E RIGHT-TO-LEFT OVERRIDE, a zero-width
    space: kiosk/domain/validation.py `hidden`, what every device refuses as typed) outside the
    estimate, the catalogue's wording, which no device typed. The slow path, for the message."""
    estimate = payload.pop("estimate", None) if isinstance(payload, dict) else None
    return hidden_at(payload, "payload") or hidden_at(estimate, "payload.estimate", _control)


def check(uid: str, kind_name: str, created_at: str, payload: bytes) -> CheckedEvent:
    """One event, its payload as the JSON bytes sent: a CheckedEvent, or Invalid. Whether the
    device that pushed it may say it is central/trust.py's."""
    if not UID_RE.match(uid):
        raise Invalid("invalid", "uid: 1–64 letters, digits or . _ : -, starting with a letter or digit")
    spec = KINDS.get(kind_name)
    if spec is None:
        raise Invalid("unknown_kind", f"kind {kind_name[:40]!r} is not one of {', '.join(sorted(KINDS))}")
    created = parse_time(created_at, "created_at")
    if len(payload) > MAX_EVENT_BYTES:
        raise Invalid("invalid", f"payload: over {MAX_EVENT_BYTES} bytes")
    try:
        text = payload.decode("utf-8")
        facts = spec.facts(spec.decoder.decode(payload))
    except UnicodeDecodeError:
        raise Invalid("invalid", "payload: not UTF-8") from None
    except msgspec.ValidationError as e:
        raise Invalid("invalid", _message(e)) from None
    except (msgspec.DecodeError, RecursionError) as e:
        raise Invalid("invalid", f"payload: {str(e)[:100]}") from None
    # Refused in every string at any depth; the exact (slow) walk only runs when the text could
    # hold one: raw (not printable), or escaped (a backslash: \n, \u202e).
    if "\\" in text or not text.isprintable():
        where = _hidden_path(json.loads(text))
        if where:
            raise Invalid("invalid", f"{where}: contains control characters or invisible formatting")
    return CheckedEvent(uid, kind_name, created, text, facts)


__all__ = ["FEED_KINDS", "KINDS", "STATUSES", "CheckedEvent", "Facts", "Invalid", "check", "kind"]
