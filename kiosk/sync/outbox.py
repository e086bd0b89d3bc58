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
import re
from dataclasses import dataclass
from datetime import datetime

from db.models import OutboxEvent, ParkedChange, database_proxy, utc_now
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
    events: list[dict] = []
    size = 0
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


REPORTED_REASONS = 5  # newest reason names a device tells central
_NOT_A_NAME = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class ParkedReport:
    """What this device keeps parked, as it tells central on every pull (kiosk/sync/client.py
    `X-Parked`), so the back office can raise an alert: counts and the newest reasons' names
    (the word before the first colon, e.g. `uid_taken`, `unknown_kind`): never a payload or a
    reason's details, which may quote a value."""

    events: int  # events central refused, parked here
    changes: int  # changes from central that failed here
    reasons: tuple[str, ...]  # newest first, each once, at most REPORTED_REASONS

    def header(self) -> str:
        return f"events={self.events};changes={self.changes};reasons={','.join(self.reasons)}"


def reason_name(reason: str | None) -> str:
    """`uid_taken: uid: another device ...` -> `uid_taken`; `unknown kind` -> `unknown_kind`."""
    return _NOT_A_NAME.sub("_", (reason or "").split(":", 1)[0].strip().lower()).strip("_")[:40] or "unknown"


def parked_report() -> ParkedReport:
    refused = (OutboxEvent.select(OutboxEvent.park_reason)
               .where(OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null()))
    newest = [(e.parked_at, reason_name(e.park_reason)) for e in (
        OutboxEvent.select(OutboxEvent.parked_at, OutboxEvent.park_reason)
        .where(OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null())
        .order_by(OutboxEvent.parked_at.desc()).limit(REPORTED_REASONS))]
    newest += [(c.parked_at, reason_name(c.reason)) for c in (
        ParkedChange.select(ParkedChange.parked_at, ParkedChange.reason)
        .order_by(ParkedChange.parked_at.desc(), ParkedChange.id.desc()).limit(REPORTED_REASONS))]
    names = dict.fromkeys(name for _, name in sorted(newest, key=lambda pair: pair[0], reverse=True))
    return ParkedReport(refused.count(), ParkedChange.select().count(), tuple(names)[:REPORTED_REASONS])
