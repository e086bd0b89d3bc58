"""Devices: one-time enrolment codes, enrolment, revocation, the list, "last seen".

`kiosk central add-device --role kiosk` makes a code (only its hash is kept; it expires);
the device sends it once with its uid, ticket-number prefix and Ed25519 public key and gets
a token. Enrolling publishes `device.key` so every desk can verify that device's ticket
codes offline; revoking publishes `device.revoked` and the token stops working at once.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import timedelta

from kiosk.domain.clock import utc_now

from . import feed
from .auth import hash_secret, new_code, new_token, normalise_code
from .storage import Storage, as_datetime, ts
from .words import is_uuid

ROLES = ("kiosk", "clerk")
CODE_DAYS = 7
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,8}$")
TOUCH_SECONDS = 2  # "last seen" is written at most this often per device


class EnrolError(Exception):
    """`status`: the HTTP status; `code`: a stable word; str(): for people."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


@dataclass(frozen=True)
class Enrolled:
    token: str
    device_uid: str
    role: str


def add_device(storage: Storage, role: str, name: str = "", days: int = CODE_DAYS) -> str:
    """A one-time enrolment code for a device of `role`; valid for `days`."""
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    code, now = new_code(), utc_now()
    with storage.transaction() as tx:
        tx.execute("INSERT INTO enrolment (code_hash, role, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                   (hash_secret(normalise_code(code)), role, name.strip()[:100], ts(now),
                    ts(now + timedelta(days=days))))
    return code


def _public_key(text: str) -> str:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32:
        raise EnrolError(422, "bad_key", "public_key: base64 of the raw 32-byte Ed25519 public key")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise EnrolError(422, "bad_key", "public_key: not an Ed25519 public key") from None
    return base64.b64encode(raw).decode("ascii")


def enroll(storage: Storage, code: str, device_uid: str, prefix: str, public_key: str) -> Enrolled:
    """Use a code once: the device's token (only its hash is stored). Refusals: EnrolError."""
    if not is_uuid(device_uid):
        raise EnrolError(422, "bad_device_uid", "device_uid: a UUID in canonical lower-case form")
    if not PREFIX_RE.match(prefix or ""):
        raise EnrolError(422, "bad_prefix", "prefix: 1–8 capital letters or digits")
    key = _public_key(public_key)
    token, now = new_token(), utc_now()
    try:
        with storage.transaction() as tx:
            # Claiming the code and checking it are one statement: two devices racing with
            # the same code cannot both win.
            claimed = tx.one("UPDATE enrolment SET used_at = ? WHERE code_hash = ? AND used_at IS NULL "
                             "AND expires_at > ? RETURNING id, role, name",
                             (ts(now), hash_secret(normalise_code(code)), ts(now)))
            if claimed is None:
                raise EnrolError(403, "bad_code", "the enrolment code is unknown, already used or expired")
            enrolment_id, role, name = claimed
            known = tx.one("SELECT id, public_key, revoked_at FROM device WHERE uid = ?", (device_uid,))
            taken = tx.one("SELECT uid FROM device WHERE prefix = ?", (prefix,))
            if taken is not None and taken[0] != device_uid:
                raise EnrolError(409, "prefix_taken", f"prefix {prefix} belongs to another device: ticket "
                                                      "numbers would collide")
            if known is not None:
                device_id, known_key, revoked_at = known
                if revoked_at is not None:
                    raise EnrolError(403, "revoked", "this device was revoked; enrol it under a new device id")
                if known_key != key:
                    raise EnrolError(409, "key_changed", "this device is enrolled with another public key")
                tx.execute("UPDATE device SET token_hash = ?, role = ?, name = ?, prefix = ? WHERE id = ?",
                           (hash_secret(token), role, name, prefix, device_id))
            else:
                device_id = tx.one(
                    "INSERT INTO device (uid, name, role, prefix, public_key, token_hash, enrolled_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (device_uid, name, role, prefix, key, hash_secret(token), ts(now)))[0]
            tx.execute("UPDATE enrolment SET device_id = ? WHERE id = ?", (device_id, enrolment_id))
            feed.publish(tx, "device.key", data={"device_uid": device_uid, "public_key": key, "role": role,
                                                 "prefix": prefix, "name": name})
    except storage.integrity_errors:
        # Two devices enrolling with one prefix at the same moment: the loser is told so.
        raise EnrolError(409, "prefix_taken", f"prefix {prefix} belongs to another device") from None
    return Enrolled(token, device_uid, role)


def revoke(storage: Storage, device_uid: str) -> bool:
    """Revoke a device: its token stops working; False if unknown or already revoked."""
    now = utc_now()
    with storage.transaction() as tx:
        row = tx.one("UPDATE device SET revoked_at = ?, token_hash = NULL WHERE uid = ? AND revoked_at IS NULL "
                     "RETURNING id", (ts(now), device_uid))
        if row is None:
            return False
        feed.publish(tx, "device.revoked", data={"device_uid": device_uid, "revoked_at": ts(now)})
    return True


def list_devices(storage: Storage) -> list[dict]:
    with storage.read() as tx:
        rows = tx.all("SELECT uid, name, role, prefix, enrolled_at, revoked_at, last_seen_at, last_push_at, "
                      "last_pull_at FROM device ORDER BY enrolled_at, id")
    keys = ("uid", "name", "role", "prefix", "enrolled_at", "revoked_at", "last_seen_at", "last_push_at",
            "last_pull_at")
    return [{k: (_iso(v) if k.endswith("_at") else v) for k, v in zip(keys, row)} for row in rows]


def _iso(value) -> str | None:
    value = as_datetime(value)
    return None if value is None else ts(value)


def stale(last, now) -> bool:
    """Whether a "last seen" time is worth writing again (TOUCH_SECONDS old, or none)."""
    return last is None or now - as_datetime(last) >= timedelta(seconds=TOUCH_SECONDS)


def touch(storage: Storage, device, *, pulled: bool = False) -> None:
    """Record that the device was seen (and pulled), at most every TOUCH_SECONDS: a device
    paging through the feed does not write on every page. `device`: auth.Device."""
    now = utc_now()
    if not stale(device.pulled_at if pulled else device.seen_at, now):
        return
    column = ", last_pull_at = ?" if pulled else ""
    with storage.read() as tx:  # one autocommit statement
        tx.execute(f"UPDATE device SET last_seen_at = ?{column} WHERE id = ?",
                   (ts(now), *((ts(now),) if pulled else ()), device.id))
