"""The back office's users: a name, a role, a password.

Roles (what each may do is `PERMISSIONS`):
- director: everything, and the audit log (central/audit.py);
- clerk: the tickets and follow-ups, with the customers' names and phones; closing follow-ups;
- auditor: the figures only (counts, satisfaction), never a customer's name, phone or organisation.

Passwords are hashed with scrypt (memory-hard: 32 MiB and ~0.1 s a guess here), a salt per user,
the parameters stored with the hash so that raising them later leaves older hashes readable.
Sign-in failures lock a name out for LOCK_FOR after MAX_FAILURES in a row, and an address after
MAX_ADDRESS_FAILURES within LOCK_FOR (central/audit.py keeps the failures, with their address).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from kiosk.domain.clock import utc_now
from kiosk.domain.validation import FieldError, clean_text

from . import audit
from .storage import Storage, Tx, as_datetime

ROLES = ("director", "clerk", "auditor")
# figures: counts and satisfaction; personal: pages and CSVs with customers' names, phones and
# organisations; close: closing a follow-up; audit: reading the audit log.
PERMISSIONS = {"director": frozenset({"figures", "personal", "close", "audit"}),
               "clerk": frozenset({"figures", "personal", "close"}),
               "auditor": frozenset({"figures"})}

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # 128 * r * n bytes: 32 MiB a hash
SCRYPT_MAXMEM = 64 * 1024 * 1024  # OpenSSL's default ceiling (32 MiB) is just under what n=2**15 needs
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD, MAX_PASSWORD = 10, 1024
NAME = re.compile(r"[\w.@-]{1,64}")  # a sign-in name: letters (any script), digits, . @ - _
MAX_FULL_NAME = 200  # it goes out as a follow-up's clerk.name (central caps names at 200)
MAX_FAILURES, MAX_ADDRESS_FAILURES = 5, 20
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class OfficeUser:
    id: int | None  # None: not a stored user (the office token)
    name: str
    full_name: str
    role: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


class AccountError(Exception):
    """`code`: a key of central/messages.py (the CLI says it in zh or en)."""

    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code, self.values = code, values


class SignInRefused(Exception):
    """`locked`: too many failures (of this name or from this address); else a wrong name or password."""

    def __init__(self, locked: bool = False):
        super().__init__("locked" if locked else "wrong")
        self.locked = locked


# ---- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`, salt and key in base64."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)))


def password_matches(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@cache
def _nobody() -> str:
    """A hash to check a password against when the name is nobody's: a wrong name takes as long
    as a wrong password, so timing does not tell which names exist."""
    return hash_password(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError("weak_password", min=MIN_PASSWORD)
    return password


# ---- users ----------------------------------------------------------------------------------

USER_COLUMNS = "id, name, full_name, role"


def add_user(storage: Storage, name: str, role: str | None, password: str, full_name: str = "") -> OfficeUser:
    """A new user. `role` None: a director if there is no active one (the first), else an error."""
    name = _checked_name(name)
    full_name = _checked_full_name(full_name or name)
    check_password(password)
    hashed = hash_password(password)
    now = utc_now()
    with storage.transaction() as tx:
        if role is None:
            if _active_directors(tx):
                raise AccountError("role_needed")
            role = "director"
        if role not in ROLES:
            raise AccountError("bad_user_role", roles=", ".join(ROLES))
        if tx.one("SELECT 1 FROM office_user WHERE name = ?", (name,)):
            raise AccountError("user_exists", name=name)
        user_id = tx.one("INSERT INTO office_user (name, full_name, role, password_hash, created_at, password_set_at) "
                         "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                         (name, full_name, role, hashed, storage.timestamp(now), storage.timestamp(now)))[0]
    return OfficeUser(user_id, name, full_name, role)


def set_password(storage: Storage, name: str, password: str) -> None:
    """A new password; the user's sessions end and a lock-out is lifted."""
    check_password(password)
    hashed = hash_password(password)
    with storage.transaction() as tx:
        user_id = _user_id(tx, name)
        tx.execute("UPDATE office_user SET password_hash = ?, password_set_at = ?, failures = 0, locked_until = NULL "
                   "WHERE id = ?", (hashed, storage.timestamp(utc_now()), user_id))
        tx.execute("DELETE FROM office_session WHERE user_id = ?", (user_id,))


def disable_user(storage: Storage, name: str) -> None:
    """The user can no longer sign in; their sessions end. Kept: the audit log names them."""
    with storage.transaction() as tx:
        user_id = _user_id(tx, name)
        tx.execute("UPDATE office_user SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                   (storage.timestamp(utc_now()), user_id))
        tx.execute("DELETE FROM office_session WHERE user_id = ?", (user_id,))


def list_users(storage: Storage) -> list[dict]:
    with storage.read() as tx:
        rows = tx.all("SELECT name, full_name, role, created_at, disabled_at, locked_until FROM office_user "
                      "ORDER BY name")
    return [{"name": r[0], "full_name": r[1], "role": r[2], "created_at": _iso(r[3]), "disabled_at": _iso(r[4]),
             "locked_until": _iso(r[5])} for r in rows]


def has_users(storage: Storage) -> bool:
    with storage.read() as tx:
        return tx.one("SELECT 1 FROM office_user WHERE disabled_at IS NULL LIMIT 1") is not None


def _active_directors(tx: Tx) -> int:
    return tx.one("SELECT COUNT(*) FROM office_user WHERE role = 'director' AND disabled_at IS NULL")[0]


def _user_id(tx: Tx, name: str) -> int:
    row = tx.one("SELECT id FROM office_user WHERE name = ?", (name,))
    if row is None:
        raise AccountError("no_user", name=name)
    return row[0]


def _checked_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError("bad_user_name")
    return name


def _checked_full_name(full_name: str) -> str:
    try:
        return clean_text(full_name, required=True, max_length=MAX_FULL_NAME)
    except FieldError:
        raise AccountError("bad_full_name", max=MAX_FULL_NAME) from None


def _iso(value) -> str | None:
    moment = as_datetime(value)
    return None if moment is None else moment.isoformat()


# ---- signing in -----------------------------------------------------------------------------


def sign_in(storage: Storage, name: str, password: str, address: str | None) -> OfficeUser:
    """The active user with this name and password. SignInRefused otherwise (each failure is
    recorded; a name or an address with too many is refused for LOCK_FOR without a check)."""
    now = utc_now()
    typed = "".join(ch if ch.isprintable() else "?" for ch in name)  # for the log: no NUL, no escape
    with storage.read() as tx:
        row = tx.one(f"SELECT {USER_COLUMNS}, password_hash, locked_until FROM office_user "
                     "WHERE name = ? AND disabled_at IS NULL", (name,)) if NAME.fullmatch(name) else None
        address_failures = audit.failures_from(tx, storage, address, now - LOCK_FOR)
    if address_failures >= MAX_ADDRESS_FAILURES or (row is not None and _locked(row[5], now)):
        audit.record(storage, None, "sign_in_failed", "/office/login", who=typed, address=address, at=now)
        raise SignInRefused(locked=True)
    if not password_matches(row[4] if row else _nobody(), password) or row is None:
        if row is not None:
            _count_failure(storage, row[0], now)
        audit.record(storage, None, "sign_in_failed", "/office/login", who=typed, address=address, at=now)
        raise SignInRefused()
    user = OfficeUser(*row[:4])
    with storage.transaction() as tx:
        tx.execute("UPDATE office_user SET failures = 0, locked_until = NULL WHERE id = ?", (user.id,))
    audit.record(storage, user, "sign_in", "/office/login", address=address, at=now)
    return user


def _locked(until, now: datetime) -> bool:
    until = as_datetime(until)
    return until is not None and until > now


def _count_failure(storage: Storage, user_id: int, now: datetime) -> None:
    with storage.transaction() as tx:
        failures = tx.one("UPDATE office_user SET failures = failures + 1 WHERE id = ? RETURNING failures",
                          (user_id,))[0]
        if failures >= MAX_FAILURES:
            tx.execute("UPDATE office_user SET failures = 0, locked_until = ? WHERE id = ?",
                       (storage.timestamp(now + LOCK_FOR), user_id))
