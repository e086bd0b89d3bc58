"""The institute's list of customer organisations, for the kiosks to complete the name a
customer types: each name a registration brings is published to every device once, as
`organisation.known` with `{"names": [...]}` (kiosk/domain/events.py OrganisationsKnown).

Names only: lobby kiosks get this change, so it never carries a contact, a phone or anything
else of a registration. A name that may be a private person's (kiosk/domain/organisations.py
`shareable`: short, or the contact's own name) is not published at all.

`organisation_name` holds the names published, by the key the kiosks match them by; a name is
new when its key is. One change per push that brings new names, in the pusher's name (it knows
them already). Concurrent pushes insert keys in sorted order, so they cannot deadlock on them.
"""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.domain.clock import utc_now
from kiosk.domain.organisations import search_key, shareable

from . import feed
from .storage import Storage, Tx

KIND = "organisation.known"
PER_CHANGE = 1000  # names in one change (OrganisationsKnown's limit)
TABLE = """CREATE TABLE organisation_name (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    first_seen {ts} NOT NULL)"""


def publish_new(tx: Tx, origin: int | None, named: Iterable[tuple[str, str]]) -> list[str]:
    """Store the names central has not published before and publish them; the names published.
    `named`: (organisation, contact) of registrations; whether a name may be offered to others
    (`shareable`) is asked only of names not published yet (most are, and the push path pays
    for every question: bench/sync_drain.py)."""
    by_key: dict[str, list[tuple[str, str]]] = {}
    keys: dict[str, str] = {}
    for name, contact in named:
        key = keys.get(name) or keys.setdefault(name, search_key(name))
        by_key.setdefault(key, []).append((name, contact))
    if not by_key:
        return []
    # Most names of a push are known: one read finds them (a write per name, even one that does
    # nothing, cost a push of 500 registrations 20 ms on PostgreSQL; bench/sync_drain.py).
    where, params = tx.storage.in_list("key", sorted(by_key))
    known = {row[0] for row in tx.all(f"SELECT key FROM organisation_name WHERE {where}", params)}
    fresh: dict[str, str] = {}
    for key in sorted(key for key in by_key if key not in known):
        offered = next((name for name, contact in by_key[key] if shareable(name, contact)), None)
        if offered is not None:
            fresh[key] = offered
    if not fresh:
        return []
    stamp = tx.storage.timestamp(utc_now())
    written = tx.storage.bulk_insert(tx, "organisation_name", ("key", "name", "first_seen"),
                                     [(key, name, stamp) for key, name in fresh.items()],
                                     "ON CONFLICT (key) DO NOTHING", "key")  # another push, meanwhile
    new = sorted(fresh[row[0]] for row in written)
    for start in range(0, len(new), PER_CHANGE):
        feed.publish(tx, KIND, data={"names": new[start:start + PER_CHANGE]}, origin=origin)
    return new


def publish_stored(tx: Tx, storage: Storage) -> None:
    """On the upgrade that brought the list (schema 3): the names of the registrations stored
    before, to every device."""
    organisation, contact = (storage.json_field("payload", "customer", name) for name in ("organisation", "contact"))
    rows = tx.all(f"SELECT {organisation}, {contact} FROM event WHERE kind = 'ticket.registered' ORDER BY id")
    publish_new(tx, None, [(name, contact or "") for name, contact in rows if name])
