"""One sync pass: push the outbox until it is empty, then pull the change feed until it is.

The network steps (kiosk/sync/client.py) and the database steps (outbox.py, feed.py) are
separate callables, so the app runs the network on a worker thread and the database on its one
writer thread, and a registration never waits behind a slow network. `kiosk sync` runs a pass
directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, fields

from kiosk.sync.client import Central, PushAnswer, SyncError
from kiosk.sync.feed import Applied, apply_changes, cursor
from kiosk.sync.outbox import BATCH, Backlog, backlog, pending_batch, record_push


@dataclass
class SyncReport:
    pushed: int = 0
    parked: int = 0
    pulled: int = 0
    applied: Applied = field(default_factory=Applied)
    backlog: Backlog | None = None


async def sync_pass(central: Central, db_call, own_uid: str, net_call=None, max_batches: int = 1000,
                    batch: int = BATCH) -> SyncReport:
    """Push until the outbox is empty, then pull until the feed is. `db_call(fn, *args)` runs
    a database step on the writer thread and `net_call(fn, *args)` a network one elsewhere
    (both awaitables); `batch`: events per push. SyncError on the first failure: what was done
    stays done."""
    net_call = net_call or asyncio.to_thread
    report = SyncReport()
    for _ in range(max_batches):
        events = await db_call(pending_batch, batch)
        if not events:
            break
        try:
            answer = await net_call(central.push, events)
        except SyncError as e:
            if e.kind != "too_large":
                raise
            # Halve until it passes; one event too large alone is parked, never blocks the queue.
            batch = max(1, len(events) // 2)
            if len(events) > 1:
                continue
            answer = PushAnswer([], {events[0]["uid"]: "too_large: the event alone is over central's size limit"})
        await db_call(record_push, answer)
        report.pushed += len(answer.acked)
        report.parked += len(answer.rejected)
    for _ in range(max_batches):
        changes, next_cursor, more = await net_call(central.changes, await db_call(cursor))
        applied = await db_call(apply_changes, changes, next_cursor, own_uid)
        report.pulled += len(changes)
        for counted in (f.name for f in fields(Applied)):  # counts add up, catalogue lists join
            setattr(report.applied, counted, getattr(report.applied, counted) + getattr(applied, counted))
        if not more or not changes:
            break
    report.backlog = await db_call(backlog)
    return report
