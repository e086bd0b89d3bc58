"""A kiosk database taken back to an older schema version with its rows, for upgrade tests:
what every later migration made is undone, read from the migrations' own statements (tables
and indexes dropped, columns dropped, an index a later migration dropped made again from the
statement that first made it). Newer migrations then need no change to older tests."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from db.migrations import MIGRATIONS

_MADE = {"table": r"CREATE TABLE (\w+)", "index": r"CREATE (?:UNIQUE )?INDEX (\w+)",
         "column": r"ALTER TABLE (\w+) ADD COLUMN (\w+)"}


def rewind(path: Path, version: int, conn: sqlite3.Connection | None = None) -> None:
    """Undo migrations version+1 .. latest on the database at `path` (or on `conn`), newest first."""
    own = conn is None
    conn = conn or sqlite3.connect(path)
    try:
        for statements in reversed(MIGRATIONS[version:]):
            for statement in reversed(statements):
                _undo(conn, statement, MIGRATIONS[:version])
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.commit()
    finally:
        if own:
            conn.close()


def _undo(conn: sqlite3.Connection, statement: str, earlier: list[list[str]]) -> None:
    if m := re.match(r"\s*" + _MADE["index"], statement):
        conn.execute(f"DROP INDEX IF EXISTS {m.group(1)}")
    elif m := re.match(r"\s*" + _MADE["table"], statement):
        conn.execute(f"DROP TABLE IF EXISTS {m.group(1)}")
    elif m := re.match(r"\s*" + _MADE["column"], statement):
        conn.execute(f"ALTER TABLE {m.group(1)} DROP COLUMN {m.group(2)}")
    elif m := re.match(r"\s*DROP INDEX (?:IF EXISTS )?(\w+)", statement):
        made = [s for version in earlier for s in version
                if (found := re.match(r"\s*" + _MADE["index"], s)) and found.group(1) == m.group(1)]
        if made:
            conn.execute(made[-1])
