"""Opening the kiosk's SQLite database: pragmas, schema checks, migrations.

Durability: WAL with synchronous=FULL (NORMAL lost acknowledged commits under a
simulated power cut). Writes use IMMEDIATE transactions: a deferred one that reads
then writes fails at once with "database is locked", busy timeout or not.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import SqliteDatabase

from .migrations import LATEST, MIGRATIONS
from .models import MODELS, database_proxy

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


class SchemaError(RuntimeError):
    """The database cannot be used by this version of the software."""


class SchemaTooNew(SchemaError):
    def __init__(self, path: Path, found: int):
        self.found = found
        super().__init__(
            f"{path}: the database has schema version {found}, this kiosk knows up to {LATEST}. "
            "It was written by a newer version of the software; install that version. "
            "The database was not touched."
        )


def read_schema_version(path: Path) -> int:
    """user_version, read without writing anything (no WAL switch, no journal)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise SchemaError(f"{path}: not a kiosk database ({e})") from None
    finally:
        conn.close()


def open_database(path: str | Path, *, upgrade: bool = True, target: int = LATEST) -> SqliteDatabase:
    """Open (creating if needed) and bring the schema to `target`.

    A newer-than-known schema is refused before any pragma could write to the file.
    """
    path = Path(path)
    found = read_schema_version(path)
    if found > LATEST:
        raise SchemaTooNew(path, found)
    if found < target and not upgrade:
        raise SchemaError(f"{path}: schema version {found} needs an upgrade to {target}")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=5, lock_type="IMMEDIATE")
    db.connect()
    migrate(db, target)
    database_proxy.initialize(db)
    return db


def schema_version(db: SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate(db: SqliteDatabase, target: int = LATEST) -> list[int]:
    """Apply migrations up to `target`; returns the versions applied."""
    applied = []
    for version in range(1, target + 1):
        with db.atomic():
            # Re-read inside the write lock: another process may have upgraded meanwhile.
            if schema_version(db) >= version:
                continue
            for statement in MIGRATIONS[version - 1]:
                db.execute_sql(statement)
            db.execute_sql(f"PRAGMA user_version = {version}")
        applied.append(version)
    return applied


__all__ = ["LATEST", "MODELS", "SchemaError", "SchemaTooNew", "migrate", "open_database", "schema_version"]
