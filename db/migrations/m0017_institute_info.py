"""Schema 17: the institute's file as the central system holds it (issue 22).

Central keeps the institute's file (its institute.toml: name, hours, counters, commitments,
notices) in one place and publishes each version as an `institute.info` change
(central/institute.py). `institute_info` keeps the versions a kiosk pulled (kiosk/sync/feed.py,
kiosk/store/institute.py); the welcome screen shows the newest in place of the kiosk's own file
(its `[kiosk] info_file`, or the demo's), which stays the fallback: no row, or a text this
version's parser refuses, and the local file is shown as before.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS: list[str] = [
    """CREATE TABLE institute_info (
        id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        received_at TEXT NOT NULL)""",
]
