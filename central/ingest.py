"""The push path: a batch of a device's outbox events, validated whole, applied at most once.

- The body is read once (msgspec, in C): the envelope of each event is checked and its
  payload kept as the bytes the device sent. A body that is not a batch at all is Malformed
  (a 422 without `rejected`).
- Every event is checked (central/events.py: its shape) and may be said by this device
  (central/trust.py: role, ownership, prefix, clock). If any is bad, nothing is applied and each
  bad one is named, so the device can park it and send the rest again.
- Then the batch is ONE transaction: the events are inserted `ON CONFLICT (uid) DO NOTHING`
  and only those actually inserted have effects (the change feed). A repeat, in the same
  batch or days later, is acknowledged and changes nothing; a uid another device pushed is
  refused. The rules that need the database (trust.py: who owns a ticket uid and number, which
  site a ticket or follow-up is of) run there, after the insert; if any refuses, the
  transaction rolls back and the batch is refused by uid as above (`Refused`). The new events
  are then folded into the read models the back office reads (central/readmodels/), in the same
  transaction: the events stay the history, the rows only what the pages list. A registration
  naming an organisation central has not seen is published to every device too, the name only
  (central/organisations.py).

The push's quota (central/push_quota.py) is taken from the device's row by the transaction's
first statement; over quota, the transaction rolls back before anything is inserted.

Lock order, so that concurrent pushes cannot deadlock: the pushing device's row first, then
event uids in sorted order, ticket numbers in sorted order (trust.claim_tickets), organisation
read-model rows in key order (central/readmodels/), organisation names' keys in sorted order, the
ticket counts (office_count) and the feed clock last (central/feed.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta, Raw, Struct

from kiosk.domain.clock import utc_now

from . import certificate_checks, feed, organisations, readmodels, trust
from .auth import Device
from .events import CheckedEvent, Invalid, check
from .notices import outbox as notices
from .push_quota import Charge
from .readmodels.stored import Stored, decode
from .storage import Storage, ts

MAX_BATCH = 500
EVENT_COLUMNS = ("uid", "kind", "device_id", "ticket", "status", "created_at", "received_at", "payload")


class Envelope(Struct):
    uid: str
    kind: str
    created_at: str
    payload: Raw  # not decoded here: checked against its kind's schema, and stored, as sent


class Batch(Struct):
    events: Annotated[list[Envelope], Meta(min_length=1, max_length=MAX_BATCH)]


_BATCH = msgspec.json.Decoder(Batch)


class Malformed(ValueError):
    """The body is not a batch at all. `problems`: FastAPI's validation-error shape."""

    def __init__(self, message: str):
        self.problems = [{"type": "value_error", "loc": ["body"], "msg": message}]
        super().__init__(message)


@dataclass(frozen=True)
class Rejection:
    uid: str
    error: str


class Revoked(Exception):
    """The device was revoked between its token's check and its push's transaction."""


class Refused(Exception):
    """The push transaction found events this device may not say: nothing was applied."""

    def __init__(self, rejections: list[Rejection]):
        self.rejections = rejections
        super().__init__(f"{len(rejections)} events refused")


def parse_batch(body: bytes) -> list[Envelope]:
    """`{"events": [{"uid", "kind", "created_at", "payload"}, ...]}` with 1..MAX_BATCH events,
    or Malformed. What is wrong *inside* an event (its uid, kind, time or payload) is for
    validate(), which names the event."""
    try:
        return _BATCH.decode(body).events
    except (msgspec.DecodeError, RecursionError) as e:
        raise Malformed(str(e)[:300]) from None


def validate(device: Device, events: list[Envelope]) -> tuple[list[CheckedEvent], list[Rejection]]:
    """Every event is checked, so that every bad one is named at once."""
    checked, rejected = [], []
    received = utc_now()
    for event in events:
        try:
            checked.append(trust.may_say(device, check(event.uid, event.kind, event.created_at,
                                                       bytes(event.payload)), received))
        except Invalid as e:
            rejected.append(Rejection(event.uid[:100], str(e)))
    return checked, rejected


def apply(storage: Storage, device: Device, checked: list[CheckedEvent], quota: Charge | None = None) -> list[str]:
    """Store and apply a validated batch in one transaction; the uids acknowledged (all), or
    Refused naming the events the database shows this device may not say. `quota`: the push's
    cost, taken from the device's buckets by the transaction's first statement (OverQuota if
    over: nothing stored, nothing counted; central/push_quota.py)."""
    moment = utc_now()
    now, stamp = ts(moment), storage.timestamp
    unique: dict[str, CheckedEvent] = {}
    for event in checked:
        unique.setdefault(event.uid, event)  # a uid twice in one batch: the second is a repeat
    rows = [(e.uid, e.kind, device.id, e.facts.ticket, e.facts.status, stamp(e.created_at), now, e.payload_json)
            for e in sorted(unique.values(), key=lambda e: e.uid)]
    with storage.transaction() as tx:
        # The device's row first (the lock order above), every push: a revocation committing while
        # this push is in flight waits for it (and its voiding then sees these events), or this
        # push sees the revocation and stores nothing (its token was checked before it began).
        # The push quota is taken by the same statement (the row is locked by it: pushes from
        # several workers are counted one after the other).
        charge_sql, returning = (f", {quota.sql}", f", {quota.returning}") if quota else ("", "")
        row = tx.one(f"UPDATE device SET last_seen_at = ?, last_push_at = ?{charge_sql} WHERE id = ? "
                     f"AND revoked_at IS NULL RETURNING id{returning}",
                     (now, now, *(quota.params if quota else ()), device.id))
        if row is None:
            raise Revoked(device.uid)
        if quota:
            quota.check(tuple(row)[1:], device.uid)  # raised inside the transaction: it rolls back
        written = storage.bulk_insert(tx, "event", EVENT_COLUMNS, rows, "ON CONFLICT (uid) DO NOTHING", "id, uid")
        ids = {uid: event_id for event_id, uid in written}
        new = [e for uid, e in unique.items() if uid in ids]
        refused = [*trust.uid_taken(tx, device, [uid for uid in unique if uid not in ids]),
                   *trust.claim_tickets(tx, device, [(ids[e.uid], e) for e in new if e.kind == trust.REGISTERED]),
                   *trust.same_site(tx, device, new), *trust.known_followups(tx, device, new)]
        if refused:  # raised inside the transaction: it rolls back
            raise Refused([Rejection(uid, str(why)) for uid, why in refused])
        stored = [Stored(ids[e.uid], e.uid, e.kind, e.facts.ticket, e.facts.status, e.created_at, moment, device.uid,
                         decode(e.payload_json), device.id)
                  for e in new if e.facts.status is not None or e.kind in (*readmodels.FOLDED, *readmodels.APPEALS)]
        readmodels.fold(tx, storage, stored)
        notices.queue_pushed(tx, storage, stored, moment)  # after the fold: it reads the due list's rows
        checks = [(ids[e.uid], decode(e.payload_json)) for e in new if e.kind == certificate_checks.KIND]
        if checks:  # the certificate checks' figures (central/certificate_checks.py)
            certificate_checks.fold(tx, storage, checks, device.site)
        # In the order the device sent them; repeats have no effect.
        feed.publish_events(tx, device.id, [(ids[uid], e.kind) for uid, e in unique.items() if uid in ids],
                            site=device.site)  # to the desks of the pusher's site only
        feed.publish_to_owners(tx, device.id, [(ids[e.uid], e.facts.ticket) for e in new
                                               if e.facts.ticket and e.facts.status], site=device.site)
        feed.publish_steps_so_far(tx, device.id, [e.facts.ticket for e in new
                                                  if e.facts.ticket and e.facts.status == 0], site=device.site)
        organisations.publish_new(tx, device.id, [e.facts.organisation for e in new if e.facts.organisation])
    return [event.uid for event in checked]
