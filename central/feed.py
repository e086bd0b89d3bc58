"""The change feed devices pull: `GET /api/v1/changes?after=CURSOR`, a cursor that never skips.

The trap: on PostgreSQL a sequence hands out numbers when rows are inserted, not when their
transactions commit. A transaction that takes seq 5 and commits after another one took seq 6
and committed lets a reader see 6, move its cursor to 6, and never see 5.

The method here: a **counter row updated in each writing transaction**, as the last thing
before COMMIT (`feed_clock`, one row). `UPDATE feed_clock SET seq = seq + n RETURNING seq`
takes the row's lock; the next writer waits on that lock until this transaction has
committed (PostgreSQL makes a transaction visible before it releases its locks), then reads
the new value. So rows get their seq in commit order, without gaps (a rollback rolls the
counter back too), and any reader that sees row N also sees every row below N: a cursor
over the seq is safe. SQLite has one writer at a time, so the same code gives the same
guarantee there.

Why not the other commit-safe horizon (`xid8` + `pg_snapshot_xmin`): it does not serialise
writers, but it holds every row back until *every* older transaction in the whole cluster
has ended, so one idle-in-transaction session (an operator's psql, a stuck job) stops the
feed for every kiosk, and a push is not visible the moment it commits. The counter
serialises only the tail of feed-writing transactions (the counter update, the feed rows and
the commit itself): a few hundred short commits a second, far above what hundreds of kiosks
send; `bench/sync_drain.py` measures the push path. tests/central/test_feed_horizon.py proves
the no-skip property with a slow and a fast transaction on a real PostgreSQL.

Storage: one feed row per published thing, and ONE row per pushed batch, listing the ids
of the batch's new events (a push of 500 events writes one feed row, not 500). A change's
public `seq` is `row seq × 1000 + its position in the row` (a batch holds at most 500):
increasing, never reused, not dense; devices only store the `next` cursor they are given.
A row points at its events / catalogue version instead of copying them.

Scoping (schema 4): a row has a `site`, NULL = every site. The rows of a push carry the pushing
device's site, a back-office close the site of the rating it closes; central's own rows
(device keys, revocations, catalogue versions, organisation names) have none. A clerk desk
reads the rows of no site and of its own site (two index range scans of `feed_site`, merged);
a kiosk reads audience-0 rows only, which hold no customer's details: central's own, and the
steps of its own tickets (`target`). Rows written before schema 4 have no site: every desk of
every site reads them.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from typing import cast

from kiosk.domain.clock import utc_now

from .storage import Storage, Tx, ts
from .words import STATUSES

# Who gets what: 0 = every device, 1 = clerk desks only. A row with a `target` goes to that
# device alone (publish_to_owners: a kiosk gets the steps of the tickets it registered).
AUDIENCE = {"catalog.version": 0, "device.key": 0, "device.revoked": 0, "ticket.registered": 1, "ticket.event": 1,
            "feedback.given": 1, "followup.closed": 1,
            "followup.called": 1, "rating.appealed": 1, "appeal.decided": 1,  # schema 19: work orders, appeals
            "organisation.known": 0,  # names only (central/organisations.py): lobby kiosks get it
            "event.voided": 1,  # central/voiding.py: to desks, and as a `target` to a kiosk owning a ticket
            "certificate.checked": 1, "certificate.taken_as_is": 1,  # central/certificate_checks.py
            "institute.info": 0}  # the institute's file, whole (central/institute.py): every device
MAX_LIMIT = 1000
SLOTS = 1000  # public seq = row seq * SLOTS + position in the row
EVENTS = "events"  # the kind of a row listing a pushed batch's events
SITE = "COALESCE(f.site, '')"  # as indexed (feed_site): '' = no site, every site's desks get the row


@dataclass(frozen=True)
class Page:
    entries: list[tuple[int, str, str]]  # (seq, kind, data as JSON text)
    next: int
    more: bool

    @property
    def changes(self) -> list[dict]:
        return [{"seq": seq, "kind": kind, "data": json.loads(data)} for seq, kind, data in self.entries]

    def json(self) -> str:
        """The response body. A payload goes out as the text stored, not decoded and encoded
        again: a page of 1,000 registrations is ~1.5 MB."""
        changes = ",".join(f'{{"seq":{seq},"kind":"{kind}","data":{data}}}' for seq, kind, data in self.entries)
        return f'{{"changes":[{changes}],"next":{self.next},"more":{"true" if self.more else "false"}}}'


def _pending(tx: Tx) -> list:
    pending = tx.state.get("feed")
    if pending is None:
        pending = tx.state["feed"] = []
        tx.before_commit(lambda: _write(tx, pending))
    return pending


def publish(tx: Tx, kind: str, *, catalog_id: int | None = None, data: dict | None = None,
            origin: int | None = None, site: str | None = None, target: int | None = None) -> None:
    """Queue one change; it is written with its seq just before the transaction commits.
    `origin`: the device whose push brought it (it is not sent to that device); `site`: the
    only site whose desks get it (None: every site); `target`: the one device that gets it,
    whatever its role (a kiosk told of its own tickets: central/voiding.py)."""
    _pending(tx).append((kind, 0 if target is not None else AUDIENCE[kind], origin, None, catalog_id,
                         None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True), target,
                         site))


def publish_events(tx: Tx, origin: int | None, events: list[tuple[int, str]],
                   feed_kinds: dict[str, str | None] | None = None, *, site: str | None = None) -> None:
    """Queue a pushed batch's new events, `(event id, event kind)` in the order sent: one row
    per audience, in the pushing device's name (it is not sent its own events back). `origin`
    None: an event central wrote itself (the back office's), which every device of the
    audience gets. `feed_kinds`: event kind -> feed kind, if not central/events.py's. `site`:
    the site whose desks get them (the pusher's; None: every site)."""
    if feed_kinds is None:
        from .events import FEED_KINDS  # the server's: the CLI publishes without the extras

        feed_kinds = FEED_KINDS

    by_audience: dict[int, list[int]] = {}
    for event_id, kind in events:
        published = feed_kinds.get(kind)
        if published is not None:
            by_audience.setdefault(AUDIENCE[published], []).append(event_id)
    for audience, ids in sorted(by_audience.items()):
        for start in range(0, len(ids), SLOTS):
            _pending(tx).append((EVENTS, audience, origin, json.dumps(ids[start:start + SLOTS]), None, None, None,
                                 site))


def publish_to_owners(tx: Tx, origin: int, steps: list[tuple[int, str]], *, site: str | None = None) -> None:
    """Steps (`(event id, ticket uid)`) also to the kiosk that registered each ticket, and to
    no other kiosk (a row with a `target`): the customer rates the service at that kiosk
    after pickup, so it must know the ticket was picked up; the other kiosks need nothing of it."""
    if not steps:
        return
    where, params = tx.storage.in_list("ticket", sorted({ticket for _, ticket in steps}))
    owners = dict(tx.all(f"SELECT ticket, device_id FROM event WHERE kind = 'ticket.registered' AND {where}",
                         params))
    by_owner: dict[int, list[int]] = {}
    for event_id, ticket in steps:
        owner = owners.get(ticket)
        if owner is not None and owner != origin:
            by_owner.setdefault(owner, []).append(event_id)
    for owner, ids in sorted(by_owner.items()):
        for start in range(0, len(ids), SLOTS):
            _pending(tx).append((EVENTS, 0, origin, json.dumps(ids[start:start + SLOTS]), None, None, owner, site))


def publish_steps_so_far(tx: Tx, kiosk: int, tickets: list[str], *, site: str | None = None) -> None:
    """Steps a desk pushed before the kiosk's registration of the ticket reached central (the
    desk took it in from its QR code while the kiosk was offline), to that kiosk now."""
    if not tickets:
        return
    where, params = tx.storage.in_list("ticket", sorted(set(tickets)))
    ids = [row[0] for row in tx.all(f"SELECT id FROM event WHERE {where} AND status > 0 ORDER BY id", params)]
    for start in range(0, len(ids), SLOTS):
        # No origin: the kiosk's own push made this row, and it must not be left out as its own.
        _pending(tx).append((EVENTS, 0, None, json.dumps(ids[start:start + SLOTS]), None, None, kiosk, site))


def _write(tx: Tx, pending: list[tuple]) -> None:
    # The counter's row lock is held from here to COMMIT: this must be the transaction's last work.
    top = tx.one("UPDATE feed_clock SET seq = seq + ? WHERE id = 1 RETURNING seq", (len(pending),))[0]
    first, now = top - len(pending) + 1, ts(utc_now())
    tx.storage.bulk_insert(
        tx, "feed", ("seq", "kind", "audience", "origin", "event_ids", "catalog_id", "data", "target", "site",
                     "created_at"),
        [(first + i, *change, now) for i, change in enumerate(pending)])


def scopes(role: str, site: str | None) -> list[tuple[str, tuple]]:
    """The rows a device of `role` (a clerk: of `site`) reads, as (WHERE term, its parameters),
    each one index range scan in seq order: a kiosk's audience-0 rows (feed_audience), a desk's
    rows of no site and of its site (feed_site; an OR of the two would not be a range scan). A
    clerk with `site` None: every site's rows (central's tools)."""
    if role != "clerk":
        return [("f.audience = 0", ())]
    if site is None:
        return [("f.seq >= 0", ())]
    return [(f"{SITE} = ?", ("",)), (f"{SITE} = ?", (site,))]


def scoped_select(storage: Storage, where: str) -> str:
    """One scope's rows from a feed row on (>=), up to the clock, not the reader's own pushes,
    not targeted at another device, in seq order, at most n; parameters: the scope's, then
    (row seq, clock, reader's id, reader's id, n)."""
    return (f"SELECT f.seq, f.kind, f.event_ids, {storage.json_text('f.data')}, c.id, c.sha256, c.source, c.csv "
            "FROM feed f LEFT JOIN catalog_version c ON c.id = f.catalog_id "
            f"WHERE {where} AND f.seq >= ? AND f.seq <= ? AND (f.origin IS NULL OR f.origin <> ?) "
            "AND (f.target IS NULL OR f.target = ?) ORDER BY f.seq LIMIT ?")


def read(storage: Storage, after: int, limit: int, role: str, device_id: int | None, *,
         site: str | None = None) -> Page:
    """Changes after the cursor that a device of `role` (a clerk: of `site`) gets, its own
    pushes left out."""
    limit = max(1, min(limit, MAX_LIMIT))
    me = -1 if device_id is None else device_id
    with storage.read() as tx:
        # Read the clock first: every row up to it had committed before the next statement, so
        # the statements below see them all, and a cursor may jump to it over rows this device
        # does not get. Rows above it are left to the next pull: the scopes' statements are
        # separate snapshots, and must not see a row committed between them.
        clock = tx.one("SELECT seq FROM feed_clock WHERE id = 1")[0]
        # limit + 2 rows: the first may be a batch already read to its end; every other row
        # holds at least one change, so this is enough to fill the page and to know if there is more.
        rows = heapq.merge(*(tx.all(scoped_select(storage, where), (*params, after // SLOTS, clock, me, me, limit + 2))
                             for where, params in scopes(role, site)))
        wanted: list[tuple[int, tuple, int | None]] = []  # (public seq, row, event id)
        for row in rows:
            ids = json.loads(row[2]) if row[1] == EVENTS else [None]
            for position, event_id in enumerate(ids):
                seq = row[0] * SLOTS + position
                if seq > after:
                    wanted.append((seq, row, event_id))
            if len(wanted) > limit:
                break
        more = len(wanted) > limit
        wanted = wanted[:limit]
        events = _events(tx, storage, [event_id for _, _, event_id in wanted if event_id is not None])
    entries = [_entry(seq, row, None if event_id is None else events[event_id]) for seq, row, event_id in wanted
               if event_id is None or event_id in events]  # a voided event is no longer relayed
    last = wanted[-1][0] if wanted else after
    return Page(entries, last if more else max(after, last, clock * SLOTS + SLOTS - 1), more)


def _events(tx: Tx, storage: Storage, ids: list[int]) -> dict[int, tuple]:
    if not ids:
        return {}
    where, params = storage.in_list("id", ids)
    rows = tx.all(f"SELECT id, kind, status, {storage.json_text('payload')} FROM event WHERE {where} "
                  "AND void_id IS NULL", params)  # voided ones left out (central/voiding.py)
    return {row[0]: row[1:] for row in rows}


def _entry(seq: int, row: tuple, event: tuple | None) -> tuple[int, str, str]:
    from .events import FEED_KINDS

    _row_seq, kind, _ids, data, catalog_id, sha256, source, csv = row
    if kind == EVENTS:
        assert event is not None  # an event's row: read() passes its event (a voided one's row is left out)
        event_kind, status, payload = event
        # Not None: only the kinds the feed publishes are queued (publish_events). A cast, not an assert:
        # a row queued by an earlier central is relayed as it was.
        published = cast(str, FEED_KINDS[event_kind])
        if published == "ticket.event":
            # The step's payload with its kind added last (events.Step reserves the name).
            payload = f'{payload.rstrip()[:-1]},"kind":"{STATUSES[status]}"}}'
        return seq, published, payload
    if kind == "catalog.version":
        return seq, kind, json.dumps({"version": catalog_id, "sha256": sha256, "source": source, "csv": csv},
                                     ensure_ascii=False)
    return seq, kind, data
