"""ticket_facet (schema 12): what the office's ticket list filters by besides status, kiosk and day
(central/search.py), each an index range in the list's order (newest first) at any size:
- `counter`: the clerk desk that recorded an intake of the ticket (its device id as text since schema
  26, its uid before: central/search.py looks the uid asked for up);
- `clerk`: the clerk (username) an intake names;
- `field`: the lab field (a fee code's first letter, kiosk.domain.vocabulary FIELDS) of a line
  any registration or intake of the ticket names (refused lines too: the instrument came).

The rule: the union of every such fact's values (order-independent and idempotent, like
ticket_serial), each row carrying its ticket's `first_at` (ticket_state's, the list's order) so a
page is a range of the key (facet, value, first_at, ticket). Written by a push for its new intakes
and registrations only (a ready or a pickup writes nothing here, and ticket_state gets no index
more); when a ticket's first_at moves earlier (a fact older than any stored arrives) its rows
are moved with it (`ticket_state.Folded.relisted`). Voiding and erasure recompute the tickets'
rows from their events in force (`recompute`), as a build does. Schema 26: a row holds its ticket's
id (ticket_state.id, 8 bytes) instead of its uid (37), and the list's order is (first_at, id).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from kiosk.domain.vocabulary import FIELDS

from ..storage import Storage, Tx, as_datetime
from .stored import Stored, read

FACETS = ("counter", "clerk", "field")
STATEMENTS = (
    """CREATE TABLE ticket_facet (facet TEXT NOT NULL, value TEXT NOT NULL, first_at {ts} NOT NULL,
        ticket TEXT NOT NULL, PRIMARY KEY (facet, value, first_at, ticket))""",
    # A recompute, and a ticket whose first_at moved, by ticket.
    "CREATE INDEX ticket_facet_ticket ON ticket_facet (ticket)",
)
# Schema 26: the ticket as its id, as ticket_serial.ID_STATEMENTS (a new table filled by uid, in place).
ID_STATEMENTS = (
    ("CREATE TABLE ticket_facet_26 (facet TEXT NOT NULL, value TEXT NOT NULL, first_at {ts} NOT NULL, "
     "ticket BIGINT NOT NULL)"),
    ("INSERT INTO ticket_facet_26 (facet, value, first_at, ticket) SELECT f.facet, f.value, f.first_at, s.id "
     "FROM ticket_facet f JOIN ticket_state s ON s.uid = f.ticket"),
    "DROP TABLE ticket_facet",
    "ALTER TABLE ticket_facet_26 RENAME TO ticket_facet",
    "CREATE UNIQUE INDEX ticket_facet_pkey ON ticket_facet (facet, value, first_at, ticket)",
    "CREATE INDEX ticket_facet_ticket ON ticket_facet (ticket)",
    # The counters as their device ids (a few bytes instead of 36, in the key too).
    ("UPDATE ticket_facet SET value = COALESCE((SELECT CAST(d.id AS TEXT) FROM device d WHERE d.uid = "
     "ticket_facet.value), value) WHERE facet = 'counter'"),
)
NAMING = (0, 1)  # status facts whose lines name codes: registration, intake
BUILD_CHUNK = 1000  # tickets whose events are read at once by a build


def facets(event: Stored) -> set[tuple[str, str]]:
    """(facet, value) pairs one status fact gives its ticket."""
    found: set[tuple[str, str]] = set()
    if event.status not in NAMING or event.ticket is None:
        return found
    p = event.payload
    if event.status == 1:
        if event.device_id is not None:
            found.add(("counter", str(event.device_id)))
        clerk = given if isinstance(given := p.get("clerk"), dict) else {}
        if isinstance(clerk.get("username"), str) and clerk["username"]:
            found.add(("clerk", clerk["username"]))
    for line in p.get("lines") or ():
        code = line.get("code") if isinstance(line, dict) else None
        if isinstance(code, str) and code[:1] in FIELDS:
            found.add(("field", code[0]))
    return found


def _rows(events: Iterable[Stored], first_at: dict[str, datetime],
          ids: dict[str, int]) -> set[tuple[str, str, datetime, int]]:
    return {
        (facet, value, first_at[e.ticket], ids[e.ticket])
        for e in events
        if e.ticket in first_at
        for facet, value in facets(e)
    }


def fold(tx: Tx, storage: Storage, events: list[Stored], listed: dict[str, datetime], relisted: set[str],
         ids: dict[str, int]) -> None:
    """A push's new facts, in its transaction, after ticket_state's fold (whose row locks order two
    pushes of one ticket): `listed` every folded ticket's first_at, `relisted` those whose
    first_at moved, `ids` their ids."""
    for ticket in sorted(relisted):
        tx.execute("UPDATE ticket_facet SET first_at = ? WHERE ticket = ?",
                   (storage.timestamp(listed[ticket]), ids[ticket]))
    _insert(tx, storage, _rows(events, listed, ids))


def recompute(tx: Tx, storage: Storage, tickets: list[str], events: list[Stored], ids: dict[str, int]) -> None:
    """The rows of `tickets` made again from `events` (all their status facts in force); first_at
    as ticket_state's merge makes it: the earliest fact's time. `ids`: the tickets' ids
    (ticket_state.recompute's: those of tickets left without a row too)."""
    gone = sorted(ids[t] for t in tickets if t in ids)
    if gone:
        where, params = storage.in_list("ticket", gone)
        tx.execute(f"DELETE FROM ticket_facet WHERE {where}", params)
    first_at: dict[str, datetime] = {}
    for e in events:
        if (
            e.ticket is not None
            and e.status is not None
            and (e.ticket not in first_at or e.created_at < first_at[e.ticket])
        ):
            first_at[e.ticket] = e.created_at
    _insert(tx, storage, _rows(events, first_at, ids))


def build(tx: Tx, storage: Storage) -> None:
    """Every ticket's rows from its events in force: schema 12's upgrade (a full
    `readmodels.build` makes them too)."""
    tx.execute("DELETE FROM ticket_facet")
    ids = dict(tx.all("SELECT uid, id FROM ticket_state ORDER BY uid"))
    tickets = sorted(ids)
    for start in range(0, len(tickets), BUILD_CHUNK):
        where, params = storage.in_list("e.ticket", tickets[start : start + BUILD_CHUNK])
        recompute(tx, storage, [], read(tx, storage, f"{where} AND e.status IS NOT NULL", params), ids)
    if storage.postgres:
        tx.execute("ANALYZE ticket_facet")


def _insert(tx: Tx, storage: Storage, rows: set[tuple[str, str, datetime, int]]) -> None:
    if rows:
        storage.bulk_insert(
            tx,
            "ticket_facet",
            ("facet", "value", "first_at", "ticket"),
            [(f, v, storage.timestamp(at), t) for f, v, at, t in sorted(rows)],
            "ON CONFLICT (facet, value, first_at, ticket) DO NOTHING",
            pg_types=("text", "text", "timestamptz", "bigint"),
        )


def snapshot(tx: Tx) -> list[tuple]:
    """The rows with their tickets' uids (the ids are a build's own)."""
    return [
        (f, v, as_datetime(at), t)
        for f, v, at, t in tx.all(
            "SELECT f.facet, f.value, f.first_at, s.uid FROM ticket_facet f "
            "LEFT JOIN ticket_state s ON s.id = f.ticket ORDER BY f.facet, f.value, s.uid"
        )
    ]
