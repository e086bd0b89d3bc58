"""The binary words the QR codes are written in (kiosk/domain/ticketcode.py, a ticket;
kiosk/domain/prepared.py, a prepared registration): unsigned LEB128 varints and UTF-8 texts
after their length, read back by a Reader that raises Damaged on anything out of place.

Pure: no database, no screen."""

from __future__ import annotations


class Damaged(Exception):
    """Not a record: cut short, or a number or a text where none fits. Each codec turns it into
    its own error for the person who scanned."""


def varint(n: int) -> bytes:
    """`n` as an unsigned LEB128 varint; ValueError for anything but a whole number >= 0."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"not a whole number >= 0: {n!r}")
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def text(value: str) -> bytes:
    """Its UTF-8 bytes after their length (UnicodeEncodeError, a ValueError, for a lone surrogate)."""
    data = value.encode("utf-8")
    return varint(len(data)) + data


class Reader:
    """`data[:end]` read from the start; `max_shift`: the bits a varint may carry before it is damaged."""

    def __init__(self, data: bytes, end: int | None = None, max_shift: int = 63) -> None:
        self.data, self.at = data, 0
        self.end = len(data) if end is None else end
        self.max_shift = max_shift

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > self.end:
            raise Damaged
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def varint(self) -> int:
        value = shift = 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > self.max_shift:
                raise Damaged

    def text(self) -> str:
        return self.take(self.varint()).decode("utf-8")  # UnicodeDecodeError (a ValueError): damaged
