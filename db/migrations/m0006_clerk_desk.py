"""Schema 6: the clerk desk. Clerks unlock the desk with a PIN (stored as a slow-KDF hash;
wrong tries counted, the account locked for a while after too many). Every step of a ticket
at the counters (received, ready, picked up) is an event with who, when and where; a ticket
reaches each step at most once. Intake keeps, per line, what the clerk found and corrected.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE clerk (
        id INTEGER PRIMARY KEY NOT NULL,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        pin_hash TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        created_at TEXT NOT NULL,
        removed_at TEXT
    )""",
    """CREATE TABLE ticket_event (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        ticket_id INTEGER NOT NULL REFERENCES ticket (id),
        kind TEXT NOT NULL,
        clerk_id INTEGER REFERENCES clerk (id),
        device_id INTEGER NOT NULL REFERENCES device (id),
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX ticket_event_ticket ON ticket_event (ticket_id)",
    # Transitions only go forward and happen once: a second "received" cannot be written.
    "CREATE UNIQUE INDEX ticket_event_once ON ticket_event (ticket_id, kind)",
    """CREATE TABLE intake_line (
        id INTEGER PRIMARY KEY NOT NULL,
        event_id INTEGER NOT NULL REFERENCES ticket_event (id),
        ticket_line_id INTEGER REFERENCES ticket_line (id),
        position INTEGER NOT NULL,
        code TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        service TEXT NOT NULL,
        use TEXT NOT NULL,
        condition TEXT NOT NULL,
        accessories TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        refused INTEGER NOT NULL,
        amount_fen INTEGER
    )""",
    "CREATE INDEX intake_line_event ON intake_line (event_id)",
]
