"""Schema 1: device identity, settings, and the versioned fee catalogue.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    """CREATE TABLE setting (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE device (
        id INTEGER PRIMARY KEY NOT NULL,
        uid TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE catalog_version (
        id INTEGER PRIMARY KEY NOT NULL,
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        imported_at TEXT NOT NULL
    )""",
    """CREATE TABLE fee_item (
        id INTEGER PRIMARY KEY NOT NULL,
        version_id INTEGER NOT NULL REFERENCES catalog_version (id),
        name_zh TEXT NOT NULL,
        name_en TEXT NOT NULL,
        aliases TEXT NOT NULL,
        UNIQUE (version_id, name_zh)
    )""",
    """CREATE TABLE priced_row (
        id INTEGER PRIMARY KEY NOT NULL,
        version_id INTEGER NOT NULL REFERENCES catalog_version (id),
        item_id INTEGER NOT NULL REFERENCES fee_item (id),
        position INTEGER NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        spec_zh TEXT NOT NULL,
        spec_en TEXT NOT NULL,
        accuracy_class TEXT NOT NULL,
        unit TEXT NOT NULL,
        price_fen INTEGER,
        min_fen INTEGER,
        per_point_fen INTEGER,
        points_included INTEGER NOT NULL,
        per_range_fen INTEGER,
        ranges_included INTEGER NOT NULL,
        per_metre_fen INTEGER,
        metres_included INTEGER NOT NULL,
        ac_dc_percent INTEGER,
        regulation TEXT NOT NULL,
        cycle_months INTEGER,
        compulsory INTEGER NOT NULL,
        turnaround_days INTEGER NOT NULL,
        urgent_allowed INTEGER NOT NULL,
        UNIQUE (version_id, code)
    )""",
    "CREATE INDEX priced_row_item ON priced_row (item_id)",
]
