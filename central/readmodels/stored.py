"""An event in force as the read models read it: the same shape whether it comes from a push
being stored (central/ingest.py, in memory) or from the event table (a build or a voiding's
recompute), so one merge rule serves both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from ..storage import Storage, Tx, as_datetime, ts


@dataclass(frozen=True)
class Stored:
    id: int
    uid: str
    kind: str
    ticket: str | None  # for ticket kinds
    status: int | None  # the status fact's rank, for ticket kinds
    created_at: datetime  # as the device dated it
    received_at: datetime  # central's clock
    device: str | None  # the pushing device's uid
    payload: dict
    device_id: int | None = None  # and its id (schema 26: what ticket_state and ticket_facet hold)


def key(at: datetime, uid: str) -> str:
    """`(created_at, event uid)` as one sortable text: the order the derivations read facts in
    (`ORDER BY created_at, uid`). `ts` is fixed width, so text order is time order."""
    return f"{ts(at)}|{uid}"


def arrival(event: Stored) -> str:
    """central/words.py ARRIVAL (received_at, created_at, id) as one sortable text."""
    return f"{ts(event.received_at)}|{ts(event.created_at)}|{event.id:020d}"


def decode(payload: str | bytes) -> dict:
    return msgspec.json.decode(payload)


def read(tx: Tx, storage: Storage, where: str, params) -> list[Stored]:
    """The events in force (void ones left out, as central/voiding.py LIVE) matching `where` (on `event e`)."""
    rows = tx.all(f"SELECT e.id, e.uid, e.kind, e.ticket, e.status, e.created_at, e.received_at, d.uid, "
                      f"{storage.json_text('e.payload')}, d.id FROM event e LEFT JOIN device d ON d.id = e.device_id "
                      f"WHERE e.void_id IS NULL AND {where}", params)
    return [Stored(event_id, uid, kind, ticket, status, as_datetime(created), as_datetime(received), device,
                   decode(payload), device_id)
            for event_id, uid, kind, ticket, status, created, received, device, payload, device_id in rows]
