"""Opening the kiosk's SQLite database: pragmas, schema checks, migrations.

Durability: WAL with synchronous=FULL (NORMAL lost acknowledged commits under a
simulated power cut). Writes use IMMEDIATE transactions: a deferred one that reads
then writes fails at once with "database is locked", busy timeout or not.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee
from peewee import SqliteDatabase

from .backup import BackupError, backup_database, problem_of_file
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


class DatabaseUnusable(SchemaError):
    """The file or the disk is the problem: `kind` is full | readonly | corrupt | locked |
    cantopen | io (db.backup.problem_kind). Nothing was changed by the failed step."""

    def __init__(self, path: Path, kind: str, detail: str):
        self.kind = kind
        super().__init__(f"{path}: {detail}")


class UpgradeBackupFailed(DatabaseUnusable):
    """The schema needs an upgrade and the backup made first could not be written: not upgraded."""

    def __init__(self, path: Path, found: int, target: int, error: Exception):
        self.reason = getattr(error, "kind", "io")
        super().__init__(path, "upgrade_backup", f"the schema needs an upgrade from version {found} to {target}, "
                         f"but the backup made before upgrading failed ({error}); the database was not "
                         "upgraded and not changed")


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
        kind = problem_of_file(e, path)
        if kind in ("locked", "readonly", "cantopen", "io"):  # the file may be fine: say what stops it
            raise DatabaseUnusable(path, kind, str(e)) from None
        if kind == "corrupt":
            raise DatabaseUnusable(path, kind, f"not a kiosk database, or a damaged one ({e})") from None
        raise SchemaError(f"{path}: not a kiosk database ({e})") from None
    finally:
        conn.close()


def open_database(path: str | Path, *, upgrade: bool = True, target: int = LATEST,
                  backup_dir: Path | None = None) -> SqliteDatabase:
    """Open (creating if needed) and bring the schema to `target`.

    A newer-than-known schema is refused before any pragma could write to the file. An older
    one is first backed up into `backup_dir` (default: `backups` beside the database); if that
    backup fails (a full disk), nothing is migrated: UpgradeBackupFailed. A full, read-only or
    damaged file is DatabaseUnusable with its `kind`.
    """
    path = Path(path)
    found = read_schema_version(path)
    if found > LATEST:
        raise SchemaTooNew(path, found)
    if found < target and not upgrade:
        raise SchemaError(f"{path}: schema version {found} needs an upgrade to {target}")
    if 0 < found < target:
        try:
            backup_database(path, path.parent / "backups" if backup_dir is None else backup_dir, reason="upgrade")
        except BackupError as e:
            raise UpgradeBackupFailed(path, found, target, e) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=5, lock_type="IMMEDIATE")
    try:
        db.connect()
        migrate(db, target)
    except (sqlite3.DatabaseError, peewee.DatabaseError) as e:
        db.close()
        kind = problem_of_file(e, path)
        if kind is None:
            raise
        raise DatabaseUnusable(path, kind, str(e)) from e
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


__all__ = ["LATEST", "MODELS", "DatabaseUnusable", "SchemaError", "SchemaTooNew", "UpgradeBackupFailed", "migrate",
           "open_database", "schema_version"]
