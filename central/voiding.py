"""Quarantine: the events a revoked device sent from a moment on, made void
(`kiosk central revoke-device UID --void-since TIME`), kept for audit, left out of everything.

"From a moment on" is by `event.received_at`, central's own clock: what central received from the
device at or after TIME. Not the event's `created_at`, which is the device's word: a stolen
device can backdate what it says, never when central got it. The price: an event the device
recorded before TIME but pushed after it (offline meanwhile) is voided too; `kiosk central
devices` shows when it last pushed.

- Nothing is deleted: each voided event keeps its row, with `void_id` naming its `voiding`
  (who, since when, why, how many, when it was done). `kiosk central voidings` lists them.
- Everything central derives leaves void events out (`LIVE`): a ticket's status and history
  (central/tickets.py), the work list, the due list, satisfaction, follow-ups, the office's
  pages (their read models are made again for what it touched, central/readmodels/); and the
  change feed no longer relays them (central/feed.py), so a device that pulls later never sees them.
- A voided registration frees nothing: its ticket uid and number stay the revoked device's (its
  `ticket` row is kept; the number's prefix is that device's anyway), and the office lists it
  under 已作废. Steps other desks recorded on such a ticket stay in force: the instruments are
  at the counter.
- Organisation names a voided registration brought stay published (names only, nothing personal).
- The correction goes out at once, in the voiding's transaction: `event.voided`
  (kiosk/domain/voiding.py) to the clerk desks of every site concerned (the device's and its
  events' tickets'), and to each kiosk that owns a ticket a voided step concerns (that kiosk was
  sent the step), with those steps only. Devices undo what the events did (kiosk/sync/feed.py).
- Running it again voids only what is not void yet (say, a push that was in flight while the
  device was revoked): a new voiding, a new correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kiosk.domain.clock import start_of, utc_now, zone
from kiosk.domain.validation import MAX_TEXT, clean_text
from kiosk.domain.voiding import PER_CHANGE

from . import certificate_checks, feed, readmodels
from .storage import Storage, Tx, as_datetime, ts
from .words import STATUSES

LIVE = "void_id IS NULL"  # an event in force; `e.void_id IS NULL` where the table is aliased
CHUNK = 500  # event ids per statement
KIND = "event.voided"
STEP_KINDS = {f"ticket.{status}" for status in STATUSES[1:]}  # sent to the ticket's kiosk too


class VoidError(Exception):
    """`code`: no_device | not_revoked."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class VoidedEvent:
    uid: str
    kind: str
    ticket: str | None
    number: str | None
    created_at: datetime  # as the device said
    received_at: datetime  # as central got it
    ref: str | None  # what devices keep it by (kiosk/domain/voiding.py)
    at: str | None  # the moment its payload states


@dataclass(frozen=True)
class Voiding:
    id: int
    device_uid: str
    device_name: str
    since: datetime
    reason: str
    created_at: datetime
    events: list[VoidedEvent]

    def as_dict(self) -> dict:
        return {"id": self.id, "device_uid": self.device_uid, "device_name": self.device_name,
                "since": ts(self.since), "reason": self.reason, "created_at": ts(self.created_at),
                "events": [{"uid": e.uid, "kind": e.kind, "ticket": e.ticket, "number": e.number,
                            "created_at": ts(e.created_at), "received_at": ts(e.received_at)} for e in self.events]}


def parse_since(text: str) -> datetime:
    """`2026-11-24T09:30`, `2026-11-24 09:30+08:00` or `2026-11-24` (its start): a time without
    an offset is on the institute's clock. ValueError if it is none of these."""
    text = text.strip()
    try:
        if len(text) == 10:
            return start_of(date.fromisoformat(text))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time like 2026-11-24T09:30 or 2026-11-24: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone())


def _event_rows(tx: Tx, storage: Storage, where: str, params) -> list[VoidedEvent]:
    f = storage.json_field
    rows = tx.all(
        f"SELECT uid, kind, ticket, COALESCE({f('payload', 'ticket', 'number')}, {f('payload', 'number')}), "
        f"created_at, received_at, {f('payload', 'event')}, {f('payload', 'feedback')}, "
        f"COALESCE({f('payload', 'followup')}, {f('payload', 'check')}), "  # a certificate check's uid too
        f"COALESCE({f('payload', 'call')}, {f('payload', 'appeal')}), "  # a call-back's, an appeal's uid
        f"COALESCE({f('payload', 'at')}, {f('payload', 'ticket', 'created_at')}) "
        f"FROM event WHERE {where} ORDER BY id", params)
    found = []
    for uid, kind, ticket, number, created, received, step, feedback, followup, work_order, at in rows:
        ref = {"ticket.registered": ticket, "feedback.given": feedback, "followup.closed": followup,
               "certificate.checked": followup,  # followup: the check's uid for a check
               "followup.called": work_order, "rating.appealed": work_order, "appeal.decided": work_order,
               }.get(kind, step)
        found.append(VoidedEvent(uid, kind, ticket, number, as_datetime(created), as_datetime(received), ref, at))
    return found


def void(storage: Storage, device_uid: str, since: datetime, reason: str = "") -> Voiding | None:
    """Void what central received from the (revoked) device from `since` on and publish the
    correction, one transaction; None if nothing there is still in force. VoidError; FieldError
    (the reason: cleaned like any free text, at most MAX_TEXT characters)."""
    reason, now = clean_text(reason, max_length=MAX_TEXT), utc_now()
    with storage.transaction() as tx:
        # The device's row first (locked on PostgreSQL): two voidings of one device take turns.
        row = tx.one("SELECT id, name, site, revoked_at FROM device WHERE uid = ?"
                     + (" FOR UPDATE" if storage.postgres else ""), (device_uid,))
        if row is None:
            raise VoidError("no_device")
        device_id, name, site, revoked_at = row
        if revoked_at is None:
            raise VoidError("not_revoked")  # it could go on pushing: what it sends later would count
        voided = _event_rows(tx, storage, f"device_id = ? AND received_at >= ? AND {LIVE}",
                             (device_id, storage.timestamp(since)))
        if not voided:
            return None
        void_id = tx.one("INSERT INTO voiding (device_id, since, reason, events, created_at) VALUES (?, ?, ?, ?, ?) "
                         "RETURNING id", (device_id, ts(since), reason, len(voided), ts(now)))[0]
        uids = [e.uid for e in voided]
        for start in range(0, len(uids), CHUNK):
            where, params = storage.in_list("uid", uids[start:start + CHUNK])
            tx.execute(f"UPDATE event SET void_id = ? WHERE {where}", (void_id, *params))
        readmodels.void(tx, storage, uids)  # before publishing: the lock order of a push
        certificate_checks.void(tx, storage, void_id)  # the checks' sums (their rows stay, left out when read)
        done = Voiding(void_id, device_uid, name, since, reason, now, voided)
        _publish(tx, storage, done, device_id, site)
    return done


def _publish(tx: Tx, storage: Storage, done: Voiding, device_id: int, site: str) -> None:
    tickets = sorted({e.ticket for e in done.events if e.ticket})
    sites, owners = {site}, {}
    for start in range(0, len(tickets), CHUNK):
        chunk = tickets[start:start + CHUNK]
        where, params = storage.in_list("uid", chunk)
        for uid, ticket_site, owner in tx.all(f"SELECT uid, site, device_id FROM ticket WHERE {where}", params):
            sites.add(ticket_site)
            owners[uid] = owner
        # A ticket the ownership table does not hold (registered before it was kept): its first registration's.
        missing = [ticket for ticket in chunk if ticket not in owners]
        if missing:
            where, params = storage.in_list("ticket", missing)
            for uid, owner in tx.all(f"SELECT ticket, device_id FROM event WHERE kind = 'ticket.registered' "
                                     f"AND {where} ORDER BY id", params):
                owners.setdefault(uid, owner)
    for changes in _changes(done, done.events):
        for each in sorted(sites):
            feed.publish(tx, KIND, data=changes, site=each)
    by_owner: dict[int, list[VoidedEvent]] = {}
    for e in done.events:
        owner = owners.get(e.ticket)
        if e.kind in STEP_KINDS and owner not in (None, device_id):
            by_owner.setdefault(owner, []).append(e)
    for owner, steps in sorted(by_owner.items()):
        for changes in _changes(done, steps):
            feed.publish(tx, KIND, data=changes, target=owner)


def _changes(done: Voiding, voided: list[VoidedEvent]) -> list[dict]:
    """The correction's data (kiosk/domain/voiding.py EventVoided), PER_CHANGE events a change."""
    return [{"voiding": done.id, "device_uid": done.device_uid, "since": ts(done.since), "reason": done.reason,
             "events": [{"uid": e.uid, "kind": e.kind, "ticket": e.ticket, "ref": e.ref, "at": e.at}
                        for e in voided[start:start + PER_CHANGE]]}
            for start in range(0, len(voided), PER_CHANGE)]


def voidings(storage: Storage) -> list[Voiding]:
    """Every voiding, the latest first, with its events."""
    with storage.read() as tx:
        rows = tx.all("SELECT v.id, d.uid, d.name, v.since, v.reason, v.created_at FROM voiding v "
                      "JOIN device d ON d.id = v.device_id ORDER BY v.id DESC")
        return [Voiding(void_id, uid, name, as_datetime(since), reason, as_datetime(created),
                        _event_rows(tx, storage, "void_id = ?", (void_id,)))
                for void_id, uid, name, since, reason, created in rows]
