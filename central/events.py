"""What a pushed event may be: the shape of each kind (kiosk/domain/events.py, shared with the
devices that build them), and here the rules central adds: whose event it is, which ticket and
status fact it states, and which change it publishes.

A kind is registered by name with a function reading the decoded payload into the event's
`Facts`: whose event it is (a device may only push its own) and, for ticket kinds, which
ticket and which status fact. A bad event raises `Invalid` naming the field and the reason; the
push path then refuses it by uid and applies nothing of the batch (central/ingest.py).

msgspec checks a payload in C, straight from the bytes the device sent, and those bytes are
what is stored and relayed: nothing is decoded into Python objects and written out again.

Adding a kind (e.g. `device.note`) is its Struct and an `EventKind` line in
kiosk/domain/events.py, one decorated function here (and a line in central/feed.py's AUDIENCE
if it is published):

    @kind("device.note", feed="device.note")
    def _note(p: DeviceNote) -> Facts:
        return Facts(owner=p.device)

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
from kiosk.domain.organisations import shareable

from .words import RANK, STATUSES

MAX_EVENT_BYTES = 256 * 1024  # one payload; a registration is ~1.5 KB
UID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._:-]{0,63}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Where a control character may hide in JSON text: an escape (\n, \u0001, ...), or a raw DEL
# (JSON does not escape it). A literal backslash followed by "n" matches too; the exact check
# then decides. The pattern starts with a literal, which re finds fast; an alternation would not.
ESCAPE_RE = re.compile(r"\\(?:[bfnrt]|u00[01][0-9a-fA-F]|u007[fF])")

# Readable names for the patterns, in messages.
PATTERN_NAMES = {shapes.UUID_PATTERN: "a UUID (canonical, lower case)",
                 shapes.NUMBER_PATTERN: "a ticket number like K7Q-261124-0007", r"\S": "text, not blank"}


class Invalid(ValueError):
    """`code`: a short, stable reason (unknown_kind, not_your_event, invalid); str(): details."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class Facts:
    owner: str  # the uid of the device the event belongs to
    ticket: str | None = None  # ticket uid, for ticket kinds
    status: int | None = None  # the status fact's rank (words.RANK), for ticket kinds
    number: str | None = None  # the ticket's number, as the event carries it
    organisation: str | None = None  # a registration's, if it may be offered to others (central/organisations.py)


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


KINDS: dict[str, Kind] = {}
FEED_KINDS: dict[str, str | None] = {}  # event kind -> change feed kind


def kind(name: str, feed: str | None):
    """Register an event kind of kiosk/domain/events.py: its facts, the change it publishes."""

    def register(facts: Callable[[Any], Facts]) -> Callable[[Any], Facts]:
        KINDS[name] = Kind(msgspec.json.Decoder(shapes.KINDS[name].payload), facts, feed)
        FEED_KINDS[name] = feed
        return facts

    return register


@kind("ticket.registered", feed="ticket.registered")
def _registered(p: shapes.Registered) -> Facts:
    return Facts(owner=p.ticket.device, ticket=p.ticket.uid, status=RANK["registered"], number=p.ticket.number,
                 organisation=p.customer.organisation if shareable(p.customer.organisation, p.customer.contact or "")
                 else None)


def _step(status: str) -> Callable[[shapes.Step], Facts]:
    def facts(p: shapes.Step) -> Facts:
        return Facts(owner=p.device, ticket=p.ticket, status=RANK[status], number=p.number)

    return facts


for _status in ("received", "ready", "picked_up"):
    kind(f"ticket.{_status}", feed="ticket.event")(_step(_status))


# feedback.given / followup.closed are stored (at most once, like every event) for the back
# office (central/followups.py, satisfaction.py) and published to the clerk desks as pushed: a
# desk sees every poor rating to call back and every follow-up closed elsewhere. The back office
# closes follow-ups too: it writes `followup.closed` itself, under device id 0 and central's own
# device uid (central/followups.py), with `clerk` {"username": "office", "name"} and `"via": "office"`.


@kind("feedback.given", feed="feedback.given")
def _feedback_given(p: shapes.FeedbackGiven) -> Facts:
    return Facts(owner=p.device)


@kind("followup.closed", feed="followup.closed")
def _followup_closed(p: shapes.FollowupClosed) -> Facts:
    return Facts(owner=p.device)


# ---- one event -----------------------------------------------------------------------------


def parse_time(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if len(value) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid("invalid", f"{where}: not an ISO-8601 time")
    if parsed.tzinfo is None:
        raise Invalid("invalid", f"{where}: the time has no UTC offset")
    if not 2000 <= parsed.year <= 2999:
        raise Invalid("invalid", f"{where}: implausible year {parsed.year}")
    return parsed


def _message(error: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int` >= 1 - at `$.lines[0].quantity`" as "payload.lines[0].quantity: ..."."""
    text = str(error)
    what, _, where = text.rpartition(" - at `")
    if not what:
        what, where = text, "$`"
    for pattern, name in PATTERN_NAMES.items():
        what = what.replace(f"Expected `str` matching regex {pattern!r}", f"expected {name}")
    return f"payload{where[1:-1]}: {what}"


def _control_path(value, where: str) -> str | None:
    """Where in a payload a string holds a control character (the slow path, for the message)."""
    if isinstance(value, str):
        return where if CONTROL_RE.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and CONTROL_RE.search(key):
            return f"{where}.{key!r}"
        found = _control_path(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}")
        if found:
            return found
    return None


def check(uid: str, kind_name: str, created_at: str, payload: bytes, device_uid: str) -> CheckedEvent:
    """One event of a push by the device `device_uid`, its payload as the JSON bytes sent:
    a CheckedEvent, or Invalid."""
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
    # Control characters are refused in every string at any depth; the exact (slow) walk only
    # runs when the text has something that looks like one.
    if "\x7f" in text or ESCAPE_RE.search(text):
        where = _control_path(json.loads(text), "payload")
        if where:
            raise Invalid("invalid", f"{where}: contains control characters")
    if facts.owner != device_uid:
        raise Invalid("not_your_event", "the event belongs to another device")
    return CheckedEvent(uid, kind_name, created, text, facts)


__all__ = ["FEED_KINDS", "KINDS", "STATUSES", "CheckedEvent", "Facts", "Invalid", "check", "kind"]
