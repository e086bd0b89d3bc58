"""Schema 3: search keys (pinyin, initials) stored per text, computed once at import.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    # The kiosk then never loads pypinyin (about 58 MB and 130 ms) to build its search index.
    """CREATE TABLE search_key (
        text TEXT PRIMARY KEY NOT NULL,
        keys TEXT NOT NULL
    )""",
]
