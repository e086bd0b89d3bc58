import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.hidden_text import hidden_at
from kiosk.domain.validation import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    FieldError,
    clean_count,
    clean_credit_code,
    clean_organisation,
    clean_person,
    clean_phone,
    clean_quantity,
    clean_text,
    credit_code_check_char,
    mask_phone,
)
from kiosk.i18n import MESSAGES

VALIDATION_MESSAGES = {key: text for key, text in MESSAGES.items() if key.startswith("error.")}


def error_key(func, *args, **kwargs):
    with pytest.raises(FieldError) as info:
        func(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------- FieldError

def test_field_error_is_a_value_error_with_key_and_values():
    err = FieldError("error.too_long", {"max": 30})
    assert isinstance(err, ValueError)
    assert err.key == "error.too_long"
    assert err.values == {"max": 30}
    assert FieldError("error.required").values == {}


# ---------------------------------------------------------------------------- clean_text

@pytest.mark.parametrize(("raw", "expected"), [
    ("贵阳市计量测试院", "贵阳市计量测试院"),
    ("  贵州ＡＢＣ仪表  有限公司 ", "贵州ABC仪表 有限公司"),
    ("中石化（贵州）１２３加油站", "中石化（贵州）123加油站"),  # full-width brackets kept
    ("张\u3000三", "张 三"),  # ideographic space folded
    ("a\t\n  b", "a b"),  # whitespace runs collapse
    ("0～50℃ ±0.5℃ 2×10⁵Pa", "0～50℃ ±0.5℃ 2×10⁵Pa"),
    ("0~360°", "0~360°"),
    ("《计量法》“规范”‘单’·—…，。、", "《计量法》“规范”‘单’·—…，。、"),
    ("", ""),
    ("   ", ""),
])
def test_clean_text_accepts(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(("raw", "key"), [
    ("", "error.required"),
    (" \u3000 ", "error.required"),
    ("abc\x1b[2J", "error.control_chars"),
    ("公司\u202e", "error.control_chars"),  # right-to-left override
    ("公\u200b司", "error.control_chars"),  # zero-width space
    ("\ufeff公司", "error.control_chars"),
    ("公司😀", "error.emoji"),
    ("公司❤", "error.emoji"),  # BMP symbol, category So
    ("公司❤\ufe0f", "error.emoji"),
    ("公司★", "error.emoji"),
    ("1\ufe0f\u20e3", "error.emoji"),  # keycap
    ("公司🧪", "error.emoji"),  # 🧪 outside the BMP, not a hanzi
    ("\ue000", "error.emoji"),  # private use
    ("\ud800", "error.emoji"),  # lone surrogate
])
def test_clean_text_refuses(raw, key):
    assert error_key(clean_text, raw, required=True).key == key


def test_rare_hanzi_in_registered_names_are_accepted():
    # CJK Extension B: in people's and companies' names; GB18030 encodes it.
    assert clean_text("𠮷野家（贵阳）有限公司") == "𠮷野家（贵阳）有限公司"


def test_clean_text_length_counts_characters_after_cleaning():
    assert clean_text("计" * 10, max_length=10) == "计" * 10
    assert clean_text("  " + "计" * 10 + "  ", max_length=10) == "计" * 10
    err = error_key(clean_text, "计" * 11, max_length=10)
    assert (err.key, err.values) == ("error.too_long", {"max": 10})


def test_organisation_and_person():
    assert clean_organisation(" 贵州省计量测试院 ") == "贵州省计量测试院"
    assert clean_person("李 四") == "李 四"
    assert error_key(clean_organisation, "").key == "error.required"
    assert error_key(clean_person, "  ").key == "error.required"
    assert clean_organisation("单" * 100) == "单" * 100
    assert error_key(clean_organisation, "单" * 101).values == {"max": 100}
    assert clean_person("名" * 30) == "名" * 30
    assert error_key(clean_person, "名" * 31).values == {"max": 30}


@given(st.text(max_size=60))
def test_clean_text_either_cleans_idempotently_or_raises_a_known_key(raw):
    try:
        cleaned = clean_text(raw)
    except FieldError as err:
        assert err.key in VALIDATION_MESSAGES
    else:
        assert clean_text(cleaned) == cleaned
        assert cleaned == cleaned.strip()
        assert "  " not in cleaned


# ---------------------------------------------------------------------------- phone

@pytest.mark.parametrize(("raw", "expected"), [
    ("13812345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("＋８６ 138-1234-5678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("86 138 1234 5678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("19912345678", "19912345678"),
    ("0851-85551234", "0851-85551234"),
    ("085185551234", "0851-85551234"),
    ("0851 8555 1234", "0851-85551234"),
    ("(0851)85551234", "0851-85551234"),
    ("（0851）8555-1234", "0851-85551234"),
    ("0851－8555 1234转123", "0851-85551234-123"),
    ("0851-85551234-123", "0851-85551234-123"),
    ("0851-85551234 ext. 45", "0851-85551234-45"),
    ("0851-85551234#6", "0851-85551234-6"),
    ("0851-8555-1234", "0851-85551234"),
    ("085-185551234", "0851-85551234"),  # misplaced hyphen
    ("0851-8555123-45", "0851-8555123-45"),
    ("(0851) 8555—1234", "0851-85551234"),  # em dash from the IME
    ("0851-85551234 分机 8", "0851-85551234-8"),
    ("8555 1234 x12", "85551234-12"),
    ("010-62751234", "010-62751234"),
    ("01062751234", "010-62751234"),
    ("02158881234", "021-58881234"),
    ("0371-6555123", "0371-6555123"),  # 7-digit local number
    ("85551234", "85551234"),
    ("8555-1234", "85551234"),
    ("6555123", "6555123"),
    ("85551234转8", "85551234-8"),
])
def test_clean_phone_accepts(raw, expected):
    assert clean_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "",
    "   ",
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "12812345678",  # 12x is not a mobile prefix
    "13812345678转12",  # mobiles have no extension
    "+86 0851 85551234",  # +86 before a mobile only
    "+1 4155552671",
    "0851-05551234",  # local numbers do not start with 0 / 1
    "0851-1555123",
    "15551234",
    "123456",  # too short
    "(08)85551234",
    "02612345678",  # would be 026 + a local number starting with 1
    "0851-85551234-123转4",
    "0851-85551234-1234567",  # extension too long
    "0851-85551234转",
    "138１２３４５６７８a",
    "138--1234-5678",
    "138.1234.5678",
    "电话13812345678",
    "٣٨١٢٣٤٥٦٧٨١",  # other scripts' digits are not folded by NFKC
])
def test_clean_phone_refuses(raw):
    assert error_key(clean_phone, raw).key == "error.phone"


@pytest.mark.parametrize(("raw", "masked"), [
    ("13812345678", "138****5678"),
    ("＋８６ 138-1234-5678", "138****5678"),
    ("0851-85551234", "0851-****1234"),
    ("0371-6555123", "0371-***5123"),
    ("0851-85551234-123", "0851-****1234-123"),
    ("85551234", "****1234"),
    ("not a phone 123456", "not a phone **3456"),  # fallback: all but the last four digits
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_any_mobile_survives_separators_and_full_width(mobile):
    typed = f"+86 {mobile[:3]}-{mobile[3:7]} {mobile[7:]}"
    full_width = typed.translate({ord(c): ord(c) + 0xFEE0 for c in string.digits + "+-"})
    assert clean_phone(typed) == clean_phone(full_width) == mobile
    assert mask_phone(mobile) == mobile[:3] + "****" + mobile[7:]


@given(st.text(max_size=30))
def test_clean_phone_output_is_canonical_and_stable(raw):
    try:
        phone = clean_phone(raw)
    except FieldError as err:
        assert err.key == "error.phone"
    else:
        assert re.fullmatch(r"1[3-9]\d{9}|(0[1-9]\d{1,2}-)?[2-9]\d{6,7}(-\d{1,6})?", phone)
        assert clean_phone(phone) == phone
        assert len(mask_phone(phone)) == len(phone)


# ---------------------------------------------------------------------------- credit code

# The first is the example commonly quoted with GB 32100; the others were recalled from
# the licences of large companies (Huawei, Tencent, Alibaba, Xiaomi, a Shenzhen insurer) and
# each passes the check, which a wrong recollection would do only once in 31.
VALID_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "91110108551385082Q",
    "91440300708461136T",
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_published_credit_codes_are_valid(code):
    assert credit_code_check_char(code[:17]) == code[17]
    assert clean_credit_code(code) == code


@pytest.mark.parametrize(("raw", "expected"), [
    ("91350100m000100y43", "91350100M000100Y43"),  # lower case
    ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full width
    ("９１３５０１００ｍ０００１００ｙ４３", "91350100M000100Y43"),
    (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),  # spaces typed as groups
    ("", ""),  # optional
    ("   ", ""),
])
def test_clean_credit_code_accepts(raw, expected):
    assert clean_credit_code(raw) == expected


@pytest.mark.parametrize(("raw", "key"), [
    ("91350100M000100Y4", "error.credit_code_length"),
    ("91350100M000100Y433", "error.credit_code_length"),
    ("91350100M000100Y42", "error.credit_code_check"),
    ("91350100M000100Y34", "error.credit_code_check"),  # swapped last two
    ("91350100M0001OOY43", "error.credit_code_chars"),  # letter O for zero
    ("91350100I000100Y43", "error.credit_code_chars"),
    ("91350100S000100Y43", "error.credit_code_chars"),
    ("91350100V000100Y43", "error.credit_code_chars"),
    ("91350100Z000100Y43", "error.credit_code_chars"),
    ("91350100-000100Y43", "error.credit_code_chars"),
])
def test_clean_credit_code_refuses(raw, key):
    assert error_key(clean_credit_code, raw).key == key


def test_credit_code_weights_are_powers_of_three_mod_31():
    assert CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


BODIES = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)


@given(BODIES)
def test_a_computed_check_character_makes_a_valid_code(body):
    code = body + credit_code_check_char(body)
    assert clean_credit_code(code) == code
    assert clean_credit_code(code.lower()) == code


@given(BODIES, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_every_single_substitution_is_detected(body, position, shift):
    # 31 is prime and every weight is non-zero mod 31, so changing one body character changes
    # the weighted sum mod 31, and the check character is a bijection of that sum.
    code = body + credit_code_check_char(body)
    replacement = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(code[position]) + shift) % 31]
    altered = code[:position] + replacement + code[position + 1:]
    assert altered != code
    assert error_key(clean_credit_code, altered).key == "error.credit_code_check"


def test_every_single_substitution_is_detected_exhaustively_for_one_body():
    body = "91350100M000100Y4"
    code = body + credit_code_check_char(body)
    for position in range(18):
        for ch in CREDIT_CODE_ALPHABET:
            if ch != code[position]:
                altered = code[:position] + ch + code[position + 1:]
                assert credit_code_check_char(altered[:17]) != altered[17]


# ---------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 1),
    ("１２", 12),
    (" 3 ", 3),
    ("007", 7),
    ("999", 999),
    (5, 5),
])
def test_clean_quantity_accepts(raw, expected):
    assert clean_quantity(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "-1", "1000", "1.5", "1e3", "三", "3台", "٣", 0, -2, 1000, True, "9" * 5000])
def test_clean_quantity_refuses(raw):
    err = error_key(clean_quantity, raw)
    assert (err.key, err.values) == ("error.quantity", {"max": 999})


def test_clean_quantity_custom_maximum():
    assert clean_quantity("50", maximum=50) == 50
    assert error_key(clean_quantity, "51", maximum=50).values == {"max": 50}


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("１０", 10), (3, 3)])
def test_clean_count_accepts(raw, expected):
    assert clean_count(raw, 1, 10, "error.certificates") == expected


@pytest.mark.parametrize("raw", ["0", "11", "", "x", 11])
def test_clean_count_refuses_with_the_callers_key(raw):
    err = error_key(clean_count, raw, 1, 10, "error.certificates")
    assert (err.key, err.values) == ("error.certificates", {"min": 1, "max": 10})


@given(st.integers(min_value=-5, max_value=2000))
def test_clean_quantity_agrees_with_int_for_plain_digits(n):
    text = str(n)
    if 1 <= n <= 999:
        assert clean_quantity(text) == n
    else:
        assert error_key(clean_quantity, text).key == "error.quantity"


# ---------------------------------------------------------------------------- messages

def test_every_raised_key_has_both_texts_and_placeholders_agree():
    raised = {
        "error.required", "error.too_long", "error.control_chars", "error.emoji", "error.phone",
        "error.credit_code_length", "error.credit_code_chars", "error.credit_code_check", "error.quantity",
    }
    assert raised <= set(VALIDATION_MESSAGES)
    for key, (zh, en) in VALIDATION_MESSAGES.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    assert VALIDATION_MESSAGES["error.too_long"][0].format(max=30) == "最多30个字"


PLAIN = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=8)
JSONISH = st.recursive(PLAIN | st.integers() | st.none(),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(PLAIN, inner, max_size=4),
                       max_leaves=12)


@given(JSONISH, st.sampled_from("\u202e\u200b\u00ad\ufeff\x1b\x9b"), st.data())
def test_hidden_at_finds_the_one_hidden_character_another_node_wrote_and_names_its_field(data, ch, draw):
    assert hidden_at(data, "payload") is None  # printable text (and numbers, nulls) passes
    spoiled = {"data": data, "lines": [{"model": draw.draw(PLAIN) + ch}]}
    assert hidden_at(spoiled, "payload") == "payload.lines[0].model"
