"""Identifiers minted offline without collisions: UUIDv7 for records, readable ticket numbers."""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

# Letters and digits a clerk cannot misread (no I/O/0/1) and every scanner types alike.
PREFIX_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# UUIDv7's fields in its 128 bits: what the time and the random bits keep, and the version and variant.
_KEPT = (0xFFFF_FFFF_FFFF << 80) | (0xFFF << 64) | ((1 << 62) - 1)  # 48 bits of time, rand_a (12), rand_b (62)
_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)


def uuid7() -> str:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random bits; sorts by creation time."""
    value = ((time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")) & _KEPT | _VERSION_VARIANT
    h = value.to_bytes(16, "big").hex()  # what str(uuid.UUID(int=value)) writes, without building the UUID
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def derive_prefix(device_uid: str, length: int = 3) -> str:
    """A short device prefix from the random part of the device id."""
    n = uuid.UUID(device_uid).int & ((1 << 62) - 1)
    chars = []
    for _ in range(length):
        n, r = divmod(n, len(PREFIX_ALPHABET))
        chars.append(PREFIX_ALPHABET[r])
    return "".join(chars)


def ticket_number(prefix: str, day: date, sequence: int) -> str:
    """e.g. K7Q-261124-0007: device, local date, the day's sequence on that device."""
    return numbered(day_of_numbers(prefix, day), sequence)


def day_of_numbers(prefix: str, day: date) -> str:
    """What every number the device issues on `day` begins with: K7Q-261124 (a registration keeps it
    for the day, kiosk/store/registration.py)."""
    return f"{prefix}-{day.year % 100:02d}{day.month:02d}{day.day:02d}"  # %y%m%d, without strftime


def numbered(day_part: str, sequence: int) -> str:
    """The day's `sequence`-th number, after `day_of_numbers`."""
    return f"{day_part}-{sequence:04d}"
