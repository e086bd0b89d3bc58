"""The signed ticket code: round trip, and every kind of bad input rejected with a
TicketCodeError (never another exception), of the right kind where it can be told."""

from __future__ import annotations

import base64
import math
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.domain import binary
from kiosk.domain import ticketcode as tc
from kiosk.domain.ids import PREFIX_ALPHABET, ticket_number
from kiosk.domain.ticketcode import CodeLine, TicketCodeError, TicketRecord, decode, encode, looks_like_code

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes_raw()
OTHER_KEY = Ed25519PrivateKey.generate()
OTHER_PUBLIC = OTHER_KEY.public_key().public_bytes_raw()
DEVICE = "01935d6e-8c3a-7b21-9c4e-0a1b2c3d4e5f"
OTHER_DEVICE = "01935d6e-8c3a-7b21-9c4e-0a1b2c3d4e60"
TICKET = "01935d6f-0000-7abc-8def-0123456789ab"
KEY_ID = slice(17, 21)  # where the signer's key id sits in the signed bytes
CATALOG_HASH, POLICY_HASH = bytes.fromhex("c0ffee01"), bytes.fromhex("0ddba115")


def keys_of(*known):
    """A desk that knows these (device uid, public key[, revoked]) keys."""
    keys = [tc.KnownKey(*k) for k in known or ((DEVICE, PUBLIC),)]
    return lambda signer_id: keys


def realistic(lines: int, **changes) -> TicketRecord:
    codes = ("L-001-001", "Z-002-001", "C-003-001", "D-105-0012", "R-210-003", "L-003-002", "Y-001-001",
             "F-012-004", "S-100-001", "G-001-002")
    record = TicketRecord(
        ticket_uid=TICKET, number="K7Q-261124-0007", device_uid=DEVICE,
        created_at=datetime(2026, 11, 24, 1, 41, 7, tzinfo=UTC), catalog_version=3,
        lines=tuple(CodeLine(codes[i % len(codes)], 2 + i % 5, tc.SERVICES_V1[i % 2], tc.USES_V1[i % 5],
                             amount_fen=12_000 * (i + 1), urgent_fen=None if i % 3 else 3_600 * (i + 1))
                    for i in range(lines)),
        total_fen=1_234_500, catalog_hash=CATALOG_HASH, policy_hash=POLICY_HASH,
    )
    return replace(record, **changes)


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    return code.version


# ---- strategies ------------------------------------------------------------------------------

uuids = st.uuids().map(str)
device_prefixes = st.one_of(st.text(PREFIX_ALPHABET, min_size=1, max_size=4), st.just(tc.PREFIX),
                            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=4))  # configured
standard_numbers = st.builds(
    ticket_number, device_prefixes,
    st.dates(datetime(2000, 1, 1).date(), datetime(2099, 12, 31).date()), st.integers(1, 99_999))
numbers = st.one_of(standard_numbers, st.text(max_size=13))  # any text up to 40 bytes of UTF-8
standard_codes = st.builds(
    lambda letter, hyphen, first, second: f"{letter}{hyphen}{first:03d}{second}",
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), st.sampled_from(["", "-"]), st.integers(0, 999),
    st.one_of(st.just(""), st.integers(0, 999).map(lambda n: f"-{n:03d}"),
              st.integers(0, 9999).map(lambda n: f"-{n:04d}")))
other_codes = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
words = st.text(max_size=12)
fen = st.one_of(st.none(), st.integers(0, 2**40))
lines = st.builds(
    CodeLine, st.one_of(standard_codes, other_codes), st.integers(0, 10**6),
    st.one_of(st.sampled_from(tc.SERVICES_V1), words), st.one_of(st.sampled_from(tc.USES_V1), words),
    st.one_of(st.none(), st.integers(0, 10**6)), st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(0, 10**8).map(lambda mm: Decimal(mm) / 1000)),  # to the mm
    st.booleans(), st.booleans(), fen, fen)
hashes = st.binary(min_size=tc.HASH_BYTES, max_size=32)  # a whole digest is cut to its first bytes
records = st.builds(
    TicketRecord, uuids, numbers, uuids,
    st.datetimes(datetime(1970, 1, 2), datetime(2105, 12, 31), timezones=st.just(UTC)),
    st.integers(0, 2**40), st.lists(lines, max_size=20).map(tuple), st.integers(0, 2**50), st.just(0),
    st.sampled_from((None, *tc.URGENT_V1)), hashes, hashes,
)


def _signed(record: TicketRecord) -> tuple[str, bytes]:
    text = encode(record, KEY)
    return text, tc.from_text(text)


def _rejected(text: str, keys_for=None) -> TicketCodeError:
    with pytest.raises(TicketCodeError) as caught:
        decode(text, keys_for or keys_of())
    assert caught.value.kind in tc.KINDS
    return caught.value


# ---- round trip ------------------------------------------------------------------------------


@given(records)
@example(realistic(5))
@example(realistic(0))
@example(realistic(30))
def test_any_record_round_trips_as_carried(record):
    text = encode(record, KEY)
    assert text.startswith(tc.PREFIX) and tc.BASE32_ALPHABET.issuperset(text[len(tc.PREFIX):])
    assert len(text) <= len(tc.PREFIX) + math.ceil(tc.MAX_RECORD_BYTES * 8 / 5)
    carried = tc.as_carried(record)
    assert decode(text, keys_of((record.device_uid, PUBLIC))) == carried
    # what the code may change, and nothing else
    assert carried.created_at == record.created_at.replace(microsecond=0)
    assert record.lines[:len(carried.lines)] == carried.lines
    assert carried.omitted_lines == len(record.lines) - len(carried.lines)


def test_a_realistic_ticket_round_trips_exactly():
    record = realistic(5)
    assert decode(encode(record, KEY), keys_of()) == record


@given(st.binary(max_size=400))
@example(b"")
@example(bytes(range(256)))
def test_the_base32_text_is_the_standard_librarys(data):
    assert tc.to_text(data) == tc.PREFIX + base64.b32encode(data).decode("ascii").rstrip("=")
    if data:
        assert tc.from_text(tc.to_text(data)) == data


@pytest.mark.parametrize("uid", [TICKET.upper(), TICKET.replace("-", ""), "{" + TICKET + "}", "urn:uuid:" + TICKET,
                                 TICKET + "\n", " " + TICKET, TICKET[:-1], None, uuid.UUID(TICKET)])
def test_only_a_uuid_in_canonical_text_is_written(uid):
    with pytest.raises(ValueError, match="ticket_uid is not a UUID"):
        encode(realistic(1, ticket_uid=uid), KEY)


def test_the_device_is_the_one_whose_key_verifies(monkeypatch):
    text = encode(realistic(2), KEY)
    assert decode(text, keys_of((OTHER_DEVICE, OTHER_PUBLIC), (DEVICE, PUBLIC))).device_uid == DEVICE
    # two keys that share a key id (1 in 4 billion): both are tried, the right one wins
    monkeypatch.setattr(tc, "key_id", lambda public: b"\0\0\0\0")
    monkeypatch.setattr(tc, "_signer", lru_cache(tc._signer.__wrapped__))  # its own cache, of those ids
    text = encode(realistic(2), KEY)
    assert decode(text, keys_of((OTHER_DEVICE, OTHER_PUBLIC), (DEVICE, PUBLIC))).device_uid == DEVICE
    assert _rejected(text, keys_of((OTHER_DEVICE, OTHER_PUBLIC))).kind == "bad_signature"


def test_the_code_carries_no_personal_data_and_no_device_uid():
    signed = tc.from_text(encode(realistic(3), KEY))
    assert uuid.UUID(DEVICE).bytes not in signed
    assert signed[KEY_ID] == tc.key_id(PUBLIC)


def test_a_ticket_with_more_lines_than_one_qr_holds_says_how_many_are_left_out():
    record = realistic(60)
    carried = decode(encode(record, KEY), keys_of())
    assert 0 < len(carried.lines) < 60 and len(carried.lines) + carried.omitted_lines == 60
    assert carried.lines == record.lines[:len(carried.lines)]


def test_the_wire_tables_know_todays_vocabulary():
    from kiosk.domain.fees import URGENT_TIERS
    from kiosk.domain.vocabulary import SERVICES, USES

    assert set(SERVICES) <= set(tc.SERVICES_V1) and set(USES) <= set(tc.USES_V1)
    assert set(URGENT_TIERS) <= set(tc.URGENT_V1)


def test_every_fee_code_of_the_demo_catalogue_takes_the_compact_form(catalog):
    for row in catalog.rows:
        assert tc._line_bytes(CodeLine(row.code, 1, row.service, "other"))[0] != 0, row.code


def test_bad_records_are_refused_when_encoding():
    for bad in (replace(realistic(1), created_at=datetime(2026, 1, 1)),  # naive
                replace(realistic(1), ticket_uid="K7Q-261124-0007"),
                replace(realistic(1), device_uid=DEVICE.upper()),  # not canonical: would not round trip
                replace(realistic(1), total_fen=-1),
                replace(realistic(1), catalog_hash=b""),  # every code says what it was priced with
                replace(realistic(1), lines=(CodeLine("L-001-001", 1, "verification", "other",
                                                      metres=Decimal("1.2345")),)),  # finer than the mm
                replace(realistic(1), lines=(CodeLine("L-001-001", 1, "verification", "other", points=-1),)),
                replace(realistic(1), number="N" * 41)):
        with pytest.raises(ValueError) as refused:
            encode(bad, KEY)
        assert not isinstance(refused.value, TicketCodeError)


def test_a_local_time_is_kept_as_the_same_instant():
    local = datetime(2026, 11, 24, 9, 41, 7, 654321, tzinfo=timezone(timedelta(hours=8)))
    carried = decode(encode(realistic(1, created_at=local), KEY), keys_of())
    assert carried.created_at == local.replace(microsecond=0) and carried.created_at.tzinfo == UTC


def test_the_raw_private_key_bytes_sign_as_well():
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = KEY.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert decode(encode(realistic(2), raw), keys_of()) == tc.as_carried(realistic(2))


@pytest.mark.parametrize("n", range(4))
def test_codes_carry_the_signature_the_key_files_library_writes(n):
    """libsodium signs (ticketcode._signer); Ed25519 is deterministic, so the bytes are the ones
    cryptography's OpenSSL writes for the same key, as every code printed before was signed."""
    signed = tc.from_text(encode(realistic(n), V2_KEY))
    body, signature = signed[:-tc.SIGNATURE_BYTES], signed[-tc.SIGNATURE_BYTES:]
    assert signature == V2_KEY.sign(body)


# ---- what scanners and hands type ------------------------------------------------------------


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


@pytest.mark.parametrize("typed", [
    str.lower,
    _full_width,
    lambda t: _full_width(t.lower()),
    lambda t: t + "\t",
    lambda t: t + "\r\n",
    lambda t: " ".join(t[i:i + 4] for i in range(0, len(t), 4)),
    lambda t: "-".join(t[i:i + 5] for i in range(0, len(t), 5)),
    lambda t: "\n".join(t[i:i + 60] for i in range(0, len(t), 60)) + "\n",
    lambda t: "\u3000" + t + "\u3000",  # ideographic spaces around
])
def test_lower_case_full_width_and_separated_forms_decode(typed):
    record = realistic(3)
    assert decode(typed(encode(record, KEY)), keys_of()) == record


@given(standard_numbers)
def test_a_ticket_number_typed_by_hand_never_looks_like_a_code(number):
    for typed in (number, number.lower(), number.replace("-", ""), _full_width(number)):
        assert not looks_like_code(typed)
        assert _rejected(typed).kind == "not_a_code"


def test_a_code_looks_like_a_code_in_every_form_a_scanner_types():
    text = encode(realistic(2), KEY)
    assert all(looks_like_code(t) for t in (text, text.lower(), _full_width(text), text + "\r", text[:20]))
    assert not any(looks_like_code(t) for t in ("", "JL", "JL-", "K7Q-261124-0007", "JLA1", "https://x.cn/JLAB"))


@given(st.text())
@example("JL")
@example("JLA")
@example("jl" + "a" * 100)
def test_looks_like_code_is_exactly_what_decode_does_not_call_not_a_code(text):
    try:
        decode(text, keys_of())
    except TicketCodeError as e:
        assert (e.kind == "not_a_code") == (not looks_like_code(text))


# ---- bad input: rejected, never a crash -------------------------------------------------------


@given(st.text())
@example("JL" + "A" * 8)
@example("JL" + "A" * 7)
@example("ＪＬ" + "Ａ" * 200)
def test_random_text_raises_only_ticket_code_errors(text):
    for candidate in (text, tc.PREFIX + text, tc.PREFIX + text.upper()):
        _rejected(candidate)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=1, max_size=600))
def test_random_base32_behind_the_prefix_is_rejected(body):
    assert _rejected(tc.PREFIX + body).kind in ("damaged", "unsupported_version", "unknown_device", "bad_signature")


@given(st.binary(max_size=400))
def test_random_bytes_of_this_format_version_are_rejected(data):
    error = _rejected(tc.to_text(bytes([tc.FORMAT_VERSION]) + data))
    assert error.kind in ("damaged", "unknown_device", "bad_signature")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(records, st.data())
def test_signed_garbage_never_crashes_the_parser(record, data):
    """Even with a valid signature over it (a buggy or hostile signer), a record of broken
    structure is `damaged`, and any record that parses is returned whole."""
    _, signed = _signed(record)
    body = bytearray(signed[:-tc.SIGNATURE_BYTES])
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.integers(1, len(body) - 1))] = data.draw(st.integers(0, 255))
    body = bytes(body[:data.draw(st.integers(1, len(body)))])
    text = tc.to_text(body + KEY.sign(body))
    try:
        got = decode(text, keys_of((record.device_uid, PUBLIC)))
    except TicketCodeError as e:
        assert e.kind == "damaged" or (e.kind == "unknown_device" and body[KEY_ID] != signed[KEY_ID])
    else:
        assert isinstance(got, TicketRecord)


@given(records, st.data())
def test_any_single_byte_change_is_rejected(record, data):
    _, signed = _signed(record)
    at = data.draw(st.integers(0, len(signed) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != signed[at]))
    changed = signed[:at] + bytes([value]) + signed[at + 1:]
    error = _rejected(tc.to_text(changed), keys_of((record.device_uid, PUBLIC)))
    if at == 0 and value not in tc.READ_VERSIONS:
        assert error.kind == "unsupported_version"
    elif at == 0:  # read as the other format it names: its structure or its signature fails
        assert error.kind in ("damaged", "bad_signature")
    elif at >= len(signed) - tc.SIGNATURE_BYTES:
        assert error.kind == "bad_signature"
    elif KEY_ID.start <= at < KEY_ID.stop:  # the key id: some other device's key, not known here
        assert error.kind == "unknown_device"
    else:
        assert error.kind in ("damaged", "bad_signature")


TYPED_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=.:$%*@#!?é中"


@given(records, st.data())
def test_any_character_change_of_the_text_is_rejected(record, data):
    text, _ = _signed(record)
    at = data.draw(st.integers(0, len(text) - 1))
    new = data.draw(st.sampled_from(TYPED_CHARACTERS).filter(lambda ch: ch != text[at]))
    error = _rejected(text[:at] + new + text[at + 1:], keys_of((record.device_uid, PUBLIC)))
    if at < len(tc.PREFIX) or new not in tc.BASE32_ALPHABET:
        assert error.kind == "not_a_code"


@given(records, st.data())
def test_any_truncation_is_rejected(record, data):
    text, _ = _signed(record)
    cut = data.draw(st.integers(0, len(text) - 1))
    error = _rejected(text[:cut], keys_of((record.device_uid, PUBLIC)))
    assert error.kind == ("not_a_code" if cut <= len(tc.PREFIX) else "damaged")


@given(records, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=1, max_size=80))
def test_any_extension_is_rejected(record, tail):
    text, _ = _signed(record)
    assert _rejected(text + tail, keys_of((record.device_uid, PUBLIC))).kind == "damaged"


@given(records)
def test_re_signing_with_another_key_is_a_bad_signature(record):
    """Signed by a key the desk does not know: unknown; passed off as the genuine key: forged."""
    forged = tc.from_text(encode(record, OTHER_KEY))
    assert _rejected(tc.to_text(forged)).kind == "unknown_device"
    body = forged[:KEY_ID.start] + tc.key_id(PUBLIC) + forged[KEY_ID.stop:-64]
    assert _rejected(tc.to_text(body + OTHER_KEY.sign(body))).kind == "bad_signature"


def test_a_forged_total_is_a_bad_signature():
    genuine = tc.from_text(encode(realistic(2), KEY))
    forged = tc.from_text(encode(realistic(2, total_fen=100), OTHER_KEY))
    # the forger keeps the genuine signature: content and signature no longer agree
    forged = forged[:KEY_ID.start] + genuine[KEY_ID] + forged[KEY_ID.stop:-64]
    assert _rejected(tc.to_text(forged + genuine[-64:])).kind == "bad_signature"


def test_unknown_and_revoked_devices_and_newer_formats_are_named():
    text = encode(realistic(1), KEY)
    assert _rejected(text, lambda signer_id: []).kind == "unknown_device"
    assert _rejected(text, keys_of((DEVICE, PUBLIC, True))).kind == "revoked"
    assert _rejected(text, keys_of((DEVICE, b"\x01" * 31))).kind == "unknown_device"  # a broken stored key
    data = tc.from_text(text)
    for other in (1, 4):  # format 1 (with the organisation, before key ids), and a newer one
        assert _rejected(tc.to_text(bytes([other]) + data[1:])).kind == "unsupported_version"


def test_base32_with_unused_bits_set_is_damaged_not_the_same_code():
    """The last character's low bits beyond the data decode to the same bytes; only the
    canonical text is the code (else two texts would be the same ticket)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    text = next(t for t in (encode(realistic(n), KEY) for n in range(5)) if len(tc.from_text(t)) % 5)
    flipped = text[:-1] + alphabet[alphabet.index(text[-1]) ^ 1]  # the lowest bit is always unused here
    assert _rejected(flipped).kind == "damaged"


def test_messages_hold_no_customer_data():
    record = realistic(2, number="K7Q-261124-0042")
    text = encode(record, KEY)
    for bad in (text[:-3], text + "AA", text.replace(text[30], "Z" if text[30] != "Z" else "Y", 1), "0" + text):
        message = str(_rejected(bad))
        assert "0042" not in message and DEVICE not in message
    with pytest.raises(ValueError):
        TicketCodeError("x", kind="no_such_kind")


# ---- size ------------------------------------------------------------------------------------


def test_a_five_line_ticket_fits_a_version_10_qr_at_m_in_alphanumeric_mode():
    from qrcode.util import MODE_ALPHA_NUM

    text = encode(realistic(5), KEY)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    assert code.version <= 10
    assert {chunk.mode for chunk in code.data_list} == {MODE_ALPHA_NUM}


def test_every_code_prints_at_4_dots_per_module_or_more_on_58mm_paper():
    from printer.raster import native_module_size

    for n in (1, 5, 10, 20, 100):
        text = encode(realistic(n, number="K7QX-261124-12345"), KEY)
        assert native_module_size(text, 384) >= 4, n  # sized for byte mode, the worst the printer may pick
    assert native_module_size(encode(realistic(5), KEY), 384) == 5  # a version 8 QR


# ---- format 3: what the price depends on ------------------------------------------------------

# A format 2 code as kiosks printed it before format 3 (Ed25519 signatures are deterministic:
# key bytes 0..31): customers still hold these on paper.
V2_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
V2_CODE = ("JLAIAZGXLPAAAHVPEN54ASGRLHRGVVMR22U5VQJ2ZTAMBUWN2RAP6AIB4QSACAEAADLYAEAAICADHABAABAEKBMAGAAEDSCVVCQGQZ2"
           "TIRXJQGM5VM4JG6EWZGA5Q7F5UULVKP2FIZVEATBKKNX6K5ECNIUCP3J3WYT5ZHPSXTEHZDGW73BUEEJG4H6UG7BHGQN4BA")


def three_lines_with_add_ons() -> TicketRecord:
    """A thermometer with 20 points, a tape of 12.5 m, a multimeter with 6 ranges, AC+DC and extra data."""
    return replace(realistic(0), urgent="24h", total_fen=135_200, lines=(
        CodeLine("L-001-001", 2, "verification", "trade", points=20, amount_fen=24_000, urgent_fen=24_000),
        CodeLine("C-003-001", 1, "calibration", "other", metres=Decimal("12.5"), amount_fen=6_800, urgent_fen=6_800),
        CodeLine("D-105-0012", 3, "calibration", "other", ranges=6, ac_dc=True, extra_data=True, amount_fen=36_800,
                 urgent_fen=36_800)))


def test_a_format_2_code_still_decodes_without_prices():
    record = decode(V2_CODE, keys_of((DEVICE, V2_KEY.public_key().public_bytes_raw())))
    assert record.number == "K7Q-261124-0007" and record.total_fen == 67_600 and record.urgent == "24h"
    assert [(ln.code, ln.quantity, ln.service, ln.use) for ln in record.lines] == [
        ("L-001-001", 2, "verification", "trade"), ("Z-002-001", 1, "calibration", "other"),
        ("C-003-001", 7, "testing", "safety")]
    assert not record.carries_prices and all(ln.amount_fen is None and ln.points is None for ln in record.lines)


def test_a_format_2_code_cut_or_changed_is_damaged_or_forged():
    keys = keys_of((DEVICE, V2_KEY.public_key().public_bytes_raw()))
    assert _rejected(V2_CODE[:-9], keys).kind == "damaged"
    assert _rejected(V2_CODE[:60] + ("A" if V2_CODE[60] != "A" else "B") + V2_CODE[61:], keys).kind in (
        "damaged", "bad_signature")


def test_a_three_line_ticket_with_add_ons_round_trips_well_within_the_budget():
    record = three_lines_with_add_ons()
    text = encode(record, KEY)
    assert decode(text, keys_of()) == record
    assert record.carries_prices
    size = len(tc.from_text(text))
    assert size <= 160 < tc.MAX_RECORD_BYTES, size  # format 2 took 122 bytes for 3 lines, without the add-ons
    bare = replace(record, lines=tuple(CodeLine(ln.code, ln.quantity, ln.service, ln.use, amount_fen=ln.amount_fen)
                                    for ln in record.lines))
    assert len(tc.from_text(encode(bare, KEY))) < size  # add-ons cost bytes only when set


@given(records)
def test_the_carried_figures_are_the_signed_ones(record):
    carried = decode(encode(record, KEY), keys_of((record.device_uid, PUBLIC)))
    assert carried.catalog_hash == record.catalog_hash[:tc.HASH_BYTES]
    assert carried.policy_hash == record.policy_hash[:tc.HASH_BYTES]
    for sent, got in zip(record.lines, carried.lines):
        assert (got.points, got.ranges, got.metres, got.ac_dc, got.extra_data, got.amount_fen, got.urgent_fen) == (
            sent.points, sent.ranges, sent.metres, sent.ac_dc, sent.extra_data, sent.amount_fen, sent.urgent_fen)


@given(st.data())
def test_a_format_3_record_with_a_line_cut_short_is_damaged(data):
    """Signed, but its last line's add-on or amount missing: damaged, never a line without its price."""
    record = three_lines_with_add_ons()
    _, signed = _signed(record)
    body = signed[:-tc.SIGNATURE_BYTES]
    cut = body[:len(body) - data.draw(st.integers(1, 6))]
    assert _rejected(tc.to_text(cut + KEY.sign(cut))).kind == "damaged"
    flags_at = len(body) - 1 - len(binary.varint(36_800)) * 2 - 1 - 1  # ranges (1 byte), amount, urgent
    unused = bytearray(body)
    unused[flags_at] |= 0x80  # a flag no encoder writes
    assert _rejected(tc.to_text(bytes(unused) + KEY.sign(bytes(unused)))).kind == "damaged"
