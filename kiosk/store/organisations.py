"""The customer organisations' names the customer screen completes: the SQL. What a name is
found by and which names may be offered at all is kiosk/domain/organisations.py's.

Names come from this node's registrations (`remember`, in the registration's transaction) and
from the central system's `organisation.known` changes (`learn`, kiosk/sync/feed.py), which
carry the names of every kiosk's customers. Names only: the table has no other column a
customer could read.

`matching` is asked on every key press once two characters are typed, in the station's
database thread: names that start with the text, then names that contain it, each by how often
this node registered them, then how recently. A start is a range of the key's b-tree; a
containment scans the keys in rank order (the rank index) until four are found: at once for a
common word, the whole index (50,000 names: a few milliseconds) for a miss (bench/organisations.py).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from db.models import Organisation, database_proxy
from kiosk.domain.organisations import MIN_TYPED, search_key, shareable
from kiosk.domain.validation import FieldError, clean_organisation
from kiosk.store.rows import peewee_errors

log = logging.getLogger(__name__)

SUGGESTIONS = 4  # names offered at once: four rows under the field, each one tap
_RANK = "ORDER BY seen DESC, last_seen DESC, key"
_STARTING = f"SELECT name FROM organisation WHERE key >= ? AND key < ? {_RANK} LIMIT ?"
# The keys are scanned in rank order in the rank index (key and rank only: no name read until found).
_CONTAINING = ("SELECT name FROM organisation WHERE key IN (SELECT key FROM organisation INDEXED BY organisation_rank "
               f"WHERE instr(key, ?) > 1 {_RANK} LIMIT ?) {_RANK}")
_PER_INSERT = 300  # rows per INSERT in learn: 900 parameters, under SQLite's oldest limit of 999
_HIGHEST = "\U0010ffff"  # above every character: key + it bounds the keys that start with key


def matching(text: str, limit: int = SUGGESTIONS) -> list[str]:
    """Up to `limit` names for what the customer has typed; none before MIN_TYPED characters."""
    key = search_key(text)
    if len(key) < MIN_TYPED or limit < 1:
        return []
    names = [row[0] for row in database_proxy.execute_sql(_STARTING, (key, key + _HIGHEST, limit))]
    if len(names) < limit:
        names += [row[0] for row in database_proxy.execute_sql(_CONTAINING, (key, limit - len(names)))]
    return names


def most_seen(limit: int) -> list[str]:
    """The `limit` names registered here most often (then most recently): the on-screen keyboard
    boosts the words they are made of (screens/keyboard/dictionary.py)."""
    return [row[0] for row in database_proxy.execute_sql(f"SELECT name FROM organisation {_RANK} LIMIT ?", (limit,))]


_SEEN = ("INSERT INTO organisation (key, name, seen, last_seen) VALUES (?, ?, 1, ?) "
         "ON CONFLICT (key) DO UPDATE SET seen = seen + 1, name = excluded.name, "
         "last_seen = max(last_seen, excluded.last_seen)")


def remember(organisation: str, contact: str, at: datetime) -> None:
    """A registration here named this organisation (cleaned): counted, if it may be offered.
    Call inside the registration's transaction."""
    entry = remembered(organisation, contact)
    if entry is not None:
        count_seen(entry, Organisation.last_seen.db_value(at))


def remembered(organisation: str, contact: str) -> tuple[str, str] | None:
    """What `remember` counts for a registration naming this organisation (cleaned): its key and
    name, or None if it may not be offered. Pure: worked out before the registration's transaction."""
    return (search_key(organisation), organisation) if shareable(organisation, contact) else None


def count_seen(entry: tuple[str, str], stamp: str, conn: sqlite3.Connection | None = None) -> None:
    """Count a registration of `remembered`'s entry, at `stamp` (a time as the rows store it).
    Call inside the registration's transaction; `conn`: its connection, when the caller binds its
    statements there itself (and raises sqlite3's errors as peewee's, kiosk/store/rows.py)."""
    if conn is not None:
        conn.execute(_SEEN, (*entry, stamp))
        return
    with peewee_errors:
        database_proxy.obj.connection().execute(_SEEN, (*entry, stamp))


def learn(names: Iterable[str], at: datetime) -> int:
    """Names the central system published (other kiosks' customers): each cleaned as this node
    cleans its own, kept if new here. How many were new."""
    stamp = Organisation.last_seen.db_value(at)
    rows: dict[str, str] = {}  # key -> the first spelling
    for name in names:
        try:
            cleaned = clean_organisation(name)
        except FieldError:
            log.info("a published organisation name has text this node refuses; skipped")
            continue
        if shareable(cleaned):
            rows.setdefault(search_key(cleaned), cleaned)
    items = list(rows.items())
    new = 0
    for start in range(0, len(items), _PER_INSERT):  # one statement per chunk, not one per name
        chunk = items[start:start + _PER_INSERT]
        new += database_proxy.execute_sql(
            "INSERT INTO organisation (key, name, seen, last_seen) VALUES "
            + ", ".join(["(?, ?, 0, ?)"] * len(chunk)) + " ON CONFLICT (key) DO NOTHING",
            [value for key, name in chunk for value in (key, name, stamp)]).rowcount
    return new
