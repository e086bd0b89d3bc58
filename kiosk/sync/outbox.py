"""Push: the outbox's events as the wire carries them, and what central answered about them.

Every local fact is an outbox event written in the fact's own transaction. An event is marked
acknowledged only after central answered that it holds it; central applies each event uid at
most once, so a lost answer, a retry, a restart or a `kill -9` only sends an event again. An
event central refuses by name (422) is parked with the reason and reported; the rest of the
queue goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from db.models import OutboxEvent, database_proxy, utc_now
from kiosk.store.parked import parked_count
from kiosk.sync.client import PushAnswer

log = logging.getLogger(__name__)

BATCH = 500  # events per push: central's limit
BATCH_BYTES = 1536 * 1024  # and at most this much JSON per push (central refuses bodies over 2 MB)


def _pending():
    return OutboxEvent.select().where(OutboxEvent.acked_at.is_null() & OutboxEvent.parked_at.is_null())


def pending_batch(limit: int = BATCH, max_bytes: int | None = None) -> list[dict]:
    """The oldest events not yet acknowledged nor parked, as the wire carries them: at most
    `limit` of them and about `max_bytes` (default BATCH_BYTES) of payload, but always one."""
    max_bytes = max_bytes or BATCH_BYTES
    events, size = [], 0
    for e in _pending().order_by(OutboxEvent.seq).limit(limit):
        size += len(e.payload)
        if events and size > max_bytes:
            break
        events.append({"uid": e.uid, "kind": e.kind, "created_at": e.created_at.isoformat(),
                       "payload": json.loads(e.payload)})
    return events


def record_push(answer: PushAnswer, now: datetime | None = None) -> None:
    """Acknowledged events are done; refused ones are parked with the reason. One transaction."""
    now = now or utc_now()
    with database_proxy.atomic():
        for chunk in _chunks(answer.acked, 400):
            OutboxEvent.update(acked_at=now).where(
                OutboxEvent.uid.in_(chunk) & OutboxEvent.acked_at.is_null()).execute()
        for uid, reason in answer.rejected.items():
            OutboxEvent.update(parked_at=now, park_reason=reason[:500]).where(
                (OutboxEvent.uid == uid) & OutboxEvent.acked_at.is_null()).execute()
    if answer.rejected:
        log.warning("central refused %d event(s); parked: %s", len(answer.rejected),
                    ", ".join(f"{uid} ({why[:80]})" for uid, why in list(answer.rejected.items())[:10]))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class Backlog:
    waiting: int  # events central has not acknowledged yet
    parked: int  # events central refused (see `kiosk sync --parked`)
    changes_parked: int = 0  # changes that failed here, kept aside (kiosk/store/parked.py; the same command)


def backlog() -> Backlog:
    parked = OutboxEvent.select().where(OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null()).count()
    return Backlog(_pending().count(), parked, parked_count())


def parked_events() -> list[tuple[str, str, str]]:
    """(uid, kind, reason) of every parked event: what an operator looks at."""
    return [(e.uid, e.kind, e.park_reason or "") for e in OutboxEvent.select().where(
        OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null()).order_by(OutboxEvent.seq)]
