"""One sync pass: renew the token if it is past half its life, push the outbox until it is
empty, then pull the change feed until it is.

The network steps (kiosk/sync/client.py) and the database steps (outbox.py, feed.py) are
separate callables, so the app runs the network on a worker thread and the database on its one
writer thread, and a registration never waits behind a slow network. `kiosk sync` runs a pass
directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, fields

from kiosk.domain.clock import utc_now
from kiosk.domain.enrolment import renewal_due
from kiosk.sync.client import Central, PushAnswer, SyncError
from kiosk.sync.enrolment import save_token, token_expiry
from kiosk.sync.feed import Applied, apply_changes, cursor
from kiosk.sync.outbox import BATCH, Backlog, backlog, parked_report, pending_batch, record_push


@dataclass
class SyncReport:
    pushed: int = 0
    parked: int = 0
    pulled: int = 0
    applied: Applied = field(default_factory=Applied)
    backlog: Backlog | None = None
    renewed: bool = False  # a new token was stored and used


async def sync_pass(central: Central, db_call, own_uid: str, net_call=None, max_batches: int = 1000,
                    batch: int = BATCH, now=utc_now) -> SyncReport:
    """Renew the token if due, push until the outbox is empty, then pull until the feed is.
    `db_call(fn, *args)` runs a database step on the writer thread and `net_call(fn, *args)` a
    network one elsewhere (both awaitables); `batch`: events per push; `now`: the clock.
    SyncError on the first failure: what was done stays done."""
    net_call = net_call or asyncio.to_thread
    report = SyncReport()
    if renewal_due(await db_call(token_expiry), now()):
        report.renewed = await _renew(central, db_call, net_call)
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
    central.parked = (await db_call(parked_report)).header()  # told with the pull (the back office's alerts)
    for _ in range(max_batches):
        after = await db_call(cursor)
        changes, next_cursor, more = await net_call(central.changes, after)
        applied = await db_call(apply_changes, changes, next_cursor, own_uid)
        report.pulled += len(changes)
        for counted in (f.name for f in fields(Applied)):  # counts add up, catalogue lists join
            setattr(report.applied, counted, getattr(report.applied, counted) + getattr(applied, counted))
        # A page may be empty and still move on (the events it covered were voided at central).
        if not more or next_cursor <= after:
            break
    report.backlog = await db_call(backlog)
    return report


async def _renew(central: Central, db_call, net_call) -> bool:
    """A new token, stored (with its expiry) before it is used. Central keeps the old one good
    until the new one's first use, so a lost answer costs nothing: the next pass asks again."""
    try:
        issued = await net_call(central.renew_token)
    except SyncError as e:
        if e.kind != "refused":  # offline or no longer enrolled: the pass fails as it would anyway
            raise
        return False  # e.g. renewed moments ago (a repeated request): the old token still works
    await db_call(save_token, issued.token, issued.expires_at)
    central.token = issued.token
    return True
