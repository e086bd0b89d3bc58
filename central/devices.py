"""Devices: one-time enrolment codes, enrolment, revocation, the list, "last seen".

`kiosk central add-device --role kiosk --site main` makes a code bound to that role and site
(only its hash is kept; it expires). The device sends it once with its uid, ticket-number
prefix and Ed25519 public key, signed with that key (kiosk/domain/enrolment.py: the code is
the challenge), and gets a token (central/tokens.py). Enrolling publishes `device.key` so every
desk can verify that device's ticket codes offline; revoking publishes `device.revoked` and the
token stops working at once.

Enrolling an enrolled uid again (a lost token) takes that device's own key and a code of its
role and site, and keeps its prefix: nobody can take another device's uid, role or site.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.clock import utc_now
from kiosk.domain.enrolment import normalise_code, proof_message

from . import feed
from .auth import hash_secret, new_code
from .settings import sites
from .storage import Storage, as_datetime, ts
from .tokens import issue
from .words import is_uuid

ROLES = ("kiosk", "clerk")
CODE_DAYS = 7
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,8}$")
TOUCH_SECONDS = 2  # "last seen" is written at most this often per device
PARKED_HEADER = "x-parked"  # what a device keeps parked (kiosk/sync/client.py PARKED_HEADER)
REASON_RE = re.compile(r"^[a-z0-9_]{1,40}$")
MAX_REASONS = 5
MAX_COUNT = 10**9

log = logging.getLogger("central")


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
    expires_at: datetime


def add_device(storage: Storage, role: str, name: str = "", days: int = CODE_DAYS, site: str | None = None) -> str:
    """A one-time enrolment code for a device of `role` at `site` (default: the first site);
    valid for `days`."""
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    site = site or sites()[0]
    if site not in sites():
        raise ValueError(f"site: one of {', '.join(sites())}")
    code, now = new_code(), utc_now()
    with storage.transaction() as tx:
        tx.execute("INSERT INTO enrolment (code_hash, role, name, site, created_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (hash_secret(normalise_code(code)), role, name.strip()[:100], site, ts(now),
                    ts(now + timedelta(days=days))))
    return code


def _public_key(text: str) -> tuple[str, object]:
    """The key as stored (canonical base64) and as cryptography's object; EnrolError if bad."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32:
        raise EnrolError(422, "bad_key", "public_key: base64 of the raw 32-byte Ed25519 public key")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise EnrolError(422, "bad_key", "public_key: not an Ed25519 public key") from None
    return base64.b64encode(raw).decode("ascii"), key


def _check_proof(key, signature: str | None, message: bytes) -> None:
    """The device holds the private half of `key`: it signed `message`. EnrolError(403) if not."""
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(signature or "", validate=True), message)
    except (InvalidSignature, ValueError, TypeError):
        raise EnrolError(403, "bad_proof", "signature: not this code, uid, prefix and key signed with the "
                                           "device's private key (kiosk/domain/enrolment.py)") from None


def enroll(storage: Storage, code: str, device_uid: str, prefix: str, public_key: str,
           signature: str | None) -> Enrolled:
    """Use a code once: the device's token (only its hash is stored). Refusals: EnrolError; a
    refused enrolment leaves the code unused."""
    if not is_uuid(device_uid):
        raise EnrolError(422, "bad_device_uid", "device_uid: a UUID in canonical lower-case form")
    if not PREFIX_RE.match(prefix or ""):
        raise EnrolError(422, "bad_prefix", "prefix: 1–8 capital letters or digits")
    stored_key, key = _public_key(public_key)
    # Before the code is touched: a wrong try does not burn it.
    _check_proof(key, signature, proof_message(code, device_uid, prefix, public_key))
    now = utc_now()
    issued = issue(now)
    try:
        with storage.transaction() as tx:
            # Claiming the code and checking it are one statement: two devices racing with
            # the same code cannot both win. A refusal below rolls the claim back.
            claimed = tx.one("UPDATE enrolment SET used_at = ? WHERE code_hash = ? AND used_at IS NULL "
                             "AND expires_at > ? RETURNING id, role, name, site",
                             (ts(now), hash_secret(normalise_code(code)), ts(now)))
            if claimed is None:
                raise EnrolError(403, "bad_code", "the enrolment code is unknown, already used or expired")
            enrolment_id, role, name, site = claimed
            known = tx.one("SELECT id, public_key, revoked_at, role, site, prefix, name FROM device WHERE uid = ?",
                           (device_uid,))
            if known is not None:
                device_id, name = _enrol_again(known, stored_key, role, site, prefix, name)
                tx.execute("UPDATE device SET token_hash = ?, token_expires_at = ?, previous_token_hash = NULL, "
                           "previous_token_expires_at = NULL, name = ? WHERE id = ?",
                           (hash_secret(issued.token), ts(issued.expires_at), name, device_id))
            else:
                taken = tx.one("SELECT uid FROM device WHERE prefix = ?", (prefix,))
                if taken is not None:
                    raise EnrolError(409, "prefix_taken", f"prefix {prefix} belongs to another device: ticket "
                                                          "numbers would collide")
                device_id = tx.one(
                    "INSERT INTO device (uid, name, role, prefix, public_key, token_hash, token_expires_at, site, "
                    "enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (device_uid, name, role, prefix, stored_key, hash_secret(issued.token), ts(issued.expires_at),
                     site, ts(now)))[0]
            tx.execute("UPDATE enrolment SET device_id = ? WHERE id = ?", (device_id, enrolment_id))
            feed.publish(tx, "device.key", data={"device_uid": device_uid, "public_key": stored_key, "role": role,
                                                 "prefix": prefix, "name": name})
    except storage.integrity_errors:
        # Two devices enrolling with one prefix at the same moment: the loser is told so.
        raise EnrolError(409, "prefix_taken", f"prefix {prefix} belongs to another device") from None
    return Enrolled(issued.token, device_uid, role, issued.expires_at)


def _enrol_again(known, key: str, role: str, site: str, prefix: str, name: str) -> tuple[int, str]:
    """An enrolled device asking for a new token (it lost its own): only as itself, unchanged.
    (its id, the name to keep); EnrolError when anything would change."""
    device_id, known_key, revoked_at, known_role, known_site, known_prefix, known_name = known
    if revoked_at is not None:
        raise EnrolError(403, "revoked", "this device was revoked; enrol it under a new device id")
    if known_key != key:
        raise EnrolError(409, "key_changed", "this device is enrolled with another public key")
    if known_role != role:
        raise EnrolError(409, "role_changed", f"this device is enrolled as {known_role}; the code is for {role}")
    if known_site != site:
        raise EnrolError(409, "site_changed", f"this device serves site {known_site}; the code is for {site}")
    if known_prefix != prefix:
        raise EnrolError(409, "prefix_changed", f"this device's prefix is {known_prefix}: its ticket numbers "
                                                "keep it")
    return device_id, name or known_name


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
        rows = tx.all("SELECT uid, name, role, prefix, site, enrolled_at, revoked_at, last_seen_at, last_push_at, "
                      "last_pull_at, token_expires_at FROM device ORDER BY enrolled_at, id")
    keys = ("uid", "name", "role", "prefix", "site", "enrolled_at", "revoked_at", "last_seen_at", "last_push_at",
            "last_pull_at", "token_expires_at")
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


def parse_parked(header: str | None) -> tuple[int, int, str] | None:
    """`events=N;changes=N;reasons=a,b` (kiosk/sync/outbox.py ParkedReport.header) as (events,
    changes, reasons joined by commas), or None when absent or not that: a device's report is
    for the back office's alerts, never a reason to refuse its pull. Reason names only."""
    if not header or len(header) > 400:
        return None
    fields = dict(part.partition("=")[::2] for part in header.split(";"))
    try:
        events, changes = int(fields["events"]), int(fields["changes"])
    except (KeyError, ValueError):
        return None
    if not (0 <= events <= MAX_COUNT and 0 <= changes <= MAX_COUNT):
        return None
    reasons = [r for r in (fields.get("reasons") or "").split(",") if REASON_RE.match(r)][:MAX_REASONS]
    return events, changes, ",".join(reasons)


def record_parked(storage: Storage, device, header: str | None) -> None:
    """Keep what the device says it holds parked on its row, written only when it changed (a
    pull is usually a read). `device`: auth.Device."""
    report = parse_parked(header)
    if report is None:
        return
    events, changes, reasons = report
    with storage.read() as tx:  # one autocommit statement
        tx.execute("UPDATE device SET parked_events = ?, parked_changes = ?, parked_reasons = ?, "
                   "parked_reported_at = ? WHERE id = ? AND (parked_reported_at IS NULL OR parked_events <> ? "
                   "OR parked_changes <> ? OR parked_reasons <> ?)",
                   (events, changes, reasons, ts(utc_now()), device.id, events, changes, reasons))


def record_refused(storage: Storage, device, words: list[str]) -> None:
    """Count the events central refused of this device (the device parks them), with the
    refusal's stable words, for the back office's alerts."""
    names = ",".join(sorted({w for w in words if REASON_RE.match(w)})[:MAX_REASONS])
    with storage.read() as tx:  # one autocommit statement
        tx.execute("UPDATE device SET refused_events = refused_events + ?, refused_at = ?, refused_reasons = ? "
                   "WHERE id = ?", (len(words), ts(utc_now()), names, device.id))
