"""ticket_serial (schema 8): the instruments' serial numbers each ticket names, for the office's
search (central/search.py): a clerk holding an instrument finds its tickets.

The rule: every serial number any registration or intake of the ticket names (refused lines too:
the instrument came to the counter). A union is order-independent and idempotent, so a push
inserts its facts' pairs and a build inserts every fact's: the same rows. A voiding or an erasure
takes facts away: the tickets' pairs are made again from their events in force (`recompute`).
Schema 26: a pair holds its ticket's id (ticket_state.id, 8 bytes) instead of its uid (37).
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
# Schema 26: the ticket as its id (ticket_state.id). A new table filled from the old by ticket_state's
# uid (every pair's ticket has a row: pairs come from its facts in force), then in its place; the key a
# unique index, which SQLite can add to a table after (its name the old key's on PostgreSQL).
ID_STATEMENTS = (
    "CREATE TABLE ticket_serial_26 (serial_key TEXT NOT NULL, ticket BIGINT NOT NULL)",
    ("INSERT INTO ticket_serial_26 (serial_key, ticket) SELECT p.serial_key, s.id FROM ticket_serial p "
     "JOIN ticket_state s ON s.uid = p.ticket"),
    "DROP TABLE ticket_serial",
    "ALTER TABLE ticket_serial_26 RENAME TO ticket_serial",
    "CREATE UNIQUE INDEX ticket_serial_pkey ON ticket_serial (serial_key, ticket)",
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


def fold(tx: Tx, storage: Storage, events: list[Stored], ids: dict[str, int]) -> None:
    """A push's new facts' serial numbers, in its transaction (after its ticket_state rows are
    locked: two pushes naming one ticket's serials take turns there first); `ids`: the tickets'."""
    _insert(tx, storage, pairs(events), ids)


def recompute(tx: Tx, storage: Storage, tickets: list[str], events: list[Stored], ids: dict[str, int]) -> None:
    """The pairs of `tickets` made again from `events` (all their facts in force); `ids`: the
    tickets' ids (ticket_state.recompute's: those of tickets left without a row too)."""
    gone = sorted(ids[t] for t in tickets if t in ids)
    if gone:
        where, params = storage.in_list("ticket", gone)
        tx.execute(f"DELETE FROM ticket_serial WHERE {where}", params)
    _insert(tx, storage, pairs(events), ids)


def _insert(tx: Tx, storage: Storage, found: set[tuple[str, str]], ids: dict[str, int]) -> None:
    if found:
        storage.bulk_insert(tx, "ticket_serial", ("serial_key", "ticket"),
                            sorted((key, ids[ticket]) for key, ticket in found),
                            "ON CONFLICT (serial_key, ticket) DO NOTHING", pg_types=("text", "bigint"))


def snapshot(tx: Tx) -> list[tuple]:
    """The pairs with their tickets' uids (the ids are a build's own)."""
    return tx.all("SELECT p.serial_key, s.uid FROM ticket_serial p LEFT JOIN ticket_state s ON s.id = p.ticket "
                  "ORDER BY p.serial_key, s.uid")
