"""Clerk accounts: who may unlock the clerk desk, with a PIN.

PINs are stored as scrypt hashes (a slow, memory-hard KDF from the standard library) whose
parameters and salt travel in the stored string, so they can be raised later without
breaking old hashes; hashes compare in constant time. After MAX_ATTEMPTS wrong PINs in a
row the account locks for LOCKOUT (each try is recorded in its own transaction, so a crash
or a restart does not reset the count). No Textual here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import Clerk, database_proxy, utc_now
from kiosk.domain.validation import FieldError, clean_text

MAX_ATTEMPTS = 5
MAX_DISPLAY_NAME = 40
LOCKOUT = timedelta(minutes=5)
# ~50 ms and 16 MiB per hash here: slow for a guesser with the file, quick for a clerk.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PIN_RE = re.compile(r"[0-9]{4,12}")
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")


class ClerkError(ValueError):
    """A clear message for the person at the desk or the terminal. `kind`: bad_pin_format,
    bad_username, bad_name, exists, unknown, wrong_pin, locked."""

    def __init__(self, kind: str, message: str, *, tries_left: int | None = None,
                 locked_until: datetime | None = None):
        super().__init__(message)
        self.kind, self.tries_left, self.locked_until = kind, tries_left, locked_until


@dataclass(frozen=True)
class ClerkInfo:
    id: int
    username: str
    display_name: str
    locked_until: datetime | None = None
    admin: bool = False  # may open the satisfaction screen (满意度统计)


# ---- PIN hashing -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, *, n: int | None = None, r: int | None = None, p: int | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64). The PIN's format is checked by the callers."""
    n, r, p = n or SCRYPT_N, r or SCRYPT_R, p or SCRYPT_P
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches the stored hash; False for a wrong PIN or a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        got = hashlib.scrypt(pin.encode("utf-8"), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r),
                             p=int(p), maxmem=256 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def normalise_pin(pin: str) -> str:
    """Full-width digits (an input method's) count as the ASCII ones."""
    return unicodedata.normalize("NFKC", pin or "")


def check_pin_format(pin: str) -> str:
    pin = normalise_pin(pin)
    if not PIN_RE.fullmatch(pin):
        raise ClerkError("bad_pin_format", "The PIN must be 4 to 12 digits.")
    return pin


# ---- accounts --------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise ClerkError("bad_username", "A user name is 1 to 32 lower-case letters, digits, '.', '_' or '-', "
                                         "starting with a letter or digit.")
    return name


def add_clerk(username: str, display_name: str, pin: str, now: datetime | None = None, *,
              admin: bool = False) -> ClerkInfo:
    """A new clerk (or a removed one back again, with a new PIN); `admin`: may open the
    satisfaction screen."""
    username = normalise_username(username)
    try:  # as every free text is cleaned: the name goes on slips and in events to central (U+202E refused)
        display_name = clean_text(display_name or "", required=True, max_length=MAX_DISPLAY_NAME)
    except FieldError:
        raise ClerkError("bad_name", f"The display name is required (at most {MAX_DISPLAY_NAME} characters, "
                                     "none of them a control, invisible or emoji character).") from None
    pin_hash = hash_pin(check_pin_format(pin))
    now = now or utc_now()
    with database_proxy.atomic():
        existing = Clerk.get_or_none(Clerk.username == username)
        if existing is not None and existing.removed_at is None:
            raise ClerkError("exists", f"There is already a clerk {username!r}.")
        if existing is not None:
            Clerk.update(display_name=display_name, pin_hash=pin_hash, failed_attempts=0, locked_until=None,
                         removed_at=None, admin=admin).where(Clerk.id == existing.id).execute()
            clerk_id = existing.id
        else:
            clerk_id = Clerk.insert(username=username, display_name=display_name, pin_hash=pin_hash,
                                    failed_attempts=0, created_at=now, admin=admin).execute()
    return ClerkInfo(clerk_id, username, display_name, admin=admin)


def remove_clerk(username: str, now: datetime | None = None) -> None:
    """The clerk can no longer unlock; the row stays, because events name it."""
    username = (username or "").strip().lower()
    done = Clerk.update(removed_at=now or utc_now()).where(
        (Clerk.username == username) & Clerk.removed_at.is_null()).execute()
    if not done:
        raise ClerkError("unknown", f"There is no clerk {username!r}.")


def set_admin(username: str, admin: bool) -> None:
    """Give or take the right to open the satisfaction screen; it counts from the next unlock."""
    username = (username or "").strip().lower()
    done = Clerk.update(admin=admin).where((Clerk.username == username) & Clerk.removed_at.is_null()).execute()
    if not done:
        raise ClerkError("unknown", f"There is no clerk {username!r}.")


def list_clerks() -> list[ClerkInfo]:
    return [ClerkInfo(c.id, c.username, c.display_name, c.locked_until, bool(c.admin))
            for c in Clerk.select().where(Clerk.removed_at.is_null()).order_by(Clerk.username)]


def unlock(username: str, pin: str, now: datetime | None = None, *, max_attempts: int = MAX_ATTEMPTS,
           lockout: timedelta = LOCKOUT) -> ClerkInfo:
    """The clerk, if the PIN is right and the account is not locked; else ClerkError
    (unknown, locked with `locked_until`, wrong_pin with `tries_left`)."""
    now = now or utc_now()
    username = (username or "").strip().lower()
    clerk = Clerk.get_or_none((Clerk.username == username) & Clerk.removed_at.is_null())
    if clerk is None:
        raise ClerkError("unknown", f"There is no clerk {username!r}.")
    if clerk.locked_until is not None and clerk.locked_until > now:
        raise ClerkError("locked", "Too many wrong PINs: the account is locked for a while.",
                         locked_until=clerk.locked_until)
    right = verify_pin(normalise_pin(pin), clerk.pin_hash)  # slow: outside the write transaction
    with database_proxy.atomic():
        if right:
            Clerk.update(failed_attempts=0, locked_until=None).where(Clerk.id == clerk.id).execute()
            return ClerkInfo(clerk.id, clerk.username, clerk.display_name, admin=bool(clerk.admin))
        # Counted in the database, not from what was read above: two desks trying at once
        # both count.
        Clerk.update(failed_attempts=Clerk.failed_attempts + 1).where(Clerk.id == clerk.id).execute()
        failed = Clerk.get_by_id(clerk.id).failed_attempts
        if failed >= max_attempts:
            until = now + lockout
            Clerk.update(failed_attempts=0, locked_until=until).where(Clerk.id == clerk.id).execute()
    if failed >= max_attempts:
        raise ClerkError("locked", "Too many wrong PINs: the account is locked for a while.", locked_until=until)
    raise ClerkError("wrong_pin", "Wrong PIN.", tries_left=max_attempts - failed)
