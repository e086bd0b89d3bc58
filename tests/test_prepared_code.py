"""The prepared-registration code (kiosk/domain/prepared.py): round trip for any text within limits,
split into parts read in any order, and every damage either detected or reported as a
PreparedCodeError of a kind the kiosk can word (never another exception)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import qrcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qrcode.util import MODE_ALPHA_NUM, QRData

from kiosk.domain import prepared as pc
from kiosk.domain.catalog import SERVICES, USES
from kiosk.domain.fees import URGENT_TIERS
from kiosk.domain.prepared import (
    Parts,
    PreparedCodeError,
    PreparedInstrument,
    PreparedRegistration,
    decode,
    encode,
    read_part,
)

TEXT = st.text(max_size=60)  # any code point but lone surrogates (not UTF-8): checked on their own below
WORDS = st.one_of(st.sampled_from(USES), TEXT)


def instruments(words=WORDS):
    return st.builds(
        PreparedInstrument,
        code=st.one_of(st.sampled_from(("L-001-004", "Z-002-001", "D-002-002")), TEXT),
        service=st.one_of(st.sampled_from(SERVICES), TEXT), quantity=st.integers(0, 10**6), use=words,
        points=st.none() | st.integers(0, 10**6), ranges=st.none() | st.integers(0, 10**6),
        metres=st.none() | st.integers(0, 10**9).map(lambda mm: Decimal(mm) / 1000),
        ac_dc=st.booleans(), extra_data=st.booleans(), repair_if_fails=st.booleans(),
        name=TEXT, model=TEXT, measuring_range=TEXT, accuracy=TEXT, serial_number=TEXT, manufacturer=TEXT,
        location=TEXT, requirements=st.text(max_size=200))


registrations = st.builds(
    PreparedRegistration,
    organisation=TEXT, contact=TEXT, phone=TEXT, credit_code=TEXT, address=TEXT,
    pickup=st.one_of(st.sampled_from(pc.PICKUP_WAYS), TEXT),
    urgent=st.none() | st.sampled_from(URGENT_TIERS) | TEXT, certificates=st.integers(0, 10**6),
    certificate_name=TEXT, notify=st.booleans(), email=TEXT,
    instruments=st.lists(instruments(), max_size=12).map(tuple),
    catalog_version=st.integers(0, 10**6), prepared_on=st.none() | st.dates(date(2000, 1, 1), date(2200, 1, 1)))


def ten_instruments() -> PreparedRegistration:
    from bench.prepared import registration

    return registration()


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    return code.version


# ---- round trip -------------------------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(registrations, st.randoms(use_true_random=False))
def test_any_registration_round_trips_in_any_order(reg, rnd):
    parts = encode(reg)
    assert all(len(p) <= pc.MAX_PART_CHARS and p.startswith(pc.PREFIX) for p in parts)
    assert all(set(p) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for p in parts)
    shuffled = [*parts, *rnd.sample(parts, k=min(1, len(parts)))]  # and one scanned twice
    rnd.shuffle(shuffled)
    assert decode(shuffled) == reg


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(registrations)
def test_a_scanner_typing_it_otherwise_still_reads(reg):
    """Lower case, full width, hyphens and line breaks, as a scanner or an IME may type it."""
    typed = []
    for text in encode(reg):
        wide = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in text[:20])
        typed.append(wide + "-\n" + text[20:].lower() + "\r")
    assert decode(typed) == reg


def test_a_ten_instrument_registration_fits_two_codes_of_version_16_at_m():
    parts = encode(ten_instruments())
    assert len(parts) <= 2
    assert max(qr_version(p) for p in parts) <= 16


def test_a_large_registration_is_split_evenly_and_every_part_fits_version_18():
    reg = ten_instruments()
    big = replace(reg, instruments=tuple(replace(ins, serial_number=f"SN{i * 7919:08d}",
                                                              requirements=hashlib.sha256(bytes([i])).hexdigest())
                                         for i, ins in enumerate(reg.instruments * 4)))
    parts = encode(big)
    assert len(parts) >= 3
    assert max(map(len, parts)) - min(map(len, parts)) <= 2 * len(parts)  # bytes cut as evenly as they go
    assert all(qr_version(p) <= 18 for p in parts)
    assert decode(reversed(parts)) == big


def test_too_large_to_encode():
    reg = ten_instruments()
    with pytest.raises(PreparedCodeError) as e:
        encode(replace(reg, instruments=tuple(
            replace(ins, requirements=f"{i}{ins.requirements}" + "测" * 150, serial_number=str(i * 7919))
            for i, ins in enumerate(reg.instruments * 20))))
    assert e.value.kind == "too_large"


@pytest.mark.parametrize("bad", [
    {"quantity": -1}, {"metres": Decimal("1.0005")}, {"metres": Decimal("NaN")}, {"model": "\ud800"},
])
def test_what_cannot_be_written_is_a_value_error(bad):
    reg = PreparedRegistration(instruments=(replace(PreparedInstrument("L-001-004"), **bad),))
    with pytest.raises(ValueError):
        encode(reg)


# ---- parts ------------------------------------------------------------------------------------


def test_parts_are_collected_in_any_order_and_say_which_are_missing():
    reg = ten_instruments()
    parts = encode(reg, part_chars=300)
    assert len(parts) >= 3
    got = Parts()
    got.add(parts[1])
    assert (got.total, got.missing, got.complete) == (len(parts), (1, *range(3, len(parts) + 1)), False)
    with pytest.raises(PreparedCodeError) as e:
        got.registration()
    assert e.value.kind == "incomplete" and e.value.missing == got.missing and e.value.total == len(parts)
    for p in reversed(parts):
        got.add(p.lower())
    assert got.complete and got.registration() == reg


def test_a_part_of_another_registration_starts_again_and_decode_calls_it_mixed():
    a, b = ten_instruments(), replace(ten_instruments(), contact="张三")
    pa, pb = encode(a, part_chars=400), encode(b, part_chars=400)
    got = Parts()
    got.add(pa[0])
    got.add(pb[1])
    assert got.missing == tuple(i + 1 for i in range(len(pb)) if i != 1)
    with pytest.raises(PreparedCodeError) as e:
        decode([pa[0], pb[1]])
    assert e.value.kind == "mixed"


def test_incomplete_says_which_parts_are_missing():
    parts = encode(ten_instruments(), part_chars=300)
    with pytest.raises(PreparedCodeError) as e:
        decode(parts[2:3])
    assert e.value.kind == "incomplete"
    assert 3 not in e.value.missing and 1 in e.value.missing and e.value.total == len(parts)


# ---- damage -----------------------------------------------------------------------------------

KINDS_OF_DAMAGE = set(pc.KINDS)


def _one(text: str):
    try:
        return decode([text])
    except PreparedCodeError as e:
        assert e.kind in KINDS_OF_DAMAGE
        return e


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_change_of_one_letter_is_detected(data):
    """A letter changed, dropped or added: never a different registration, always a typed error."""
    reg = ten_instruments()
    text = encode(replace(reg, instruments=reg.instruments[:3]))[0]
    at = data.draw(st.integers(len(pc.PREFIX), len(text) - 1))
    how = data.draw(st.sampled_from(("change", "drop", "add")))
    letter = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").filter(lambda c: c != text[at]))
    damaged = {"change": text[:at] + letter + text[at + 1:], "drop": text[:at] + text[at + 1:],
               "add": text[:at] + letter + text[at:]}[how]
    result = _one(damaged)
    assert isinstance(result, PreparedCodeError)
    assert result.kind in ("damaged", "checksum", "unknown_version")


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_any_text_is_a_registration_or_a_typed_error(text):
    _one(text)
    _one(pc.PREFIX + text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=700), st.integers(0, 15), st.integers(1, 16))
def test_well_formed_parts_with_any_content_never_raise_anything_else(chunk, index, total):
    """A part with a good CRC around any bytes (anyone can make one): a typed error, or a registration."""
    head = bytes([1]) + b"\0\0\0\0" + bytes([index << 4 | (total - 1)])
    body = head + chunk
    _one(pc.PREFIX + base64.b32encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("="))


def forged(record: bytes) -> str:
    """One part around `record`, its id and CRC right: what an attacker who read the module makes."""
    packed = pc._compress(record)
    body = bytes([1]) + hashlib.sha256(packed).digest()[:4] + b"\0" + packed
    return pc.PREFIX + base64.b32encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_record_with_right_checksums_is_a_registration_or_damaged(record):
    result = _one(forged(record))
    assert isinstance(result, PreparedRegistration) or result.kind in ("damaged", "too_large")


def test_tampered_content_fails_its_checksum():
    text = encode(ten_instruments())[0]
    data = bytearray(base64.b32decode(text[2:] + "=" * (-len(text[2:]) % 8)))
    data[20] ^= 0x01
    assert _one(pc.PREFIX + base64.b32encode(bytes(data)).decode().rstrip("=")).kind == "checksum"


def test_tampered_with_the_crc_fixed_fails_the_registration_id():
    parts = encode(ten_instruments(), part_chars=500)
    data = bytearray(base64.b32decode(parts[0][2:] + "=" * (-len(parts[0][2:]) % 8)))
    data[30] ^= 0x40
    body = bytes(data[:-4])
    fixed = pc.PREFIX + base64.b32encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")
    assert read_part(fixed).number == 1  # the part alone looks fine
    with pytest.raises(PreparedCodeError) as e:
        decode([fixed, *parts[1:]])
    assert e.value.kind == "checksum"


def test_a_newer_format_is_told_from_damage():
    body = bytes([2]) + b"\0" * 5 + b"future"
    text = pc.PREFIX + base64.b32encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")
    assert _one(text).kind == "unknown_version"


def test_a_zip_bomb_is_too_large_not_memory():
    assert _one(forged(b"\0" * (pc.MAX_RECORD_BYTES + 10))).kind == "too_large"


def test_an_oversized_scan_is_too_large():
    reg = ten_instruments()
    text = encode(reg, part_chars=4000)[0]
    assert len(text) > pc.MAX_SCAN_CHARS
    assert _one(text).kind == "too_large"
    assert _one(text * 10).kind == "too_large"


def test_not_a_code():
    for text in ("", "JLABCDEFGH", "K1A-261124-0007", "YY", "YY!!", "hello"):
        assert _one(text).kind == "not_a_code"
    with pytest.raises(PreparedCodeError) as e:
        decode([])
    assert e.value.kind == "not_a_code"
    with pytest.raises(PreparedCodeError):
        decode([None])  # type: ignore[list-item]


def test_looks_like_part():
    text = encode(ten_instruments())[0]
    assert pc.looks_like_part(text) and pc.looks_like_part(text.lower())
    assert not pc.looks_like_part("JLAB") and not pc.looks_like_part("YY") and not pc.looks_like_part("YY1")


def test_parts_up_to_version_20_are_read():
    """A code made with a larger split threshold (one QR of version 19 or 20) is still read."""
    whole = ten_instruments()
    reg = next(r for r in (replace(whole, instruments=whole.instruments[:k]) for k in range(10, 0, -1))
               if len(encode(r, part_chars=970)) == 1 and len(encode(r, part_chars=970)[0]) > pc.MAX_PART_CHARS)
    [text] = encode(reg, part_chars=970)
    assert qr_version(text) in (19, 20)
    assert decode([text]) == reg
