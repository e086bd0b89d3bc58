"""A registration prepared at home (预约送检): the customer fills it on the institute's public site
(central/public/prepare.py), the phone shows it as one or more QR codes, and the lobby kiosk reads
them on its welcome screen, offline, into every registration step.

Pure: no database, no screen, no network. `encode(reg) -> list[str]`, `decode(parts) -> reg`.

What it is not: a signature. Anyone can make a code (the site is public and the format is open),
so a decoded registration is untrusted input: the kiosk validates every field exactly as if it had
been typed (screens/prepared.py). The checksums only tell a damaged or altered scan from a good one.

Text of one part (one QR): `PREFIX` + Base32 (RFC 4648, no padding): only [A-Z2-7], which every
keyboard-wedge scanner types the same on every layout and which QR codes hold in alphanumeric mode.
Read back, a text is folded as a ticket code is (kiosk/domain/ticketcode.normalise: NFKC, upper case,
spaces, hyphens and line breaks dropped).

Bytes of one part:

    u8      format version (1)
    4       registration id: the first 4 bytes of SHA-256 of the whole compressed record; the parts
            of one registration share it, and the kiosk checks the assembled record against it
    u8      part index << 4 | (part count - 1): up to MAX_PARTS parts, in any order
    ...     this part's slice of the compressed record
    4       CRC-32 of every byte before it (every format version ends so: a damaged part is told
            from one of a newer format)

The compressed record: raw DEFLATE (zlib, wbits -15) with the preset dictionary `ZDICT` (the words
prepared registrations repeat: part of format 1, never changed). Uncompressed, at most
MAX_RECORD_BYTES (a small code cannot expand into a large one on the kiosk). "varint" is unsigned
LEB128; "str" is varint byte length + UTF-8; a "word" is u8 index into its table, or 255 + str
(an unknown word travels as it is and the kiosk says it is not one of its own).

    varint  catalogue version the site priced with (0: not said)
    varint  prepared on: days since 2000-01-01 + 1 (0: not said)
    str     organisation, credit code, contact, phone, address
    word    pickup (PICKUP_WAYS)
    u8      urgent: 0 none, 1 + index in URGENT_TIERS, 255 + str
    varint  certificates
    str     certificate name, e-mail
    u8      flags: 1 notify
    varint  instrument count, then per instrument:
      str     catalogue item: the fee row's code as the kiosk's catalogue knows it (L-001-001)
      word    service (SERVICES), the row's, so a code made for another fee schedule is noticed
      varint  quantity
      word    use (USES)
      u8      flags: 1 points, 2 ranges, 4 metres, 8 AC+DC, 16 extra data, 32 repair if it fails
      varint  points, ranges, metres in mm: each when its flag is set
      str     ×8: 器具名称 name, 型号规格 model, 测量范围 measuring range, 准确度等级 accuracy class,
              出厂编号 serial number, 生产厂家 manufacturer, 使用地点 location, 特殊要求 requirements
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from kiosk.domain import binary
from kiosk.domain.catalog import SERVICES, USES
from kiosk.domain.fees import URGENT_TIERS
from kiosk.domain.ticketcode import normalise

PREFIX = "YY"  # 预约 (yuyue): letters only, not the ticket code's JL
FORMAT_VERSION = 1
READ_VERSIONS = (1,)
PICKUP_WAYS = ("in_person", "post")  # screens/draft.py's

# One part fits a QR of version 18 at error correction M in alphanumeric mode (816 characters, 89 x 89
# modules). bench/prepared.py (readability) renders each version as a lobby imager sees a phone's
# screen (the code ~400 px across, blurred, noisy, tilted) and decodes it with zxing-cpp: up to version
# 18 every time, version 20 27-30 times in 30, version 22 ~8 in 10; at ~300 px only version 14 (v16
# about half the time). So 18, with room: a worse imager or a dimmer screen costs a version or two.
# Parts are cut evenly, so a registration of two parts is two smaller codes (10 instruments: two of
# version 16). The kiosk reads parts up to version 20 (a code made with a larger threshold).
MAX_PART_CHARS = 816
MAX_PARTS = 16
MAX_RECORD_BYTES = 64 * 1024  # uncompressed: 100 lines of long texts fit many times over
MAX_SCAN_CHARS = 970 + 64  # a scanned text longer than a version 20 code: not ours, or too large
ID_BYTES = 4
CRC_BYTES = 4
HEAD_BYTES = 1 + ID_BYTES + 1

EPOCH = date(2000, 1, 1)
_ESCAPE = 255
_NOTIFY = 1
_POINTS, _RANGES, _METRES, _AC_DC, _EXTRA_DATA, _REPAIR = (1 << i for i in range(6))
_KNOWN_LINE_FLAGS = (1 << 6) - 1
_TEXTS = ("name", "model", "measuring_range", "accuracy", "serial_number", "manufacturer", "location",
          "requirements")

# The preset dictionary of format 1: text prepared registrations repeat. Never change it: a code's
# bytes mean something only with it (a new one needs a new format version).
ZDICT = (
    "有限公司有限责任公司股份集团科技医院卫生院药店超市市场加油站燃气水务电力检测计量研究院"
    "压力表精密压力表压力变送器血压计体温计电子天平电子秤台秤砝码加油机水表燃气表电能表"
    "万用表卡尺千分尺温度计热电偶流量计扭矩扳手声级计酸度计 MPa kPa kg mm °C 级 "
    "锅炉房车间实验室仓库化验室门诊住院部 "
    "检定校准检测修理 L-001-0 Z-001-0 Z-002-0 R-001-0 Y-001-0 D-001-0 F-004-0 C-001-0 "
    "Y-BF-10 Y-100 0~1.6MPa 0~2.5MPa 0~4MPa 0~6MPa 1.6级 2.5级 1.0级 0.5级 0.4级 "
    "上海红旗仪表北京布莱迪梅特勒托利多赛多利斯上海良表 "
).encode()

KINDS = ("not_a_code", "damaged", "checksum", "too_large", "unknown_version", "incomplete", "mixed")

_MESSAGES = {
    "not_a_code": "This is not a prepared-registration code.",
    "damaged": "The prepared-registration code is damaged; scan it again.",
    "checksum": "The prepared-registration code does not match its checksum: damaged or altered.",
    "too_large": "The prepared registration is larger than a kiosk takes.",
    "unknown_version": "The prepared-registration code has a format this software does not read.",
    "incomplete": "Some parts of the prepared registration are still to be scanned.",
    "mixed": "The parts belong to different prepared registrations.",
}


class PreparedCodeError(ValueError):
    """A text (or set of parts) that is not a readable prepared registration. `kind` is one of
    KINDS; for "incomplete", `total` is the part count and `missing` the 1-based numbers of the
    parts not yet read. The message is plain English and never holds the customer's data."""

    def __init__(self, kind: str = "damaged", message: str | None = None, *, total: int = 0,
                 missing: tuple[int, ...] = ()) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown PreparedCodeError kind {kind!r}")
        self.kind = kind
        self.total = total
        self.missing = missing
        super().__init__(message or _MESSAGES[kind])


@dataclass(frozen=True)
class PreparedInstrument:
    """One line as the kiosk's instrument step collects it, plus the e-CQS ledger's columns."""

    code: str  # the fee row's code in the kiosk's catalogue (FeeRow.code), e.g. L-001-001
    service: str = "verification"  # the row's (SERVICES): a check that the code means the same row
    quantity: int = 1
    use: str = "other"  # USES: trade, safety, medical, environment (compulsory uses) or other
    points: int | None = None  # measuring points, when the row prices them
    ranges: int | None = None  # ranges, when the row prices them
    metres: Decimal | None = None  # length, to the mm, when the row prices metres
    ac_dc: bool = False
    extra_data: bool = False  # data the regulation does not require (when the policy offers it)
    repair_if_fails: bool = False
    name: str = ""  # 器具名称, as the customer's ledger calls it
    model: str = ""  # 型号规格
    measuring_range: str = ""  # 测量范围
    accuracy: str = ""  # 准确度等级
    serial_number: str = ""  # 出厂编号
    manufacturer: str = ""  # 生产厂家
    location: str = ""  # 使用地点
    requirements: str = ""  # 特殊要求


@dataclass(frozen=True)
class PreparedRegistration:
    """What the kiosk's registration steps ask, prepared at home. Values are as the customer gave
    them: whoever reads one validates it."""

    organisation: str = ""
    contact: str = ""
    phone: str = ""
    credit_code: str = ""
    address: str = ""
    pickup: str = "in_person"  # PICKUP_WAYS
    urgent: str | None = None  # URGENT_TIERS
    certificates: int = 1
    certificate_name: str = ""
    notify: bool = False
    email: str = ""
    instruments: tuple[PreparedInstrument, ...] = field(default_factory=tuple)
    catalog_version: int = 0  # the fee schedule the site priced with; 0: not said
    prepared_on: date | None = None


@dataclass(frozen=True)
class Part:
    """One scanned part, checked on its own (CRC) but not yet assembled."""

    version: int
    registration_id: bytes
    index: int  # 0-based
    total: int
    chunk: bytes

    @property
    def number(self) -> int:
        """1-based, as people count."""
        return self.index + 1


# ---- text ------------------------------------------------------------------------------------

_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def looks_like_part(text: str) -> bool:
    """Cheap: the prefix, then Base32 letters only (a damaged part too: read_part says which)."""
    folded = normalise(text) if len(text) <= 4 * MAX_SCAN_CHARS else ""
    return len(folded) > len(PREFIX) and folded.startswith(PREFIX) and _B32.issuperset(folded[len(PREFIX):])


def _to_text(data: bytes) -> str:
    return PREFIX + base64.b32encode(data).decode("ascii").rstrip("=")


def _from_text(text: str) -> bytes:
    if len(text) > 4 * MAX_SCAN_CHARS:  # folding it would already be work an attacker chose
        raise PreparedCodeError("too_large")
    folded = normalise(text)
    body = folded[len(PREFIX):]
    if not (folded.startswith(PREFIX) and body and _B32.issuperset(body)):
        raise PreparedCodeError("not_a_code")
    if len(folded) > MAX_SCAN_CHARS:
        raise PreparedCodeError("too_large")
    if len(body) % 8 in (1, 3, 6):
        raise PreparedCodeError("damaged")
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise PreparedCodeError("damaged") from None
    if _to_text(data) != folded:  # unused low bits set: no encoder writes that
        raise PreparedCodeError("damaged")
    return data


# ---- binary ----------------------------------------------------------------------------------


def _word(value: str, table: tuple[str, ...]) -> bytes:
    return bytes([table.index(value)]) if value in table else bytes([_ESCAPE]) + binary.text(value)


def _millimetres(metres: Decimal) -> int:
    mm = metres * 1000
    if not metres.is_finite() or mm != mm.to_integral_value() or mm < 0:
        raise ValueError(f"metres {metres} is not a length to the mm")
    return int(mm)


def record_bytes(reg: PreparedRegistration) -> bytes:
    """The uncompressed record (what `encode` compresses). ValueError if it cannot be written."""
    days = 0 if reg.prepared_on is None else (reg.prepared_on - EPOCH).days + 1
    out = [binary.varint(reg.catalog_version), binary.varint(days)]
    out += [binary.text(v) for v in (reg.organisation, reg.credit_code, reg.contact, reg.phone, reg.address)]
    out.append(_word(reg.pickup, PICKUP_WAYS))
    if reg.urgent is None:
        out.append(b"\0")
    elif reg.urgent in URGENT_TIERS:
        out.append(bytes([1 + URGENT_TIERS.index(reg.urgent)]))
    else:
        out.append(bytes([_ESCAPE]) + binary.text(reg.urgent))
    out += [binary.varint(reg.certificates), binary.text(reg.certificate_name), binary.text(reg.email),
            bytes([_NOTIFY if reg.notify else 0]), binary.varint(len(reg.instruments))]
    for ins in reg.instruments:
        flags, extra = 0, b""
        for flag, value in ((_POINTS, ins.points), (_RANGES, ins.ranges),
                            (_METRES, None if ins.metres is None else _millimetres(ins.metres))):
            if value is not None:
                flags |= flag
                extra += binary.varint(value)
        flags |= ((_AC_DC if ins.ac_dc else 0) | (_EXTRA_DATA if ins.extra_data else 0)
                  | (_REPAIR if ins.repair_if_fails else 0))
        out += [binary.text(ins.code), _word(ins.service, SERVICES), binary.varint(ins.quantity), _word(ins.use, USES),
                bytes([flags]), extra, *(binary.text(getattr(ins, name)) for name in _TEXTS)]
    data = b"".join(out)
    if len(data) > MAX_RECORD_BYTES:
        raise PreparedCodeError("too_large")
    return data


def _compress(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, ZDICT)
    return packer.compress(data) + packer.flush()


def _decompress(data: bytes) -> bytes:
    unpacker = zlib.decompressobj(-15, ZDICT)
    try:
        out = unpacker.decompress(data, MAX_RECORD_BYTES + 1)
    except zlib.error:
        raise PreparedCodeError("damaged") from None
    if len(out) > MAX_RECORD_BYTES or unpacker.unconsumed_tail:
        raise PreparedCodeError("too_large")
    if not unpacker.eof or unpacker.unused_data:
        raise PreparedCodeError("damaged")
    return out


def chunk_bytes(part_chars: int = MAX_PART_CHARS) -> int:
    """The most compressed bytes one part of at most `part_chars` characters carries."""
    data_bytes = (part_chars - len(PREFIX)) * 5 // 8
    return data_bytes - HEAD_BYTES - CRC_BYTES


def encode(reg: PreparedRegistration, part_chars: int = MAX_PART_CHARS) -> list[str]:
    """The texts of the QR codes that carry `reg`, in order (one when it fits). Parts are cut to
    about the same size. ValueError if a value cannot be written (a negative number, metres not to
    the mm, a lone surrogate); PreparedCodeError("too_large") if it takes more than MAX_PARTS."""
    packed = _compress(record_bytes(reg))
    room = chunk_bytes(part_chars)
    count = max(1, -(-len(packed) // room))
    if count > MAX_PARTS:
        raise PreparedCodeError("too_large")
    size = -(-len(packed) // count)
    reg_id = hashlib.sha256(packed).digest()[:ID_BYTES]
    texts = []
    for i in range(count):
        body = bytes([FORMAT_VERSION]) + reg_id + bytes([i << 4 | (count - 1)]) + packed[i * size:(i + 1) * size]
        texts.append(_to_text(body + zlib.crc32(body).to_bytes(CRC_BYTES, "big")))
    return texts


def read_part(text: str) -> Part:
    """One scanned text, checked alone. PreparedCodeError: not_a_code, too_large, damaged,
    checksum (CRC), unknown_version."""
    data = _from_text(text)
    if len(data) < HEAD_BYTES + CRC_BYTES:
        raise PreparedCodeError("damaged")
    body, crc = data[:-CRC_BYTES], data[-CRC_BYTES:]
    if zlib.crc32(body).to_bytes(CRC_BYTES, "big") != crc:
        raise PreparedCodeError("checksum")
    if body[0] not in READ_VERSIONS:
        raise PreparedCodeError("unknown_version")
    index, total = body[5] >> 4, (body[5] & 0x0F) + 1
    if index >= total:
        raise PreparedCodeError("damaged")
    return Part(body[0], body[1:5], index, total, body[HEAD_BYTES:])


class Parts:
    """The parts read so far of one prepared registration, in any order. `add` a scanned text;
    `missing` says which are still to come; `registration()` once `complete`."""

    def __init__(self) -> None:
        self.parts: dict[int, Part] = {}

    @property
    def total(self) -> int:
        return next(iter(self.parts.values())).total if self.parts else 0

    @property
    def missing(self) -> tuple[int, ...]:
        return tuple(i + 1 for i in range(self.total) if i not in self.parts)

    @property
    def complete(self) -> bool:
        return bool(self.parts) and not self.missing

    def add(self, text: str) -> Part:
        """Read one text into the set. A part of another registration starts the set again
        (a customer who scans a second phone); PreparedCodeError as `read_part` raises it."""
        part = read_part(text)
        first = next(iter(self.parts.values()), None)
        if first is not None and (first.registration_id, first.total) != (part.registration_id, part.total):
            self.parts.clear()
        self.parts[part.index] = part
        return part

    def registration(self) -> PreparedRegistration:
        if not self.parts:
            raise PreparedCodeError("not_a_code")
        if self.missing:
            raise PreparedCodeError("incomplete", total=self.total, missing=self.missing)
        return _assemble([self.parts[i] for i in range(self.total)])


def decode(parts: Iterable[str]) -> PreparedRegistration:
    """The prepared registration the scanned texts carry, in any order (a part scanned twice is
    taken once). PreparedCodeError, and no other exception, for anything else: not_a_code,
    damaged, checksum, too_large, unknown_version, mixed (parts of different registrations),
    incomplete (with `total` and `missing`)."""
    read: dict[int, Part] = {}
    first: Part | None = None
    for text in parts:
        if not isinstance(text, str):
            raise PreparedCodeError("not_a_code")
        part = read_part(text)
        if first is None:
            first = part
        elif (first.registration_id, first.total) != (part.registration_id, part.total):
            raise PreparedCodeError("mixed")
        read[part.index] = part
    if first is None:
        raise PreparedCodeError("not_a_code")
    missing = tuple(i + 1 for i in range(first.total) if i not in read)
    if missing:
        raise PreparedCodeError("incomplete", total=first.total, missing=missing)
    return _assemble([read[i] for i in range(first.total)])


def _assemble(parts: list[Part]) -> PreparedRegistration:
    packed = b"".join(p.chunk for p in parts)
    if hashlib.sha256(packed).digest()[:ID_BYTES] != parts[0].registration_id:
        raise PreparedCodeError("checksum")
    data = _decompress(packed)
    try:
        return _parse(data)
    except PreparedCodeError:
        raise
    except (binary.Damaged, ValueError, OverflowError):  # UnicodeDecodeError: a ValueError
        raise PreparedCodeError("damaged") from None


class _Reader(binary.Reader):
    def __init__(self, data: bytes) -> None:
        super().__init__(data, max_shift=35)  # 5 bytes: every number here is far smaller

    def word(self, table: tuple[str, ...]) -> str:
        i = self.byte()
        if i == _ESCAPE:
            return self.text()
        if i >= len(table):
            raise binary.Damaged
        return table[i]


def _parse(data: bytes) -> PreparedRegistration:
    r = _Reader(data)
    catalog_version, days = r.varint(), r.varint()
    prepared_on = None if days == 0 else EPOCH + timedelta(days=days - 1)  # OverflowError: damaged
    organisation, credit_code, contact, phone, address = (r.text() for _ in range(5))
    pickup = r.word(PICKUP_WAYS)
    u = r.byte()
    if u == _ESCAPE:
        urgent: str | None = r.text()
    elif u > len(URGENT_TIERS):
        raise binary.Damaged
    else:
        urgent = None if u == 0 else URGENT_TIERS[u - 1]
    certificates, certificate_name, email = r.varint(), r.text(), r.text()
    flags = r.byte()
    if flags & ~_NOTIFY:
        raise binary.Damaged
    count = r.varint()
    if count > len(data) - r.at:  # each instrument takes bytes: a huge count is damage, not a loop
        raise binary.Damaged
    instruments = []
    for _ in range(count):
        code, service, quantity, use = r.text(), r.word(SERVICES), r.varint(), r.word(USES)
        lf = r.byte()
        if lf & ~_KNOWN_LINE_FLAGS:
            raise binary.Damaged
        points, ranges, mm = (r.varint() if lf & flag else None for flag in (_POINTS, _RANGES, _METRES))
        texts = {name: r.text() for name in _TEXTS}
        instruments.append(PreparedInstrument(
            code=code, service=service, quantity=quantity, use=use, points=points, ranges=ranges,
            metres=None if mm is None else Decimal(mm) / 1000, ac_dc=bool(lf & _AC_DC),
            extra_data=bool(lf & _EXTRA_DATA), repair_if_fails=bool(lf & _REPAIR), **texts))
    if r.at != len(data):
        raise binary.Damaged
    return PreparedRegistration(
        organisation=organisation, contact=contact, phone=phone, credit_code=credit_code, address=address,
        pickup=pickup, urgent=urgent, certificates=certificates, certificate_name=certificate_name,
        notify=bool(flags & _NOTIFY), email=email, instruments=tuple(instruments),
        catalog_version=catalog_version, prepared_on=prepared_on)
