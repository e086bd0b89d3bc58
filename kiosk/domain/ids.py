"""Identifiers minted offline without collisions: UUIDv7 for records, readable ticket numbers."""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

# Letters and digits a clerk cannot misread (no I/O/0/1) and every scanner types alike.
PREFIX_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def uuid7() -> str:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random bits; sorts by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    h = f"{value:032x}"  # what str(uuid.UUID(int=value)) writes, without building the UUID
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
    return f"{prefix}-{day.year % 100:02d}{day.month:02d}{day.day:02d}-{sequence:04d}"  # %y%m%d, without strftime
