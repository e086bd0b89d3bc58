"""The maintenance PIN (F12 + the PIN leaves the kiosk), kept in the `setting` table as a scrypt
hash made and checked by the clerks' code (kiosk/store/clerks.py); `kiosk maintenance-pin set`
sets it. Until one is set, the default DEFAULT_PIN opens the kiosk (`kiosk doctor` fails that
outside a demo).

Guessing is slowed by a lock-out: the FREE_TRIES-th wrong PIN in a row locks the prompt for
FIRST_DELAY, each further one for twice as long as the last, up to LONGEST_DELAY; a right PIN
starts over. While locked, no PIN is checked at all. The count and the lock's end are stored, and
each attempt is counted (as wrong) in its own transaction *before* the PIN is checked, so
closing the prompt, restarting the kiosk or pulling the plug mid-check resets nothing; an
attempt that cannot be recorded (a full or read-only disk) is not checked. Every attempt is
logged, right, wrong or locked, with counts and waits, never the PIN. No Textual here.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import Setting, database_proxy, utc_now
from kiosk.store.clerks import check_pin_format, hash_pin, normalise_pin, verify_pin

log = logging.getLogger(__name__)

# Setting keys (not dotted: dotted words are message keys).
HASH_KEY = "maintenance_pin_hash"
LOCKOUT_KEY = "maintenance_pin_lockout"  # "<wrong in a row> <lock's end, ISO UTC, or ->"
DEFAULT_PIN = "0000"
FREE_TRIES = 5
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)


class MaintenancePinError(ValueError):
    """A PIN that cannot be set: not 4-12 digits, or the default."""


@dataclass(frozen=True)
class Lockout:
    failed: int = 0  # wrong PINs in a row
    until: datetime | None = None  # no PIN is checked before this (UTC)

    def wait(self, now: datetime) -> timedelta | None:
        """How long until a PIN is checked again; None: now."""
        return self.until - now if self.until is not None and self.until > now else None

    def clamped(self, now: datetime) -> Lockout:
        """Ending no later than its delay after `now`: a wall clock set back (a dead clock
        battery, then the network's time) must not stretch a lock-out to months."""
        delay = delay_after(self.failed)
        if self.until is None or delay is None or self.until - now <= delay:
            return self
        return Lockout(self.failed, now + delay)


@dataclass(frozen=True)
class Attempt:
    outcome: str  # right | wrong | locked | unrecorded (not checked: the attempt could not be stored)
    wait: timedelta | None = None  # locked, or this wrong PIN started a lock-out: until the next check
    tries_left: int | None = None  # wrong without a lock-out: wrong PINs left before one


def delay_after(failed: int) -> timedelta | None:
    """The lock-out that follows `failed` wrong PINs in a row (None: no lock-out yet)."""
    if failed < FREE_TRIES:
        return None
    return min(FIRST_DELAY * 2 ** min(failed - FREE_TRIES, 16), LONGEST_DELAY)


def pin_is_set() -> bool:
    return Setting.select().where(Setting.key == HASH_KEY).exists()


def lockout() -> Lockout:
    row = Setting.get_or_none(Setting.key == LOCKOUT_KEY)
    return parse_lockout(row.value if row else None)


def parse_lockout(value: str | None) -> Lockout:
    """The stored lock-out; anything unreadable counts as a lock-out's worth of wrong PINs."""
    if not value:
        return Lockout()
    try:
        failed, until = value.split(" ")
        return Lockout(int(failed), None if until == "-" else datetime.fromisoformat(until))
    except ValueError:
        return Lockout(FREE_TRIES, utc_now() + FIRST_DELAY)


def lockout_at(now: datetime) -> Lockout:
    """The lock-out as it stands at `now`, clamped (Lockout.clamped), and stored so if it was."""
    stored = lockout()
    state = stored.clamped(now)
    if state != stored:
        _put_lockout(state)
    return state


def remaining(now: datetime | None = None) -> timedelta | None:
    """How long the prompt stays locked (None: not locked), for the prompt as it opens."""
    now = now or utc_now()
    with database_proxy.atomic():
        return lockout_at(now).wait(now)


def _put_lockout(state: Lockout) -> None:
    until = state.until.isoformat() if state.until else "-"
    Setting.insert(key=LOCKOUT_KEY, value=f"{state.failed} {until}").on_conflict_replace().execute()


def set_pin(pin: str) -> None:
    """Hash and store a new PIN (4-12 digits, not the default); any lock-out ends."""
    try:
        pin = check_pin_format(pin)
    except ValueError as e:
        raise MaintenancePinError(str(e)) from None
    if pin == DEFAULT_PIN:
        raise MaintenancePinError(f"{DEFAULT_PIN} is the default everyone knows: choose another PIN.")
    pin_hash = hash_pin(pin)
    with database_proxy.atomic():
        Setting.insert(key=HASH_KEY, value=pin_hash).on_conflict_replace().execute()
        _put_lockout(Lockout())
    log.warning("maintenance PIN set; lock-out cleared", extra={"outcome": "set"})


def take_config_pin(pin: str | None) -> str | None:
    """The PIN of an older configuration (kiosk.maintenance_pin, plain text): hashed into the
    database if none is set there ("migrated"), else unused ("ignored"); either way it should
    leave the file. None: nothing to take (none given, or the default)."""
    if pin is None or normalise_pin(pin) == DEFAULT_PIN:
        return None
    if pin_is_set():
        log.warning("kiosk.maintenance_pin in the configuration is not used (the database has the PIN): "
                    "remove it from the file", extra={"outcome": "config_ignored"})
        return "ignored"
    set_pin(pin)
    log.warning("kiosk.maintenance_pin moved from the configuration into the database (hashed): remove it "
                "from the file", extra={"outcome": "config_migrated"})
    return "migrated"


def try_pin(pin: str, now: datetime | None = None) -> Attempt:
    """Check a PIN typed at the prompt, unless locked out. Raises only if the database cannot
    even be read; a full or read-only one gives `unrecorded`."""
    now = now or utc_now()
    try:
        with database_proxy.atomic():
            before = lockout_at(now)
            wait = before.wait(now)
            failed = before.failed + 1
            if wait is None:
                # Counted as wrong before it is checked: a crash in between cannot give a free try.
                delay = delay_after(failed)
                _put_lockout(Lockout(failed, now + delay if delay else None))
    except Exception as e:
        from db.backup import problem_kind

        kind = problem_kind(e)
        if kind is None:
            raise
        log.error("maintenance PIN not checked: the attempt cannot be recorded (%s)", kind,
                  extra={"outcome": "unrecorded", "problem": kind})
        return Attempt("unrecorded")
    if wait is not None:
        log.warning("maintenance PIN refused unchecked: locked for %d s more after %d wrong in a row",
                    _seconds(wait), before.failed, extra={"outcome": "locked", "failed": before.failed})
        return Attempt("locked", wait)
    stored = Setting.get_or_none(Setting.key == HASH_KEY)
    typed = normalise_pin(pin)
    if stored is not None:
        right = verify_pin(typed, stored.value)
    else:
        right = hmac.compare_digest(typed.encode(), DEFAULT_PIN.encode())
    if right:
        try:
            _put_lockout(Lockout())
        except Exception:  # the exit goes ahead; the count is reset at the next right PIN
            log.exception("maintenance PIN right, but the count of wrong PINs could not be reset")
        log.info("maintenance PIN right%s", "" if stored else " (none set: the default)",
                    extra={"outcome": "right", "failed": before.failed})
        return Attempt("right")
    delay = delay_after(failed)
    log.warning("maintenance PIN wrong: %d in a row%s", failed,
                f"; locked for {_seconds(delay)} s" if delay else "",
                extra={"outcome": "wrong", "failed": failed})
    if delay is not None:
        return Attempt("wrong", wait=delay)
    return Attempt("wrong", tries_left=FREE_TRIES - failed)


def _seconds(wait: timedelta) -> int:
    return int(wait.total_seconds() + 0.999)
