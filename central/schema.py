"""Central's own tables (not the kiosk's db/ models), the same on PostgreSQL and SQLite but for
column types. Created on first use; a database written by a newer central is refused.

- device, enrolment: who may sync; tokens and one-time codes are stored as SHA-256 hashes.
- event: every pushed event once, keyed by its uid; for ticket kinds also the ticket's uid
  and the status fact's rank. This table *is* the append-only status history, and a
  ticket's current status is derived from it when asked (central/tickets.py), never stored.
- catalog_version: fee tables as published (the kiosk's CSV), deduplicated by SHA-256.
- feed, feed_clock: the change feed devices pull (central/feed.py explains the clock).
"""

from __future__ import annotations

from .storage import Storage, StorageError

SCHEMA_VERSION = 1

TYPES = {
    "postgresql": {"pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "ts": "TIMESTAMPTZ", "json": "JSONB"},
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted last row.
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "TEXT", "json": "TEXT"},
}

TABLES = (
    "CREATE TABLE central_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE device (
        id {pk},
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('kiosk', 'clerk')),
        prefix TEXT NOT NULL UNIQUE,
        public_key TEXT NOT NULL,
        token_hash TEXT UNIQUE,
        enrolled_at {ts} NOT NULL,
        revoked_at {ts},
        last_seen_at {ts},
        last_push_at {ts},
        last_pull_at {ts})""",
    """CREATE TABLE enrolment (
        id {pk},
        code_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('kiosk', 'clerk')),
        name TEXT NOT NULL,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        used_at {ts},
        device_id BIGINT REFERENCES device (id))""",
    # No foreign key on device_id: events are inserted only under an authenticated device's id,
    # and a per-row key check would cost the push path a lookup per event.
    """CREATE TABLE event (
        id {pk},
        uid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        device_id BIGINT NOT NULL,
        ticket TEXT,
        status SMALLINT,
        created_at {ts} NOT NULL,
        received_at {ts} NOT NULL,
        payload {json} NOT NULL)""",
    "CREATE INDEX event_ticket ON event (ticket, status) WHERE ticket IS NOT NULL",
    """CREATE TABLE catalog_version (
        id {pk},
        sha256 TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        csv TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        imported_at {ts} NOT NULL)""",
    "CREATE TABLE feed_clock (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
    "INSERT INTO feed_clock (id, seq) VALUES (1, 0)",
    # One row per published change, or per pushed batch (event_ids: a JSON list of event ids).
    # audience 0: every device; 1: clerk desks only. origin: the device whose push made it.
    """CREATE TABLE feed (
        seq BIGINT PRIMARY KEY,
        kind TEXT NOT NULL,
        audience SMALLINT NOT NULL,
        origin BIGINT,
        event_ids TEXT,
        catalog_id BIGINT,
        data {json},
        created_at {ts} NOT NULL)""",
    "CREATE INDEX feed_audience ON feed (audience, seq)",
)


def _exists(tx, storage: Storage) -> bool:
    if storage.postgres:
        return tx.one("SELECT to_regclass('central_meta') IS NOT NULL")[0]
    return tx.one("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'central_meta'")[0] > 0


def ensure_schema(storage: Storage) -> int:
    """Create the tables on first use; refuse a newer schema. Safe with several workers
    starting at once: PostgreSQL serialises them on an advisory lock, SQLite on BEGIN IMMEDIATE."""
    with storage.transaction() as tx:
        if storage.postgres:
            tx.execute("SELECT pg_advisory_xact_lock(7400400)")  # central's schema lock
        if _exists(tx, storage):
            version = int(tx.one("SELECT value FROM central_meta WHERE key = 'schema_version'")[0])
            if version > SCHEMA_VERSION:
                raise StorageError(f"the database has central schema {version}; this central knows "
                                   f"{SCHEMA_VERSION}: upgrade central, do not downgrade the database")
            return version
        for statement in TABLES:
            tx.execute(statement.format(**TYPES[storage.dialect]))
        tx.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    return SCHEMA_VERSION
