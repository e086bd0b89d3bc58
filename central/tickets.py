"""A ticket's status history, and its current status derived from it.

The history is the append-only list of status facts: the ticket kinds of `event`. Every fact
from every device is kept, in whatever order it arrived (a transition that came before its
ticket.registered included), and two desks that recorded the same step offline both appear.
Facts voided with the device that stated them (central/voiding.py) stay in the table and are
left out of everything here.

The current status is `derive(history)`, a pure function of the set of facts, so it does not
depend on arrival order. The furthest status wins (a ticket only moves forward); `since` is the
earliest record of that status; the number is the registration's. The back office's lists and
counts read the same rule kept as rows by every push (central/readmodels/ticket_state.py).
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


def history(storage: Storage, ticket_uid: str) -> list[Fact]:
    """Every status fact of a ticket in force, oldest record first."""
    with storage.read() as tx:
        rows = tx.all(f"SELECT e.uid, e.status, e.created_at, d.uid, {storage.json_text('e.payload')} "
                      "FROM event e LEFT JOIN device d ON d.id = e.device_id WHERE e.ticket = ? "
                      "AND e.void_id IS NULL ORDER BY e.created_at, e.uid", (ticket_uid,))
    facts = []
    for uid, status, created, device, payload in rows:
        data = json.loads(payload)
        number = data["ticket"]["number"] if status == 0 else data["number"]
        facts.append(Fact(STATUSES[status], as_datetime(created), device, uid, number))
    return facts


def current(storage: Storage, ticket_uid: str) -> Current | None:
    return derive(history(storage, ticket_uid))
