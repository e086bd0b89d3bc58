"""Schema 15: certificate checks at dispatch (issue 23, kiosk/domain/certificate_check.py).

One row per step about one instrument's certificate: a check (passed or returned to the lab) or
the customer taking a returned one as it is; this desk's own (its outbox event written in the
same transaction) and other desks' (pulled, kiosk/sync/feed.py). Keyed by the ticket's uid, not
its local id, so a step pulled before its ticket is kept and counted once the ticket comes.

- uid: the step's own (a check's `check`, a taking's `event`), unique: a pulled step once.
- kind: check | taken_as_is; outcome: passed | returned | taken_as_is.
- position, instrument: the intake line's position and the instrument in it, from 0.
- wrong: the points found wrong, comma-separated (POINTS order); reason: the words.
- refers_to: a re-check's returned check, a taking's returned check.
- promised_on: a return's promise for the corrected certificate (ISO date).

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE certificate_check (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        ticket_uid TEXT NOT NULL,
        number TEXT NOT NULL,
        position INTEGER NOT NULL,
        instrument INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        code TEXT NOT NULL,
        service TEXT,
        certificate TEXT NOT NULL,
        document TEXT NOT NULL,
        conclusion TEXT,
        wrong TEXT NOT NULL,
        reason TEXT NOT NULL,
        promised_on TEXT,
        refers_to TEXT,
        clerk_id INTEGER REFERENCES clerk (id),
        clerk_name TEXT,
        device_uid TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX certificate_check_ticket ON certificate_check (ticket_uid, position, instrument)",
    "CREATE INDEX certificate_check_created ON certificate_check (created_at)",
]
