"""Schema 16: ratings at the window (一次一评, issue 21) and 好差评 as the standard has it.

- clerk.staff_number: the clerk's 工号, shown on the counter's rating pad and carried by each
  rating given there (NULL: none set; the username stands in).
- feedback.stage: the stage a window rating rates, 'intake' (受理) or 'completion' (办结); NULL: a
  rating given at the lobby kiosk, as before. feedback.staff_number, feedback.counter: the clerk's
  工号 and the window's number the pad showed. One rating per ticket and stage: the unique index
  on ticket_id becomes one on (ticket_id, stage), the lobby's (stage NULL) still one per ticket.
- rating_request: what the desk asks its counter's pad to show, written in the step's own
  transaction (kiosk/store/window_ratings.py); the pad (`kiosk pad --counter N`, another process
  on the same machine, the same database file in WAL) reads the newest waiting one of its counter.
- followup (a poor rating's work order): callback_by (call the customer back before; NULL: no
  such rule), fix_rating (the customer's rating of the fix: satisfied | basic | dissatisfied).
- followup_call: each call-back made for a work order.
- appeal: a clerk's appeal against a rating and a supervisor's decision; the rating stays.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE clerk ADD COLUMN staff_number TEXT",
    "ALTER TABLE feedback ADD COLUMN stage TEXT CHECK (stage IN ('intake', 'completion'))",
    "ALTER TABLE feedback ADD COLUMN staff_number TEXT",
    "ALTER TABLE feedback ADD COLUMN counter TEXT",
    "DROP INDEX feedback_one_per_ticket",
    """CREATE UNIQUE INDEX feedback_one_per_stage ON feedback (ticket_id, COALESCE(stage, ''))
        WHERE ticket_id IS NOT NULL""",
    """CREATE TABLE rating_request (
        id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
        counter TEXT NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES ticket (id),
        step_id INTEGER NOT NULL UNIQUE REFERENCES ticket_event (id),
        stage TEXT NOT NULL CHECK (stage IN ('intake', 'completion')),
        clerk_id INTEGER REFERENCES clerk (id),
        clerk_name TEXT NOT NULL,
        staff_number TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('waiting', 'rated', 'declined', 'expired', 'superseded')),
        feedback_id INTEGER REFERENCES feedback (id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX rating_request_waiting ON rating_request (counter, state, id)",
    "ALTER TABLE followup ADD COLUMN callback_by TEXT",
    "ALTER TABLE followup ADD COLUMN fix_rating TEXT CHECK (fix_rating IN ('satisfied', 'basic', 'dissatisfied'))",
    """CREATE TABLE followup_call (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        followup_id INTEGER NOT NULL REFERENCES followup (id),
        reached INTEGER NOT NULL,
        note TEXT NOT NULL,
        clerk_id INTEGER REFERENCES clerk (id),
        clerk_name TEXT,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX followup_call_of ON followup_call (followup_id, created_at)",
    """CREATE TABLE appeal (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        feedback_id INTEGER NOT NULL REFERENCES feedback (id),
        reason TEXT NOT NULL,
        raised_by INTEGER REFERENCES clerk (id),
        raised_by_name TEXT,
        created_at TEXT NOT NULL,
        decision TEXT CHECK (decision IN ('upheld', 'rejected')),
        decision_reason TEXT,
        decided_by INTEGER REFERENCES clerk (id),
        decided_by_name TEXT,
        decided_at TEXT,
        CHECK (decision IS NULL OR (decision_reason IS NOT NULL AND decided_at IS NOT NULL))
    )""",
    # One appeal waiting per rating; a decided one may be followed by another (new facts).
    "CREATE UNIQUE INDEX appeal_one_open ON appeal (feedback_id) WHERE decision IS NULL",
]
