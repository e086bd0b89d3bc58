"""Who may say what: the rules a pushed event must pass beyond its shape (central/events.py),
one function per rule, each refusing with its stable word (central/README-API.md, "Who may say
what, and who may read what").

Without the database, for each event (ingest.validate):
- `role`: the roles that may push its kind (events.py `pushers`)                  wrong_role
- `own_event`: `payload.ticket.device` / `payload.device` is the pusher             not_your_event
- `prefix`: a registration's number starts with the pusher's prefix                 wrong_prefix
- `clock`: no time before 2020; a `created_at` over 10 minutes ahead is stored as
  the moment central received it (the payload stays as sent)                        bad_clock

In the push transaction, once the batch's events are inserted (ingest.apply), each over the
whole batch in one or two statements:
- `uid_taken`: an event uid another device pushed (a device's own repeat is acked)  uid_taken
- `claim_tickets`: a ticket uid and its number belong to the registration that
  arrived first; the `ticket` table's keys decide, so two pushes racing for one
  number on PostgreSQL get one winner (the other waits on the key, then is told)   ticket_taken, number_taken
- `same_site`: a step or rating on a ticket of the pusher's site (a ticket not yet
  known: its number's prefix an enrolled kiosk's of that site)                      other_site, unknown_ticket
- `known_followups`: a close names a follow-up a rating opened (with that rating),
  of the desk's site                                                                no_followup, other_site

`claim_stored`: the upgrade to schema 4 fills `ticket` from the registrations stored before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .auth import Device
from .events import KINDS, CheckedEvent, Invalid
from .storage import Storage, Tx

log = logging.getLogger("central")

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)  # no device of this system wrote anything before
AHEAD = timedelta(minutes=10)  # a device clock this far ahead of central's is wrong, not early
REGISTERED = "ticket.registered"
TICKET_COLUMNS = ("uid", "number", "device_id", "site", "event_id", "registered_at")
TICKET_TYPES = ("text", "text", "bigint", "text", "bigint", "timestamptz")  # PostgreSQL's, for one statement

Refusals = Iterator[tuple[str, Invalid]]  # (event uid, why)


# ---- each event alone ------------------------------------------------------------------------


def may_say(device: Device, event: CheckedEvent, received: datetime) -> CheckedEvent:
    """The rules that need no database, in order; the event as it is stored (its time clamped)."""
    role(device, event)
    own_event(device, event)
    prefix(device, event)
    return clock(event, received)


def role(device: Device, event: CheckedEvent) -> None:
    pushers = KINDS[event.kind].pushers
    if device.role not in pushers:
        raise Invalid("wrong_role", f"kind: a {device.role} may not push {event.kind} "
                                    f"({' or '.join(pushers)} only)")


def own_event(device: Device, event: CheckedEvent) -> None:
    if event.facts.owner != device.uid:
        raise Invalid("not_your_event", "the event belongs to another device")


def prefix(device: Device, event: CheckedEvent) -> None:
    """Numbers are minted offline as the device's prefix + its own sequence: another prefix is
    another device's number (or a made-up one)."""
    number = event.facts.number
    if event.kind == REGISTERED and number is not None and number.split("-", 1)[0] != device.prefix:
        raise Invalid("wrong_prefix", f"payload.ticket.number: {number} is not this device's "
                                      f"(its numbers start with {device.prefix}-)")


def clock(event: CheckedEvent, received: datetime) -> CheckedEvent:
    """Refuse a time before 2020 (a clock reset to its maker's date); store a `created_at` far
    ahead as `received`, so that it cannot stand first in any "since" or "latest" for ever."""
    said = ("payload.ticket.created_at" if event.kind == REGISTERED else "payload.at", event.facts.said_at)
    for where, moment in (("created_at", event.created_at), said):
        if moment is not None and moment < EARLIEST:
            raise Invalid("bad_clock", f"{where}: {moment.isoformat()} is before {EARLIEST.date()}: "
                                       "the device's clock is wrong")
    if event.created_at > received + AHEAD:
        return replace(event, created_at=received)
    return event


# ---- the batch, in the push transaction --------------------------------------------------------


def uid_taken(tx: Tx, device: Device, repeats: list[str]) -> Refusals:
    """`repeats`: the batch's uids that were stored before (not inserted now)."""
    if not repeats:
        return
    where, params = tx.storage.in_list("uid", repeats)
    for (uid,) in tx.all(f"SELECT uid FROM event WHERE {where} AND device_id <> ?", (*params, device.id)):
        yield uid, Invalid("uid_taken", "uid: another device pushed an event with this uid; make a new one")


def _number(registration: CheckedEvent) -> str:
    """A registration's ticket number: its shape requires one (kiosk/domain/events.py Ticket), so
    a registration without one is a mistake of central's own reading (events.py), never a device's."""
    number = registration.facts.number
    if number is None:
        raise ValueError(f"registration {registration.uid} was read without its ticket number")
    return number


def claim_tickets(tx: Tx, device: Device, registrations: list[tuple[int, CheckedEvent]]) -> Refusals:
    """Write the owner of each new registration's ticket uid and number (`(event id, event)`);
    refuse those another registration owns. In number order: one device's numbers, which only
    it may push, so two pushes of it wait for each other in the same order."""
    if not registrations:
        return
    stamp = tx.storage.timestamp
    rows = sorted(((e.facts.ticket, _number(e), device.id, device.site, event_id, stamp(e.created_at))
                   for event_id, e in registrations), key=lambda row: row[1])
    claimed = {row[0] for row in tx.storage.bulk_insert(tx, "ticket", TICKET_COLUMNS, rows, "ON CONFLICT DO NOTHING",
                                                        "event_id", TICKET_TYPES)}
    lost = [(event_id, e) for event_id, e in registrations if event_id not in claimed]
    if not lost:
        return
    uids, uid_params = tx.storage.in_list("uid", sorted({e.facts.ticket for _, e in lost}))
    numbers, numberparams = tx.storage.in_list("number", sorted({e.facts.number for _, e in lost}))
    owned = tx.all(f"SELECT uid, number FROM ticket WHERE {uids} OR {numbers}", (*uid_params, *numberparams))
    taken_uids, taken_numbers = {uid for uid, _ in owned}, {number for _, number in owned}
    for _, e in lost:
        if e.facts.ticket in taken_uids:
            yield e.uid, Invalid("ticket_taken", f"payload.ticket.uid: ticket {e.facts.ticket} was registered "
                                                 "before by another event")
        elif e.facts.number in taken_numbers:
            yield e.uid, Invalid("number_taken", f"payload.ticket.number: {e.facts.number} is another ticket's")


def same_site(tx: Tx, device: Device, events: list[CheckedEvent]) -> Refusals:
    """A step or a rating on a ticket: the ticket's site must be the pusher's. A ticket central
    does not know yet (a desk took it in from its code while the kiosk was offline; its
    registration may come later) is judged by its number: the prefix must be an enrolled
    kiosk's, of the pusher's site, so no device can make up tickets for central's history."""
    concerned = [e for e in events if e.facts.concerns]
    if not concerned:
        return
    where, params = tx.storage.in_list("uid", sorted({e.facts.concerns or "" for e in concerned}))
    sites = dict(tx.all(f"SELECT uid, site FROM ticket WHERE {where}", params))
    unknown = {(e.facts.number or "").split("-", 1)[0] for e in concerned if e.facts.concerns not in sites}
    kiosks: dict[str, str] = {}
    if unknown:
        where, params = tx.storage.in_list("prefix", sorted(unknown))
        kiosks = dict(tx.all(f"SELECT prefix, site FROM device WHERE role = 'kiosk' AND {where}", params))
    for e in concerned:
        site = sites.get(e.facts.concerns or "")
        if site is None:
            site = kiosks.get((e.facts.number or "").split("-", 1)[0])
            if site is None:
                yield e.uid, Invalid("unknown_ticket", f"payload.ticket: central has no ticket {e.facts.concerns}, "
                                                       "and its number is no enrolled kiosk's")
                continue
        if site != device.site:
            yield e.uid, Invalid("other_site", f"payload.ticket: the ticket is of site {site}; "
                                               f"this device serves {device.site}")


def known_followups(tx: Tx, device: Device, events: list[CheckedEvent]) -> Refusals:
    """A follow-up close names a follow-up that a rating central holds opened, with that
    rating's uid, and the rating was given at the desk's site. The first rating to arrive
    naming a follow-up is the one that opened it (central/followups.py)."""
    closes = [e for e in events if e.facts.closes]
    if not closes:
        return
    storage = tx.storage
    where, params = storage.in_list("f.uid", sorted({e.facts.closes[0] for e in closes if e.facts.closes}))
    # The read model holds each follow-up's opening rating, the first to arrive in force
    # (central/readmodels/followup.py; a voided rating opened nothing, central/voiding.py).
    opened: dict[str, tuple[str, str]] = {
        uid: (feedback, site) for uid, feedback, site in tx.all(
            "SELECT f.uid, f.feedback, d.site FROM followup f JOIN event e ON e.id = f.opened_event "
            f"LEFT JOIN device d ON d.id = e.device_id WHERE {where}", params)}
    # A desk's own rating (its counter's pad, issue 21) may open a follow-up in the very batch that
    # calls back or closes it: the read model is folded after these checks.
    for e in events:
        if e.kind == "feedback.given":
            given = json.loads(e.payload_json)
            if isinstance(given.get("followup"), dict):
                opened.setdefault(given["followup"].get("uid"), (given.get("feedback"), device.site))
    for e in closes:
        uid, feedback = e.facts.closes or ("", "")
        found = opened.get(uid)
        if found is None or found[0] != feedback:
            yield e.uid, Invalid("no_followup", f"payload.followup: central has no follow-up {uid} opened by "
                                                f"rating {feedback}")
        elif found[1] is not None and found[1] != device.site:  # None: a device central no longer has
            yield e.uid, Invalid("other_site", f"payload.followup: the rating was given at site {found[1]}; "
                                               f"this device serves {device.site}")


def claim_stored(tx: Tx, storage: Storage) -> None:
    """On the upgrade to schema 4: the owners of the tickets registered before, as if each
    registration had been pushed now, in the order they arrived. A later registration of a
    ticket uid or number held already (a restored kiosk's reissued number) is left out of
    `ticket`, logged, and listed in central_meta `duplicate_registrations` (JSON: event uid,
    ticket uid, number, and the event that kept them) for an operator to look at; its event stays."""
    number_field = storage.json_field("e.payload", "ticket", "number")
    rows = tx.all(f"SELECT e.id, e.uid, e.ticket, {number_field}, e.device_id, COALESCE(d.site, 'main'), e.created_at "
                  f"FROM event e LEFT JOIN device d ON d.id = e.device_id WHERE e.kind = '{REGISTERED}' "
                  "ORDER BY e.id")
    by_uid: dict[str, str] = {}
    by_number: dict[str, str] = {}
    owners, left_out = [], []
    for event_id, event_uid, ticket, number, device_id, site, created in rows:
        if not ticket or not number:
            continue  # stored before central checked a registration's shape (schema 1): no ticket to own
        kept = by_uid.get(ticket) or by_number.get(number)
        if kept:
            left_out.append({"event": event_uid, "ticket": ticket, "number": number, "kept": kept})
            continue
        by_uid[ticket] = by_number[number] = event_uid
        owners.append((ticket, number, device_id, site, event_id, created))
    for start in range(0, len(owners), 10_000):
        storage.bulk_insert(tx, "ticket", TICKET_COLUMNS, owners[start:start + 10_000], pg_types=TICKET_TYPES)
    if left_out:
        tx.execute("INSERT INTO central_meta (key, value) VALUES ('duplicate_registrations', ?)",
                   (json.dumps(left_out),))
        log.warning("schema 4: %d registrations of a ticket uid or number registered before are not its "
                    "owner (central_meta duplicate_registrations): %s", len(left_out),
                    ", ".join(f"{d['number']} (event {d['event']})" for d in left_out[:20]))
