"""Back-office sessions: a random token (in an HttpOnly, SameSite=Strict cookie for a browser, or
as a bearer token for a script), stored as its SHA-256 hash like every token central keeps. A
session ends after IDLE without a request, after ABSOLUTE whatever, at sign-out, and when its
user is disabled or gets a new password.

A session's CSRF token is derived from the session token (an HMAC of it): bound to the session,
nothing more to store, and useless to a page that cannot read the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from kiosk.domain.clock import utc_now

from .accounts import USER_COLUMNS, OfficeUser
from .auth import hash_secret, new_token
from .storage import Storage, as_datetime

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# seen_at is written at most this often: a page of requests is not a write each.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    token: str
    user: OfficeUser

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), b"office form", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_token), presented or "")


def open_session(storage: Storage, user: OfficeUser) -> Session:
    """A new session for a signed-in user (the expired sessions of everyone go meanwhile)."""
    token, now = new_token(), utc_now()
    with storage.transaction() as tx:
        tx.execute("DELETE FROM office_session WHERE seen_at < ? OR created_at < ?",
                   (storage.timestamp(now - IDLE), storage.timestamp(now - ABSOLUTE)))
        tx.execute("INSERT INTO office_session (token_hash, user_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
                   (hash_secret(token), user.id, storage.timestamp(now), storage.timestamp(now)))
    return Session(token, user)


def find_session(storage: Storage, token: str | None) -> Session | None:
    """The live session of this token, its user active; None if there is none (or it expired:
    then it is deleted). Seen now."""
    if not token or len(token) > 200:
        return None
    digest, now = hash_secret(token), utc_now()
    with storage.read() as tx:  # autocommit: the rare writes below are one statement each
        row = tx.one(f"SELECT s.id, s.created_at, s.seen_at, {', '.join('u.' + c for c in USER_COLUMNS.split(', '))} "
                     "FROM office_session s JOIN office_user u ON u.id = s.user_id "
                     "WHERE s.token_hash = ? AND u.disabled_at IS NULL", (digest,))
        if row is None:
            return None
        created, seen = as_datetime(row[1]), as_datetime(row[2])
        if now - seen >= IDLE or now - created >= ABSOLUTE:
            tx.execute("DELETE FROM office_session WHERE id = ?", (row[0],))
            return None
        if now - seen >= TOUCH_EVERY:
            tx.execute("UPDATE office_session SET seen_at = ? WHERE id = ?", (storage.timestamp(now), row[0]))
    return Session(token, OfficeUser(*row[3:]))


def end_session(storage: Storage, token: str) -> None:
    with storage.transaction() as tx:
        tx.execute("DELETE FROM office_session WHERE token_hash = ?", (hash_secret(token),))
