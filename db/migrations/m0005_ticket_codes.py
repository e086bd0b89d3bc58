"""Schema 5: signed ticket codes. A ticket keeps the code its QR carries (signed with the
issuing device's Ed25519 key); devices' public keys are kept to verify codes from other
kiosks, also offline.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE ticket ADD COLUMN code TEXT",  # NULL for tickets made before schema 5
    """CREATE TABLE device_key (
        id INTEGER PRIMARY KEY NOT NULL,
        device_uid TEXT NOT NULL UNIQUE,
        public_key BLOB NOT NULL,
        source TEXT NOT NULL,
        added_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
]
