"""ticket_serial (schema 8): the instruments' serial numbers each ticket names, for the office's
search (central/search.py): a clerk holding an instrument finds its tickets.

The rule: every serial number any registration or intake of the ticket names (refused lines too:
the instrument came to the counter). A union is order-independent and idempotent, so a push
inserts its facts' pairs and a build inserts every fact's: the same rows. A voiding or an erasure
takes facts away: the tickets' pairs are made again from their events in force (`recompute`).
"""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.domain.vocabulary import normalise_token

from ..storage import Storage, Tx
from .stored import Stored

STATEMENTS = (
    "CREATE TABLE ticket_serial (serial_key TEXT NOT NULL, ticket TEXT NOT NULL, PRIMARY KEY (serial_key, ticket))",
    # A voiding's or a build's recompute deletes by ticket.
    "CREATE INDEX ticket_serial_ticket ON ticket_serial (ticket)",
)
NAMING = (0, 1)  # status facts whose lines name serial numbers: registration, intake


def serial_key(text: str) -> str:
    """A serial number as matched: full-width folded, upper case, no spaces (ａｂ 12 = AB12)."""
    return "".join(normalise_token(text).upper().split())


def pairs(events: Iterable[Stored]) -> set[tuple[str, str]]:
    found = set()
    for event in events:
        if event.status not in NAMING or event.ticket is None:
            continue
        for line in event.payload.get("lines") or ():
            serial = line.get("serial_number") if isinstance(line, dict) else None
            key = serial_key(serial) if isinstance(serial, str) else ""
            if key:
                found.add((key, event.ticket))
    return found


def fold(tx: Tx, storage: Storage, events: list[Stored]) -> None:
    """A push's new facts' serial numbers, in its transaction (after its ticket_state rows are
    locked: two pushes naming one ticket's serials take turns there first)."""
    _insert(tx, storage, pairs(events))


def recompute(tx: Tx, storage: Storage, tickets: list[str], events: list[Stored]) -> None:
    """The pairs of `tickets` made again from `events` (all their facts in force)."""
    if tickets:
        where, params = storage.in_list("ticket", sorted(tickets))
        tx.execute(f"DELETE FROM ticket_serial WHERE {where}", params)
    _insert(tx, storage, pairs(events))


def _insert(tx: Tx, storage: Storage, found: set[tuple[str, str]]) -> None:
    if found:
        storage.bulk_insert(tx, "ticket_serial", ("serial_key", "ticket"), sorted(found),
                            "ON CONFLICT (serial_key, ticket) DO NOTHING", pg_types=("text", "text"))


def snapshot(tx: Tx) -> list[tuple]:
    return tx.all("SELECT serial_key, ticket FROM ticket_serial ORDER BY serial_key, ticket")
