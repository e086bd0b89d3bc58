"""Prepared registrations kept at central for the customer who asks (预约送检, issue 22 item 3).

By default central keeps nothing of a prepared registration: the QR code on the customer's phone
is the registration (kiosk/domain/prepared.py), and the public site's pages carry what was typed
in their forms' bodies only (central/public/prepare.py). A customer who ticks "keep it for me"
gets it stored here, as the QR texts themselves, under a random retrieval token (the link holds
the token and nothing personal; only its SHA-256 is stored, so the table does not give the links
away), for KEEP_DAYS: it cannot be fetched after that, the customer may erase it sooner, and
`kiosk central retention` (central/retention.py) deletes what is due (on SQLite zeroed in the
file too: secure_delete).

Schema 18: `prepared_kept`. Pure storage: no FastAPI, so the retention CLI can use it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from .storage import Storage

KEEP_DAYS = 30
MAX_PARTS = 16  # kiosk/domain/prepared.py MAX_PARTS
MAX_PART_CHARS = 1100  # a part's text (MAX_PART_CHARS 970 there) with room to spare

STATEMENTS = (
    """CREATE TABLE prepared_kept (
        token_hash TEXT PRIMARY KEY,
        parts TEXT NOT NULL,
        kept_at {ts} NOT NULL,
        erase_at {ts} NOT NULL)""",
    "CREATE INDEX prepared_kept_erase ON prepared_kept (erase_at)",
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def keep(storage: Storage, parts: list[str], now: datetime) -> str:
    """Store the QR texts; the retrieval token (URL-safe, 128 bits of chance)."""
    if not 1 <= len(parts) <= MAX_PARTS or any(not 0 < len(p) <= MAX_PART_CHARS or not p.isascii() for p in parts):
        raise ValueError("not the texts of a prepared registration's codes")
    token = secrets.token_urlsafe(16)
    with storage.transaction() as tx:
        tx.execute("INSERT INTO prepared_kept (token_hash, parts, kept_at, erase_at) VALUES (?, ?, ?, ?)",
                   (_hash(token), json.dumps(parts), storage.timestamp(now),
                    storage.timestamp(now + timedelta(days=KEEP_DAYS))))
    return token


def fetch(storage: Storage, token: str, now: datetime) -> tuple[list[str], datetime] | None:
    """The QR texts kept under `token` and when they will be erased; None: unknown, erased or due."""
    if not token or len(token) > 64:
        return None
    with storage.read() as tx:
        row = tx.one("SELECT parts, erase_at FROM prepared_kept WHERE token_hash = ? AND erase_at > ?",
                     (_hash(token), storage.timestamp(now)))
    if row is None:
        return None
    erase_at = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(row[1])
    return json.loads(row[0]), erase_at


def erase(storage: Storage, token: str) -> bool:
    """The customer's own erasure, before the period is over. False: nothing was kept under it."""
    if not token or len(token) > 64:
        return False
    with storage.transaction() as tx:
        if not storage.postgres:
            tx.execute("PRAGMA secure_delete = ON")
        gone = tx.execute("DELETE FROM prepared_kept WHERE token_hash = ?", (_hash(token),)).rowcount
    return gone > 0


def erase_due(storage: Storage, now: datetime, *, dry_run: bool = False) -> int:
    """Delete every registration kept KEEP_DAYS (its erase_at reached); how many (would) go."""
    with storage.transaction() as tx:
        if dry_run:
            return tx.one("SELECT COUNT(*) FROM prepared_kept WHERE erase_at <= ?", (storage.timestamp(now),))[0]
        if not storage.postgres:
            tx.execute("PRAGMA secure_delete = ON")
        return tx.execute("DELETE FROM prepared_kept WHERE erase_at <= ?", (storage.timestamp(now),)).rowcount


def count(storage: Storage) -> int:
    with storage.read() as tx:
        return tx.one("SELECT COUNT(*) FROM prepared_kept")[0]
