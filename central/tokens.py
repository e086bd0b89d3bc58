"""Device tokens: issued at enrolment for TOKEN_LIFETIME (kiosk/domain/enrolment.py), renewed by
the device while it syncs (`POST /api/v1/token`); only their hashes are stored.

Renewing never locks a device out: the token it presented stays good until the new one is
first used, or for PREVIOUS_GRACE (never past its own expiry). An answer lost on the way
therefore changes nothing: the device still holds a good token and asks again. A token issued
before schema 4 has no expiry: it keeps working and gets one on first use (now + lifetime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.clock import utc_now
from kiosk.domain.enrolment import TOKEN_LIFETIME

from .auth import Device, hash_secret, new_token
from .storage import Storage, as_datetime, ts

PREVIOUS_GRACE = timedelta(days=7)
# A renewal presenting the previous token this soon after the last renewal is refused (409
# `renewing`): the same request delivered twice must not replace the token the device got
# with one it never sees. A device whose answer was lost simply asks again on a later pass.
RENEW_AGAIN = timedelta(minutes=1)
DEVICE_COLUMNS = "id, uid, role, prefix, name, last_seen_at, last_pull_at, site"


class TokenRefused(Exception):
    """`status` 401 (`error` bad_token | token_expired) or 409 (renewing); str(): for people."""

    def __init__(self, error: str, message: str, status: int = 401):
        self.error, self.status = error, status
        super().__init__(message)


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


def issue(now: datetime) -> Issued:
    return Issued(new_token(), now + TOKEN_LIFETIME)


def _unknown() -> TokenRefused:
    return TokenRefused("bad_token", "a valid device token is required (Authorization: Bearer TOKEN)")


def _expired() -> TokenRefused:
    return TokenRefused("token_expired", "this device's token has expired: enrol the device again (kiosk enroll)")


def authenticate(storage: Storage, token: str | None) -> Device:
    """The enrolled, unrevoked device this token belongs to: its current token or, until the
    current one is first used, the previous one. TokenRefused otherwise."""
    if not token or len(token) > 200:
        raise _unknown()
    digest, now = hash_secret(token), utc_now()
    with storage.read() as tx:  # autocommit: the rare writes below are one statement each
        row = tx.one(f"SELECT {DEVICE_COLUMNS}, token_expires_at, previous_token_hash FROM device "
                     "WHERE token_hash = ? AND revoked_at IS NULL", (digest,))
        if row is not None:
            expires, previous = as_datetime(row[8]), row[9]
            if expires is None:  # issued before tokens expired: its life starts now
                tx.execute("UPDATE device SET token_expires_at = ? WHERE id = ? AND token_expires_at IS NULL",
                           (ts(now + TOKEN_LIFETIME), row[0]))
            elif expires <= now:
                raise _expired()
            if previous is not None:  # the new token's first use: the previous one stops
                tx.execute("UPDATE device SET previous_token_hash = NULL, previous_token_expires_at = NULL "
                           "WHERE id = ? AND token_hash = ?", (row[0], digest))
            return Device(*row[:8])
        # Not indexed: asked only for a token that is not anyone's current one (tens of devices).
        row = tx.one(f"SELECT {DEVICE_COLUMNS}, previous_token_expires_at FROM device "
                     "WHERE previous_token_hash = ? AND revoked_at IS NULL", (digest,))
    if row is None:
        raise _unknown()
    if as_datetime(row[8]) <= now:
        raise _expired()
    return Device(*row[:8])


def renew(storage: Storage, token: str | None) -> Issued:
    """A new token for the device holding `token` (its current or previous one); the presented
    one stays good until the new one is first used or PREVIOUS_GRACE passes."""
    if token is None:  # none presented (the route's `me` has refused that already): as `authenticate`
        raise _unknown()
    digest, now = hash_secret(token), utc_now()
    lock = " FOR UPDATE" if storage.postgres else ""  # SQLite: BEGIN IMMEDIATE serialises already
    with storage.transaction() as tx:
        row = tx.one("SELECT id, token_hash, token_expires_at, previous_token_expires_at FROM device "
                     f"WHERE (token_hash = ? OR previous_token_hash = ?) AND revoked_at IS NULL{lock}",
                     (digest, digest))
        if row is None:
            raise _unknown()
        device_id, current, current_expires, previous_expires = row
        current_expires = as_datetime(current_expires)
        if current == digest:
            presented_expires = current_expires or now + TOKEN_LIFETIME
        else:
            if current_expires is not None and current_expires - TOKEN_LIFETIME > now - RENEW_AGAIN:
                raise TokenRefused("renewing", "a new token was issued moments ago; ask again later", 409)
            presented_expires = as_datetime(previous_expires)
        if presented_expires <= now:
            raise _expired()
        issued = issue(now)
        # The token the device got but never used (a lost answer) is simply forgotten.
        tx.execute("UPDATE device SET token_hash = ?, token_expires_at = ?, previous_token_hash = ?, "
                   "previous_token_expires_at = ? WHERE id = ?",
                   (hash_secret(issued.token), ts(issued.expires_at), digest,
                    ts(min(presented_expires, now + PREVIOUS_GRACE)), device_id))
    return issued
