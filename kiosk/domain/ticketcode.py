"""The signed ticket code a ticket's QR carries: a compact, versioned binary record of the
ticket, signed with the issuing device's Ed25519 key, written as `PREFIX` + Base32.

Pure: no database, no screen, no printer. The signing key and the way to find a device's
public key are passed in (kiosk/store/keys.py keeps them on a kiosk; the central system has its own).

Why this shape
* A clerk desk takes the instruments in from the code alone, even when the kiosk has not
  synced and the central system is down: the code carries the ticket, not just its number.
* Keyboard-wedge scanners type only digits and upper-case letters the same on every keyboard
  layout and input method, so the text is `PREFIX` + Base32 (RFC 4648 alphabet, no padding):
  [A-Z2-7] only, which QR codes also hold in their compact alphanumeric mode. Read back, the
  text is folded (NFKC, upper case; spaces, hyphens, line breaks, Tab/Enter dropped), so lower
  case and full-width input decode too.
* No personal data: no phone or ID numbers, and no organisation either (format 1 carried it;
  a receipt crosses a 9600-baud line in about a second only without it, bench/printing.py).
  A desk that takes a ticket in from its code alone asks the customer for the organisation.
* The signing device is named by its key id, 4 bytes, not its 16-byte uid: the desk finds
  the key(s) with that id among the keys it knows and learns the device from the one whose
  signature verifies (a 32-bit id shared by two keys only costs a second verification).

* The same amount to the fen at every desk (format 3): per line the code carries what its
  price depends on (measuring points, ranges, metres to the mm, AC+DC, data beyond the
  regulation) and the amount the kiosk priced (before urgent) with its urgent surcharge, and
  the first bytes of the content hashes of the catalogue version and the policy the kiosk priced
  with (kiosk/domain/fingerprint.py). A desk with the same catalogue and policy prices the
  receipt's figures again; one with others keeps the receipt's figures and says the catalogue
  differs. Add-ons cost a byte only when set (a flags byte per line).

Binary record, format version 3 (integers big-endian; "varint" is unsigned LEB128):

    u8      format version (3)
    16      ticket uid (UUID bytes)
    4       key id: the first 4 bytes of SHA-256 of the signing device's raw public key
    u32     created_at, Unix seconds UTC
    varint  catalogue version
    4       the catalogue version's content hash, its first 4 bytes
    4       the pricing policy's content hash, its first 4 bytes
    number  u8 tag: 1..4 = a standard number PPPP-YYMMDD-SSSS with a prefix of that many
            characters: the prefix (ASCII), u24 YYMMDD, varint sequence;
            0 = any other number: varint length + UTF-8
    varint  total, fen
    u8      urgent tier: 0 none, else 1 + its index in URGENT_V1 (a desk must see a rush job)
    varint  lines left out of the code (a ticket too long for one scannable QR)
    varint  line count, then per line:
              fee code  u8 tag: 1..207 = letter, hyphen and shape of a standard code
                        (C-012-003, C012, C-012-0034 ...), then u24: first number << 14 | second;
                        0 = any other code: varint length + ASCII
              varint    quantity
              u8        service index << 4 | use index (15 = the word follows as a str)
              u8        flags: 1 points, 2 ranges, 4 metres, 8 AC+DC, 16 extra data, 32 urgent
                        surcharge, 64 amount (none: a price the counter quotes); 128 unused
              varint    points, varint ranges, varint metres in mm: each when its flag is set
              varint    amount, fen, before urgent (flag 64); varint urgent surcharge, fen (flag 32)
    64      Ed25519 signature over every byte before it

Format version 2, still read (customers hold printed tickets): the same without the two hashes
and without the flags byte and what follows it in a line; its record has empty hashes
(`carries_prices` False) and lines without add-ons or amounts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache

from kiosk.domain import binary

PREFIX = "JL"  # 计量 (jiliang): letters only; a typed ticket number never passes for a code (its month has a 0 or 1)
FORMAT_VERSION = 3
READ_VERSIONS = (2, 3)  # 2: printed before the code carried prices; still in customers' hands
HASH_BYTES = 4  # of a catalogue's or a policy's content hash: 1 in 4 billion to pass for another
SIGNATURE_BYTES = 64
KEY_ID_BYTES = 4
MAX_RECORD_BYTES = 300  # signature included: <= 482 characters, a QR that prints at 4 dots per
#                         module on 58 mm paper even in byte mode; lines beyond are left out
MAX_NUMBER_BYTES = 40
MAX_LINE_CODE_BYTES = 40

BASE32_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648
BASE32_ALPHABET = frozenset(BASE32_LETTERS.decode("ascii"))

# Wire tables of format version 1: an index here is part of the format. Never reorder;
# a new word is written out in full (index 15) until a new format version lists it.
SERVICES_V1 = ("verification", "calibration", "testing", "repair")
USES_V1 = ("trade", "safety", "medical", "environment", "other")
URGENT_V1 = ("72h", "24h", "8h")
_ESCAPE = 15

# A line's flags byte (format 3)
_POINTS, _RANGES, _METRES, _AC_DC, _EXTRA_DATA, _URGENT, _AMOUNT = (1 << i for i in range(7))

KINDS = ("not_a_code", "damaged", "bad_signature", "unknown_device", "revoked", "unsupported_version")

_MESSAGES = {
    "not_a_code": "This is not a ticket code.",
    "damaged": "The ticket code is damaged or incomplete; scan it again.",
    "bad_signature": "The ticket code's signature does not match its content: it may have been altered "
                     "(possible forgery).",
    "unknown_device": "The ticket code was signed by a device whose key is not known here; import the "
                      "device's public key (kiosk keys import) or sync.",
    "revoked": "The ticket code was signed with a device key that has been revoked.",
    "unsupported_version": "The ticket code has a format this software does not read; update the software.",
}

# A standard number is PPPP-YYMMDD-SSSS, [A-Z0-9]{1,4}-\d{6}-\d{4,9}: its prefix and day, the same all
# day, are read once (`_number_head`), its sequence each time (`_number_bytes`).
_NUMBER_HEAD_RE = re.compile(r"([A-Z0-9]{1,4})-(\d{6})")
_PREFIX_RE = re.compile(r"[A-Z0-9]{1,4}")
_LINE_CODE_RE = re.compile(r"([A-Z])(-?)(\d{3})(?:-(\d{3,4}))?")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # canonical: str(uuid.UUID)
_DROP = dict.fromkeys(map(ord, "-‐‑‒–—―−_"))  # hyphens and dashes a scan or a hand may put in
_VERSION_BYTE = bytes([FORMAT_VERSION])
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


class TicketCodeError(ValueError):
    """A text that is not a valid ticket code. `kind` is one of KINDS; the message is plain
    English and never holds customer data (show a translated text per kind to people)."""

    def __init__(self, message: str | None = None, kind: str = "damaged"):
        if kind not in KINDS:
            raise ValueError(f"unknown TicketCodeError kind {kind!r}")
        self.kind = kind
        super().__init__(message or _MESSAGES[kind])


@dataclass(frozen=True)
class CodeLine:
    code: str  # fee-standard number, e.g. L-001-001
    quantity: int
    service: str  # verification | calibration | testing | repair
    use: str  # trade | safety | medical | environment | other
    points: int | None = None  # what the price depends on, as fees.LineRequest says it
    ranges: int | None = None
    metres: Decimal | None = None  # to the mm
    ac_dc: bool = False
    extra_data: bool = False
    amount_fen: int | None = None  # as priced, before urgent; None: quoted at the counter, or a format 2 code
    urgent_fen: int | None = None  # the line's urgent surcharge


@dataclass(frozen=True)
class TicketRecord:
    ticket_uid: str
    number: str
    device_uid: str  # not in the code: decode learns it from the key that verifies
    created_at: datetime  # UTC; the code keeps whole seconds
    catalog_version: int
    lines: tuple[CodeLine, ...]
    total_fen: int
    omitted_lines: int = 0  # lines of the ticket the code does not carry (too many for one QR)
    urgent: str | None = None  # the urgent tier asked for (URGENT_V1)
    # The first HASH_BYTES of the content hashes (kiosk/domain/fingerprint.py) of the catalogue
    # version and the policy the kiosk priced with; empty in a format 2 code, which carries no prices.
    catalog_hash: bytes = b""
    policy_hash: bytes = b""

    @property
    def carries_prices(self) -> bool:
        """Whether the code carries each line's add-ons and amounts (format 3) or not (format 2)."""
        return bool(self.catalog_hash)

    def to_dict(self) -> dict:
        """JSON-ready: what `kiosk ticket verify` prints."""
        return {
            "ticket_uid": self.ticket_uid,
            "number": self.number,
            "device_uid": self.device_uid,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "catalog_version": self.catalog_version,
            "lines": [{"code": ln.code, "quantity": ln.quantity, "service": ln.service, "use": ln.use,
                       "points": ln.points, "ranges": ln.ranges,
                       "metres": None if ln.metres is None else str(ln.metres), "ac_dc": ln.ac_dc,
                       "extra_data": ln.extra_data, "amount_fen": ln.amount_fen, "urgent_fen": ln.urgent_fen}
                      for ln in self.lines],
            "omitted_lines": self.omitted_lines,
            "total_fen": self.total_fen,
            "urgent": self.urgent,
            "catalog_hash": self.catalog_hash.hex(),
            "policy_hash": self.policy_hash.hex(),
        }


@dataclass(frozen=True)
class KnownKey:
    """A device public key the decoder may try: raw 32-byte Ed25519, and whether it was revoked."""

    device_uid: str
    public_key: bytes
    revoked: bool = False


def key_id(public_key: bytes) -> bytes:
    """The 4 bytes a code names its signing key by."""
    return hashlib.sha256(bytes(public_key)).digest()[:KEY_ID_BYTES]


# ---- text ------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """What a scanner or a hand typed, folded: NFKC (full-width -> ASCII), upper case, and no
    whitespace (spaces, line breaks, a trailing Tab or Enter) or hyphens."""
    folded = (text if text.isascii() else unicodedata.normalize("NFKC", text)).upper()  # ASCII: NFKC is a no-op
    return "".join(folded.split()).translate(_DROP)


def looks_like_code(text: str) -> bool:
    """Cheap: the prefix, then Base32 letters only. True for a damaged code too (decode says
    which); False for a ticket number typed by hand (its date always holds a 0 or a 1)."""
    return _body(normalise(text)) is not None


def _body(folded: str) -> str | None:
    """The Base32 part of a folded text that looks like a code, else None."""
    if len(folded) > len(PREFIX) and folded.startswith(PREFIX) and BASE32_ALPHABET.issuperset(folded[len(PREFIX):]):
        return folded[len(PREFIX):]
    return None


def to_text(data: bytes) -> str:
    return PREFIX + _base32(data)


_TO_LETTERS = bytes.maketrans(bytes(range(32)), BASE32_LETTERS)


@lru_cache(maxsize=64)
def _spreading_masks(groups: int) -> tuple[tuple[int, int, int], ...]:
    """(keep, moved, shift) for each halving step of `_base32`, repeated over `groups` 8-byte groups."""
    def every_group(pattern: int) -> int:
        return int.from_bytes(pattern.to_bytes(8, "big") * groups, "big")

    return tuple((every_group(keep), every_group(moved), shift) for keep, moved, shift in (
        (0xFFFFF, 0xFFFFF << 32, 12),  # 40 bits -> two 20-bit halves, 32 bits apart
        (0x3FF_0000_03FF, 0x3FF_0000_03FF << 16, 6),  # 20 -> two 10-bit quarters, 16 bits apart
        (0x001F_001F_001F_001F, 0x001F_001F_001F_001F << 8, 3),  # 10 -> two 5-bit letters, a byte apart
    ))


def _base32(data: bytes) -> str:
    """`base64.b32encode(data)` without its "=" padding. The standard library's is a Python loop
    over 5-byte groups (~25 us for a ticket's code, inside the registration's transaction); here
    each 5-byte group is put in 8 bytes and its 40 bits spread so each byte holds one 5-bit
    letter, with a few operations on one integer for all groups, then `translate` names them."""
    groups = -(-len(data) // 5)
    padded = data + bytes(groups * 5 - len(data))
    spaced = bytearray(groups * 8)
    for i in range(5):  # group g's 5 bytes at 8g+3 .. 8g+7: the low 40 bits of its 8
        spaced[3 + i::8] = padded[i::5]
    n = int.from_bytes(spaced, "big")
    for keep, moved, shift in _spreading_masks(groups):
        n = (n & keep) | ((n << shift) & moved)
    letters = -(-len(data) * 8 // 5)  # the unpadded length: no letter that only padding fills
    return n.to_bytes(groups * 8, "big")[:letters].translate(_TO_LETTERS).decode("ascii")


def from_text(text: str) -> bytes:
    """The signed bytes of a code's text. TicketCodeError: not_a_code / damaged."""
    body = _body(normalise(text))
    if body is None:
        raise TicketCodeError(kind="not_a_code")
    if len(body) % 8 in (1, 3, 6):  # no number of bytes gives these lengths
        raise TicketCodeError(kind="damaged")
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise TicketCodeError(kind="damaged") from None
    if _base32(data) != body:
        # unused low bits of the last character set: not what any encoder writes
        raise TicketCodeError(kind="damaged")
    return data


# ---- binary ----------------------------------------------------------------------------------


def _uuid_bytes(value: str, what: str) -> bytes:
    """A UUID's 16 bytes; only its canonical text (what `str(uuid.UUID(...))` writes) is taken,
    matched here without building a uuid.UUID: a registration writes two per code."""
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise ValueError(f"{what} is not a UUID in canonical form: {value!r}")
    return bytes.fromhex(value.replace("-", ""))


def _number_bytes(number: str) -> bytes:
    head, _, sequence = number.rpartition("-")  # the last hyphen: neither part before it holds one
    written = _number_head(head)  # the same for every number of a device's day
    if (written is not None and 4 <= len(sequence) <= 9 and sequence.isdecimal()  # \d{4,9}: Unicode's Nd
            and f"{int(sequence):04d}" == sequence):
        return written + binary.varint(int(sequence))
    data = number.encode("utf-8")
    if len(data) > MAX_NUMBER_BYTES:
        raise ValueError(f"ticket number longer than {MAX_NUMBER_BYTES} bytes")
    return b"\0" + binary.varint(len(data)) + data


@lru_cache(maxsize=64)
def _number_head(head: str) -> bytes | None:
    """A standard number's tag, prefix and day as a code writes them (`_number_bytes`), from its
    text before the sequence; None if that text is not one."""
    m = _NUMBER_HEAD_RE.fullmatch(head)
    if m is None:
        return None
    prefix = m[1]
    return bytes([len(prefix)]) + prefix.encode("ascii") + int(m[2]).to_bytes(3, "big")


def _line_bytes(line: CodeLine) -> bytes:
    m = _LINE_CODE_RE.fullmatch(line.code)
    if m:
        shape = 0 if m[4] is None else len(m[4]) - 2  # none | 3 digits | 4 digits
        tag = 1 + (ord(m[1]) - ord("A")) * 8 + (4 if m[2] else 0) + shape
        packed = int(m[3]) << 14 | (int(m[4]) if m[4] else 0)
        code = bytes([tag]) + packed.to_bytes(3, "big")
    else:
        if not (line.code.isascii() and line.code.isprintable()) or len(line.code) > MAX_LINE_CODE_BYTES:
            raise ValueError(f"fee code {line.code!r} is not up to {MAX_LINE_CODE_BYTES} printable ASCII characters")
        code = b"\0" + binary.varint(len(line.code)) + line.code.encode("ascii")
    if line.quantity < 0:
        raise ValueError("negative quantity")
    service = SERVICES_V1.index(line.service) if line.service in SERVICES_V1 else _ESCAPE
    use = USES_V1.index(line.use) if line.use in USES_V1 else _ESCAPE
    words = ((binary.text(line.service) if service == _ESCAPE else b"")
             + (binary.text(line.use) if use == _ESCAPE else b""))
    flags, extra = 0, b""
    for flag, value in ((_POINTS, line.points), (_RANGES, line.ranges), (_METRES, _millimetres(line.metres)),
                        (_AMOUNT, line.amount_fen), (_URGENT, line.urgent_fen)):
        if value is not None:
            flags |= flag
            extra += binary.varint(value)
    flags |= (_AC_DC if line.ac_dc else 0) | (_EXTRA_DATA if line.extra_data else 0)
    return code + binary.varint(line.quantity) + bytes([service << 4 | use, flags]) + words + extra


def _millimetres(metres: Decimal | None) -> int | None:
    if metres is None:
        return None
    mm = metres * 1000
    if not metres.is_finite() or mm != mm.to_integral_value():
        raise ValueError(f"metres {metres} is not a length to the mm")
    return int(mm)


def _created_seconds(created_at: datetime) -> int:
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    seconds = (created_at - _EPOCH) // _SECOND  # whole seconds, rounded down: exact, no float
    if not 0 <= seconds < 2**32:
        raise ValueError("created_at out of range (1970-2106)")
    return seconds


def lines_bytes(lines: Iterable[CodeLine]) -> tuple[bytes, ...]:
    """Each line as a code writes it: for `encode`'s `written_lines`, worked out before the ticket
    has a number (kiosk/store/registration.py prepare). ValueError as `encode` raises it."""
    return tuple(_line_bytes(line) for line in lines)


@dataclass(frozen=True)
class Unnumbered:
    """A record's bytes but for the ticket's uid, time and number (`unnumbered`): worked out before
    the ticket has a number (kiosk/store/registration.py prepare); `sign` then writes its code."""

    after_time: bytes  # catalogue version, the catalogue's and the policy's hashes
    after_number: bytes  # total, urgent tier
    omitted_lines: int
    lines: tuple[bytes, ...]  # lines_bytes

    @cached_property
    def _every_line(self) -> bytes:
        """The record's end when it carries every line: the lines left out, the line count, the lines."""
        return binary.varint(self.omitted_lines) + binary.varint(len(self.lines)) + b"".join(self.lines)

    def record(self, ticket_uid: str, created_at: datetime, number: str,
               signer_id: bytes = bytes(KEY_ID_BYTES)) -> tuple[bytes, int, int]:
        """The unsigned record within MAX_RECORD_BYTES; the lines kept and lines omitted it carries."""
        head = b"".join((_VERSION_BYTE, _uuid_bytes(ticket_uid, "ticket_uid"), signer_id,
                         _created_seconds(created_at).to_bytes(4, "big"), self.after_time, _number_bytes(number),
                         self.after_number))
        encoded = self.lines
        kept = len(encoded)
        if len(head) + len(self._every_line) + SIGNATURE_BYTES <= MAX_RECORD_BYTES:  # as most tickets: all of them
            return head + self._every_line, kept, self.omitted_lines
        while True:
            omitted = self.omitted_lines + len(encoded) - kept
            body = head + binary.varint(omitted) + binary.varint(kept) + b"".join(encoded[:kept])
            if len(body) + SIGNATURE_BYTES <= MAX_RECORD_BYTES or kept == 0:
                break
            kept -= 1
        return body, kept, omitted


def unnumbered(catalog_version: int, lines: Sequence[CodeLine], total_fen: int, *, urgent: str | None = None,
               omitted_lines: int = 0, catalog_hash: bytes, policy_hash: bytes,
               written_lines: tuple[bytes, ...] | None = None) -> Unnumbered:
    """A record's fields but its uid, time, number and device (TicketRecord's), as its code writes
    them. `written_lines`: `lines_bytes(lines)`, when the caller has it already. ValueError as
    `encode` raises it."""
    if catalog_version < 0 or total_fen < 0 or omitted_lines < 0:
        raise ValueError("negative catalogue version, total or omitted lines")
    if len(catalog_hash) < HASH_BYTES or len(policy_hash) < HASH_BYTES:
        raise ValueError(f"catalogue and policy hashes of at least {HASH_BYTES} bytes are required")
    if written_lines is None:
        written_lines = lines_bytes(lines)
    elif len(written_lines) != len(lines):
        raise ValueError("written_lines are not the record's lines")
    return Unnumbered(
        after_time=binary.varint(catalog_version) + catalog_hash[:HASH_BYTES] + policy_hash[:HASH_BYTES],
        # URGENT_V1.index: ValueError for an unknown tier
        after_number=binary.varint(total_fen) + bytes([0 if urgent is None else 1 + URGENT_V1.index(urgent)]),
        omitted_lines=omitted_lines,
        lines=tuple(written_lines),
    )


def _record_bytes(record: TicketRecord, signer_id: bytes = bytes(KEY_ID_BYTES),
                  written_lines: tuple[bytes, ...] | None = None) -> tuple[bytes, int, int]:
    """The unsigned record within MAX_RECORD_BYTES; the lines kept and lines omitted it carries.
    `written_lines`: `lines_bytes(record.lines)`, when the caller has it already."""
    parts = unnumbered(record.catalog_version, record.lines, record.total_fen, urgent=record.urgent,
                       omitted_lines=record.omitted_lines, catalog_hash=record.catalog_hash,
                       policy_hash=record.policy_hash, written_lines=written_lines)
    _uuid_bytes(record.device_uid, "device_uid")  # not written, but a record names its device properly
    return parts.record(record.ticket_uid, record.created_at, record.number, signer_id)


def as_carried(record: TicketRecord) -> TicketRecord:
    """The record as its code carries it: whole seconds in UTC, lines beyond MAX_RECORD_BYTES
    counted in `omitted_lines`, hashes cut to HASH_BYTES (metres, to the mm, compare equal).
    `decode(encode(r, key), ...) == as_carried(r)`."""
    _, kept, omitted = _record_bytes(record)
    return replace(record, lines=tuple(record.lines[:kept]), omitted_lines=omitted,
                   created_at=datetime.fromtimestamp(_created_seconds(record.created_at), UTC),
                   catalog_hash=record.catalog_hash[:HASH_BYTES], policy_hash=record.policy_hash[:HASH_BYTES])


def _metres(mm: int) -> Decimal:
    return Decimal(mm) / 1000  # the exact quotient: 12500 -> 12.5, 12000 -> 12


def encode(record: TicketRecord, signing_key, written_lines: tuple[bytes, ...] | None = None) -> str:
    """The code's text. `signing_key`: an Ed25519PrivateKey (cryptography), or its raw 32 bytes.
    ValueError if the record cannot be written (not a UUID, naive time, negative number...).
    `written_lines`: `lines_bytes(record.lines)`, if the caller worked them out beforehand."""
    signer_id, signature = _signer(bytes(signing_key) if isinstance(signing_key, bytearray) else signing_key)
    body = _record_bytes(record, signer_id, written_lines)[0]
    return to_text(body + signature(body))


def sign(parts: Unnumbered, ticket_uid: str, created_at: datetime, number: str, device_uid: str, signing_key) -> str:
    """`encode` of the record `parts` (`unnumbered`) and these make: the same text, with only
    what the uid, time and number change worked out here. `signing_key`: an Ed25519PrivateKey."""
    _device_checked(device_uid)  # not written, but a record names its device properly
    signer_id, signature = _signer(signing_key)
    body = parts.record(ticket_uid, created_at, number, signer_id)[0]
    return to_text(body + signature(body))


@lru_cache(maxsize=16)
def _device_checked(device_uid: str) -> None:
    """`_uuid_bytes`'s check of a signing device's uid, once per device (a kiosk signs as one)."""
    _uuid_bytes(device_uid, "device_uid")


@lru_cache(maxsize=16)
def _signer(signing_key) -> tuple[bytes, Callable[[bytes], bytes]]:
    """The key id a private key's codes carry, and its Ed25519 signature of a record's bytes: worked
    out once per key (a kiosk signs with one). `signing_key`: an Ed25519PrivateKey (cryptography
    reads and writes the key files, kiosk/store/keys.py) or its raw 32 bytes. libsodium (PyNaCl)
    signs, in some 260 k instructions where cryptography's OpenSSL takes 460 k, inside the
    registration's transaction (bench/registration.py); Ed25519 signatures are deterministic, so
    both write the same bytes (tests/test_ticketcode.py)."""
    from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

    seed = signing_key if isinstance(signing_key, bytes) else signing_key.private_bytes_raw()
    if len(seed) != 32:
        raise ValueError("An Ed25519 private key is 32 bytes long")
    public, secret = crypto_sign_seed_keypair(seed)

    def signature(body: bytes) -> bytes:
        return crypto_sign(body, secret)[:SIGNATURE_BYTES]  # the signed message: the signature, then `body`

    return key_id(public), signature


def _read_number(r: binary.Reader) -> str:
    tag = r.byte()
    if tag == 0:
        return r.text()
    if tag > 4:
        raise binary.Damaged
    prefix = r.take(tag).decode("ascii")
    day, sequence = int.from_bytes(r.take(3), "big"), r.varint()
    if not _PREFIX_RE.fullmatch(prefix) or day > 999_999:
        raise binary.Damaged
    return f"{prefix}-{day:06d}-{sequence:04d}"


def _read_line(r: binary.Reader, version: int) -> CodeLine:
    tag = r.byte()
    if tag == 0:
        code = r.take(r.varint()).decode("ascii")
        if not code.isprintable():
            raise binary.Damaged
    else:
        letter, rest = divmod(tag - 1, 8)
        hyphen, shape = divmod(rest, 4)
        packed = int.from_bytes(r.take(3), "big")
        first, second = packed >> 14, packed & 0x3FFF
        if letter > 25 or shape > 2 or first > 999 or second >= (1, 1000, 10000)[shape]:
            raise binary.Damaged
        code = f"{chr(65 + letter)}{'-' if hyphen else ''}{first:03d}"
        code += "" if shape == 0 else f"-{second:0{shape + 2}d}"
    quantity = r.varint()
    words = r.byte()
    service_i, use_i = words >> 4, words & 0x0F
    if (service_i != _ESCAPE and service_i >= len(SERVICES_V1)) or (use_i != _ESCAPE and use_i >= len(USES_V1)):
        raise binary.Damaged
    flags = 0 if version == 2 else r.byte()
    if flags >= 1 << 7:
        raise binary.Damaged
    service = r.text() if service_i == _ESCAPE else SERVICES_V1[service_i]
    use = r.text() if use_i == _ESCAPE else USES_V1[use_i]
    points, ranges, mm, amount, urgent = (r.varint() if flags & flag else None
                                          for flag in (_POINTS, _RANGES, _METRES, _AMOUNT, _URGENT))
    return CodeLine(code, quantity, service, use, points, ranges, None if mm is None else _metres(mm),
                    bool(flags & _AC_DC), bool(flags & _EXTRA_DATA), amount, urgent)


def _parse(data: bytes) -> tuple[TicketRecord, bytes]:
    """The record of signed bytes (signature not checked here; device_uid left empty) and its
    signer's key id. binary.Damaged/ValueError on bad structure."""
    r = binary.Reader(data, len(data) - SIGNATURE_BYTES)
    version = r.byte()  # one of READ_VERSIONS, checked by the caller
    ticket_uid = str(uuid.UUID(bytes=r.take(16)))
    signer_id = r.take(KEY_ID_BYTES)
    created_at = datetime.fromtimestamp(int.from_bytes(r.take(4), "big"), UTC)
    catalog_version = r.varint()
    catalog_hash, policy_hash = (b"", b"") if version == 2 else (r.take(HASH_BYTES), r.take(HASH_BYTES))
    number = _read_number(r)
    total_fen = r.varint()
    urgent = r.byte()
    if urgent > len(URGENT_V1):
        raise binary.Damaged
    omitted = r.varint()
    count = r.varint()
    if count > r.end - r.at:  # every line takes bytes: a huge count is damage, not a loop
        raise binary.Damaged
    lines = tuple(_read_line(r, version) for _ in range(count))
    if r.at != r.end:
        raise binary.Damaged  # bytes left between the record and the signature
    return TicketRecord(ticket_uid, number, "", created_at, catalog_version, lines, total_fen, omitted,
                        URGENT_V1[urgent - 1] if urgent else None, catalog_hash, policy_hash), signer_id


def read_checked(text: str) -> TicketRecord:
    """The record of a code this node checked when it stored it (a ticket row's `code`): read
    again without its keys, device_uid left empty. TicketCodeError if it is not a readable code."""
    data = from_text(text)
    if len(data) <= SIGNATURE_BYTES or data[0] not in READ_VERSIONS:
        raise TicketCodeError(kind="damaged")
    try:
        return _parse(data)[0]
    except (binary.Damaged, ValueError, OverflowError, OSError, InvalidOperation):
        raise TicketCodeError(kind="damaged") from None


def decode(text: str, keys_for: Callable[[bytes], Iterable[KnownKey]]) -> TicketRecord:
    """The ticket a code's text carries, its signature checked; else TicketCodeError.

    Checks, in order: not_a_code (no prefix, or not Base32 letters: `looks_like_code` is
    False), damaged (Base32 length or padding bits, structure, trailing bytes),
    unsupported_version (first byte), then the keys `keys_for(key id)` knows by the code's
    key id: none -> unknown_device; the one whose signature verifies names the device, and
    if it was revoked -> revoked; none verifies -> bad_signature. An exception `keys_for`
    raises passes through unchanged (a database error is not the code's fault).
    """
    data = from_text(text)
    if not data:
        raise TicketCodeError(kind="damaged")
    if data[0] not in READ_VERSIONS:
        raise TicketCodeError(
            f"The ticket code has format version {data[0]}; this software reads versions "
            f"{', '.join(map(str, READ_VERSIONS))}. Update the software.", kind="unsupported_version")
    if len(data) <= SIGNATURE_BYTES:
        raise TicketCodeError(kind="damaged")
    try:
        record, signer_id = _parse(data)
    except (binary.Damaged, ValueError, OverflowError, OSError, InvalidOperation):  # UnicodeDecodeError: a ValueError
        raise TicketCodeError(kind="damaged") from None
    candidates = [k for k in keys_for(signer_id) if key_id(k.public_key) == signer_id]
    if not candidates:
        raise TicketCodeError(kind="unknown_device")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    split = len(data) - SIGNATURE_BYTES
    for known in candidates:
        try:
            Ed25519PublicKey.from_public_bytes(bytes(known.public_key)).verify(data[split:], data[:split])
        except (InvalidSignature, ValueError):  # ValueError: not a valid Ed25519 key
            continue
        if known.revoked:
            raise TicketCodeError(kind="revoked")
        return replace(record, device_uid=known.device_uid)
    raise TicketCodeError(kind="bad_signature")
