"""Schema 4: the print spool. A job remembers the language its receipt is printed in, when
it may be tried again (backoff after a failure) and when it printed.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE print_job ADD COLUMN lang TEXT NOT NULL DEFAULT 'zh'",
    "ALTER TABLE print_job ADD COLUMN next_attempt_at TEXT",  # NULL: as soon as possible
    "ALTER TABLE print_job ADD COLUMN printed_at TEXT",
]
