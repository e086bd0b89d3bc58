"""Schema 8: feedback (好差评) and its follow-ups.

A customer rates the service once per ticket, or anonymously (no ticket link at all). The
rating is the public-service scale, 1 (非常不满意) to 5 (非常满意); a poor rating (1 or 2)
carries a reason and opens a follow-up due in 15 working days. The steps' desks and clerks
are copied from the ticket's events when it is rated, for statistics by counter and clerk.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE feedback (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        ticket_id INTEGER REFERENCES ticket (id),
        device_id INTEGER NOT NULL REFERENCES device (id),
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        hearts TEXT NOT NULL,
        reason TEXT,
        reason_text TEXT NOT NULL,
        comment TEXT NOT NULL,
        callback_phone TEXT,
        language TEXT NOT NULL,
        received_device TEXT,
        received_clerk TEXT,
        picked_up_device TEXT,
        picked_up_clerk TEXT,
        created_at TEXT NOT NULL,
        CHECK (rating > 2 OR reason IS NOT NULL)
    )""",
    # One rating per ticket, enforced by the database; anonymous ratings have no ticket.
    "CREATE UNIQUE INDEX feedback_one_per_ticket ON feedback (ticket_id) WHERE ticket_id IS NOT NULL",
    """CREATE TABLE followup (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        feedback_id INTEGER NOT NULL UNIQUE REFERENCES feedback (id),
        due_on TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        call_note TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT,
        closed_by INTEGER REFERENCES clerk (id)
    )""",
    "CREATE INDEX followup_open ON followup (status, due_on)",
]
