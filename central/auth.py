"""Secrets: device tokens (central/tokens.py: their life), one-time enrolment codes and the
office token. Only their SHA-256 hashes are stored; a database leak gives no working
credential. These are long random values, not passwords, so a fast hash is the right one
(nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .storage import Storage

# Digits and capitals a person cannot misread (no 0/O, 1/I/L): codes are typed by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4  # XXXX-XXXX-XXXX-XXXX: 16 characters, ~79 bits
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Device:
    id: int
    uid: str
    role: str
    prefix: str
    name: str
    seen_at: object = None  # last_seen_at / last_pull_at as stored (central/devices.py touch)
    pulled_at: object = None
    site: str = "main"  # the site it serves (central/settings.py sites()): a desk pulls only its site's work


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def office_token_matches(storage: Storage, presented: str | None) -> bool:
    if not presented or len(presented) > 200:
        return False
    with storage.read() as tx:
        row = tx.one("SELECT value FROM central_meta WHERE key = 'office_token_hash'")
    return row is not None and hmac.compare_digest(row[0], hash_secret(presented))


def rotate_office_token(storage: Storage) -> str:
    """A new office token; the previous one stops working."""
    token = new_token()
    with storage.transaction() as tx:
        tx.execute("DELETE FROM central_meta WHERE key = 'office_token_hash'")
        tx.execute("INSERT INTO central_meta (key, value) VALUES ('office_token_hash', ?)", (hash_secret(token),))
    return token
