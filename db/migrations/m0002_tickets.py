"""Schema 2: customers, tickets and their lines, print jobs, the outbox, counters.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE customer (
        id INTEGER PRIMARY KEY NOT NULL,
        organisation TEXT NOT NULL,
        credit_code TEXT NOT NULL,
        address TEXT NOT NULL,
        contact TEXT NOT NULL,
        phone TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE ticket (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        number TEXT NOT NULL UNIQUE,
        device_id INTEGER NOT NULL REFERENCES device (id),
        customer_id INTEGER NOT NULL REFERENCES customer (id),
        version_id INTEGER NOT NULL REFERENCES catalog_version (id),
        policy_id TEXT NOT NULL,
        status TEXT NOT NULL,
        urgent TEXT,
        pickup TEXT NOT NULL,
        certificates INTEGER NOT NULL,
        certificate_name TEXT NOT NULL,
        total_fen INTEGER NOT NULL,
        quoted_lines INTEGER NOT NULL,
        estimate_json TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX ticket_customer ON ticket (customer_id)",
    """CREATE TABLE ticket_line (
        id INTEGER PRIMARY KEY NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES ticket (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        row_id INTEGER NOT NULL REFERENCES priced_row (id),
        code TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        use TEXT NOT NULL,
        service TEXT NOT NULL,
        points INTEGER,
        ranges INTEGER,
        metres TEXT,
        ac_dc INTEGER NOT NULL,
        model TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        manufacturer TEXT NOT NULL,
        requirements TEXT NOT NULL,
        repair_if_fails INTEGER NOT NULL,
        amount_fen INTEGER,
        free_reason TEXT,
        UNIQUE (ticket_id, position)
    )""",
    """CREATE TABLE print_job (
        id INTEGER PRIMARY KEY NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES ticket (id),
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX print_job_state ON print_job (state)",
    # AUTOINCREMENT: an outbox sequence must never reuse an id, or a new event could
    # hide behind an acknowledged cursor and never leave the kiosk.
    """CREATE TABLE outbox_event (
        seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        acked_at TEXT
    )""",
    "CREATE INDEX outbox_event_pending ON outbox_event (acked_at, seq)",
    """CREATE TABLE counter (
        name TEXT PRIMARY KEY NOT NULL,
        value INTEGER NOT NULL
    )""",
]
