"""A ticket's status history, and its current status derived from it.

The history is the append-only list of status facts: the ticket kinds of `event`. Every fact
from every device is kept, in whatever order it arrived (a transition that came before its
ticket.registered included), and two desks that recorded the same step offline both appear.
Facts voided with the device that stated them (central/voiding.py) stay in the table and are
left out of everything here.

The current status is not stored anywhere: it is `derive(history)`, a pure function of the
set of facts, so it cannot drift from them and does not depend on arrival order. The
furthest status wins (a ticket only moves forward); `since` is the earliest record of that
status; the number is the registration's. Counting tickets by status aggregates the history
over the event table's (ticket, status) index (see central/README-API.md for what that costs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from .storage import Storage, as_datetime
from .words import STATUSES


@dataclass(frozen=True, order=True)
class Fact:
    status: str
    at: datetime  # when the device recorded it (the event's created_at)
    device: str  # the uid of the device that recorded it
    event: str  # the pushed event's uid
    number: str


@dataclass(frozen=True)
class Current:
    status: str
    since: datetime  # the earliest record of that status
    number: str  # as registered (else as the earliest fact says)


def derive(facts: list[Fact]) -> Current | None:
    """Order-independent: the same set of facts gives the same answer in any order."""
    if not facts:
        return None
    top = max(STATUSES.index(f.status) for f in facts)
    since = min(f.at for f in facts if STATUSES.index(f.status) == top)
    registered = [f for f in facts if f.status == "registered"]
    return Current(STATUSES[top], since, min(registered or facts, key=lambda f: (f.at, f.event)).number)


def _facts(tx, storage: Storage, ticket_uids: list[str]) -> dict[str, tuple[list[Fact], dict | None, int | None]]:
    """Facts per ticket, oldest first, the registration's payload (None if not arrived) and the
    total its intake charged (the first intake record's; None before intake)."""
    found: dict[str, tuple[list[Fact], dict | None, int | None]] = {uid: ([], None, None) for uid in ticket_uids}
    if not ticket_uids:
        return found
    marks = ", ".join("?" * len(ticket_uids))
    rows = tx.all(f"SELECT e.ticket, e.uid, e.status, e.created_at, d.uid, {storage.json_text('e.payload')} "
                  f"FROM event e LEFT JOIN device d ON d.id = e.device_id WHERE e.ticket IN ({marks}) "
                  "AND e.void_id IS NULL ORDER BY e.created_at, e.uid", ticket_uids)
    for ticket, uid, status, created, device, payload in rows:
        data = json.loads(payload)
        number = data["ticket"]["number"] if status == 0 else data["number"]
        facts, registered, taken_in = found[ticket]
        facts.append(Fact(STATUSES[status], as_datetime(created), device, uid, number))
        if status == 0 and registered is None:
            found[ticket] = (facts, data, taken_in)
        elif status == 1 and taken_in is None:
            found[ticket] = (facts, registered, data.get("total_fen"))
    return found


def history(storage: Storage, ticket_uid: str) -> list[Fact]:
    """Every status fact of a ticket, oldest record first."""
    with storage.read() as tx:
        return _facts(tx, storage, [ticket_uid])[ticket_uid][0]


def current(storage: Storage, ticket_uid: str) -> Current | None:
    return derive(history(storage, ticket_uid))


# The current status of every ticket, as SQL: the furthest fact in force per ticket (voided
# ones left out: central/voiding.py).
_CURRENT = ("SELECT ticket, MAX(status) AS status FROM event WHERE ticket IS NOT NULL AND void_id IS NULL "
            "GROUP BY ticket")


def counts(storage: Storage) -> dict[str, int]:
    """How many tickets are in each status now."""
    found = dict.fromkeys(STATUSES, 0)
    with storage.read() as tx:
        for status, count in tx.all(f"SELECT cur.status, COUNT(*) FROM ({_CURRENT}) cur GROUP BY cur.status"):
            found[STATUSES[status]] = count
    return found


@dataclass(frozen=True)
class TicketView:
    uid: str
    current: Current
    registration: dict | None  # the ticket.registered payload, once it has arrived
    taken_in_fen: int | None = None  # what its intake charged: the receipt's total unless a clerk changed a line


def latest(storage: Storage, status: str, limit: int) -> list[TicketView]:
    """The tickets now in `status`, the most recently arrived there first."""
    with storage.read() as tx:
        rows = tx.all(
            f"SELECT e.ticket, MIN(e.created_at) AS since FROM event e JOIN ({_CURRENT}) cur "
            "ON cur.ticket = e.ticket AND cur.status = e.status WHERE cur.status = ? AND e.void_id IS NULL "
            "GROUP BY e.ticket ORDER BY since DESC, e.ticket LIMIT ?", (STATUSES.index(status), limit))
        facts = _facts(tx, storage, [row[0] for row in rows])
    return [TicketView(uid, derive(facts[uid][0]), facts[uid][1], facts[uid][2]) for uid, _ in rows]
