"""`event.voided`: central's correction after it voided a revoked device's events (central/voiding.py),
read by the devices that may have applied them (kiosk/sync/feed.py), which undo what they did
(kiosk/store/voiding.py). One shape, shared by both sides, like kiosk/domain/events.py's.

Each voided event is named by its uid at central and by `ref`, the id a device keeps what it
did under (central's event uid is the pusher's outbox uid, which no other device stores).

Pure: msgspec is the one dependency.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from kiosk.domain.events import Payload, Text, Time, Uuid

PER_CHANGE = 500  # voided events in one change: a stolen device's year of events is several changes


class VoidedEvent(Payload):
    uid: Annotated[str, Meta(max_length=64)]  # the event's uid at central
    kind: Annotated[str, Meta(max_length=40)]  # ticket.registered | ticket.<step> | feedback.given | followup.closed
    ticket: Uuid | None = None  # the ticket it concerns, if any
    # What a device keeps it by: the ticket's uid (a registration), the step's `event`, the rating's
    # `feedback`, the follow-up's uid (a close), the call-back's or the appeal's uid (a call-back, an
    # appeal, its decision).
    ref: Annotated[str, Meta(max_length=64)] | None = None
    at: Time | None = None  # the moment the event states (its payload's `at`)


class EventVoided(Payload):
    voiding: int  # central's voiding id (`kiosk central voidings`)
    device_uid: Uuid  # the revoked device whose events these were
    since: Time  # voided: what central received from it from this moment on
    reason: Text
    events: Annotated[list[VoidedEvent], Meta(max_length=PER_CHANGE)]
