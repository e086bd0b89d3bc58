"""Schema 11: changes this node could not apply are parked, not lost and not in the way.

A change pulled from the central system that fails here (a ticket number this node already
has under another ticket, a reference to nothing, a payload not of its kind's shape, a kind
newer than this software) is rolled back alone and kept with the reason; the feed's cursor
moves on (kiosk/sync/feed.py). A ticket code scanned at a desk whose number belongs to
another ticket here is kept the same way (kiosk/store/desk.py). `kiosk sync --parked` lists
them, `kiosk doctor` counts them.

- seq: the feed's seq of the change (unique: a change is parked once); NULL for a scanned code.
- kind: the change's kind as sent (may be one this software does not know, or missing).
- data: the change's data as JSON text, whole, so a later version can apply it again.
- reason: why, in words that carry no personal data ("conflict: UNIQUE constraint failed:
  ticket.number", "unknown kind", "malformed: ...").

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE parked_change (
        id INTEGER PRIMARY KEY NOT NULL,
        seq INTEGER UNIQUE,
        kind TEXT,
        data TEXT NOT NULL,
        reason TEXT NOT NULL,
        parked_at TEXT NOT NULL
    )""",
]
