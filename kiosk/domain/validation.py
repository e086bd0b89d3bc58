"""Validation of what a walk-in customer types on the touch screen (often with a Chinese IME).

Pure: no database, no Textual. Every ``clean_*`` function returns the cleaned value or
raises :class:`FieldError` carrying an i18n message key (texts live in the catalogue,
``kiosk.i18n``), so the screen can show the message in either language.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kiosk.domain.hidden_text import hidden
from kiosk.domain.vocabulary import normalise_text


class FieldError(ValueError):
    """A field the customer typed is not acceptable; ``key`` names the message to show."""

    def __init__(self, key: str, values: dict[str, object] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.values: dict[str, object] = dict(values or {})

    def __repr__(self) -> str:
        return f"FieldError({self.key!r}, {self.values!r})"


# ---------------------------------------------------------------------------- free text

MAX_TEXT = 200  # the longest free text a ticket keeps or an event carries (a screen may ask for less)

# Symbols (category So) a certificate printer does print and a spec or name may need.
_ALLOWED_SYMBOLS = frozenset("℃℉°")
# Variation selectors (U+FE0F turns ❤ into an emoji) and the combining keycap (1️⃣).
_EMOJI_MARKS = frozenset(chr(cp) for cp in range(0xFE00, 0xFE10)) | {"\u20e3"}


def _unprintable(ch: str) -> bool:
    """Emoji and other characters a GB18030 receipt / certificate printer cannot print.

    Rare hanzi beyond the BMP (CJK Extensions B and later, e.g. 𠮷 in a person's or a
    company's registered name) are allowed: GB18030 encodes them and people need them.
    """
    if ch in _EMOJI_MARKS:
        return True
    if ord(ch) > 0xFFFF:
        return unicodedata.category(ch) != "Lo" or not 0x20000 <= ord(ch) <= 0x3FFFF
    category = unicodedata.category(ch)
    if category == "So":
        return ch not in _ALLOWED_SYMBOLS
    # Cs: lone surrogates; Co: private use (IME "rare character" glyphs); Cn: unassigned.
    return category in ("Cs", "Co", "Cn")


def clean_text(value: str, *, required: bool = False, max_length: int = 100) -> str:
    """Fold full-width letters/digits and the ideographic space, collapse whitespace, strip.

    Full-width punctuation such as （集团） is kept: it is part of registered names.
    """
    text = " ".join(normalise_text(value).split())  # any run of whitespace (\t, \n too) -> one space
    if any(hidden(ch) for ch in text):
        raise FieldError("error.control_chars")
    if any(_unprintable(ch) for ch in text):
        raise FieldError("error.emoji")
    if not text:
        if required:
            raise FieldError("error.required")
        return ""
    if len(text) > max_length:
        raise FieldError("error.too_long", {"max": max_length})
    return text


@lru_cache(maxsize=1)
def required_text_pattern() -> str:
    """A regular expression matching exactly the text `clean_text(value, required=True)` takes
    (the length aside): what an API describes for such a field (central's OpenAPI). Built from
    the same rules, character by character (~0.4 s, once): spaces anywhere, at least one other
    character, none of them a control, format or unprintable one."""

    def visible(ch: str) -> bool:
        return not ch.isspace() and not hidden(ch) and not _unprintable(ch)

    # Beyond the BMP only CJK extensions are printable (_unprintable).
    shown = _character_class([*range(0x10000), *range(0x20000, 0x40000)], visible)
    return f"^(?:{space_class()}*{shown})+{space_class()}*$"


@lru_cache(maxsize=1)
def space_class() -> str:
    """The characters str.split() and str.strip() take for spaces, as a regular expression's
    class: Python's \\s and ECMA-262's differ (\\x1c-\\x1f, \\x85, \\ufeff), this says which."""
    return _character_class(range(0x10000), str.isspace)


def _character_class(codes, keep) -> str:
    """The code points `keep` keeps, as `[...]` of runs: BMP ones as \\uXXXX, others as
    themselves, so that Python and ECMA-262 (u flag) read the class alike."""
    runs: list[list[int]] = []  # [first, last] of each run kept
    for cp in codes:
        if keep(chr(cp)):
            if runs and runs[-1][1] == cp - 1:
                runs[-1][1] = cp
            else:
                runs.append([cp, cp])

    def one(cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)

    return "[" + "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in runs) + "]"


def clean_organisation(value: str) -> str:
    """The customer's organisation (company, hospital...) as on its licence."""
    return clean_text(value, required=True, max_length=100)


def clean_person(value: str) -> str:
    """The contact person's name."""
    return clean_text(value, required=True, max_length=30)


# ---------------------------------------------------------------------------- phone

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_LOCAL_RE = re.compile(r"[2-9][0-9]{6,7}")  # local numbers never start with 0 or 1
_AREA_RE = re.compile(r"0[1-9][0-9]{1,2}")
_DIGITS_RE = re.compile(r"[0-9]+")
_DASHES_RE = re.compile(r"[\u2010-\u2015\u2212\u30fc\ufe63]")  # ‐ ‑ ‒ – — ― − ー ﹣ -> "-"
_EXT_RE = re.compile(r"(.*?)\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})", re.IGNORECASE)
_INTL_RE = re.compile(r"(?:\+|00)\s*86[\s-]*")
_PAREN_AREA_RE = re.compile(r"\(\s*([0-9]+)\s*\)[\s-]*(.*)")


def _split_area(digits: str) -> tuple[str, str]:
    """Area code by the national plan: 010 and 02X have three digits, all others four."""
    if not digits.startswith("0"):
        return "", digits
    size = 3 if digits[1:2] in ("1", "2") else 4
    return digits[:size], digits[size:]


def _landline(area: str, local: str, ext: str) -> str | None:
    if area and not _AREA_RE.fullmatch(area):
        return None
    if not _LOCAL_RE.fullmatch(local):
        return None
    return "-".join(part for part in (area, local, ext) if part)


def clean_phone(value: str) -> str:
    """A mainland mobile or landline number, in canonical form.

    Mobile: ``13812345678`` (a leading +86 / 0086 / 86 is dropped). Landline: ``0851-85551234``,
    ``0851-85551234-123`` with an extension, ``85551234`` when typed without area code.
    Separators people type (spaces, hyphens, full-width －, parentheses round the area code)
    are accepted; full-width digits are folded (NFKC).
    """
    text = _DASHES_RE.sub("-", unicodedata.normalize("NFKC", value)).strip()
    ext = ""
    if m := _EXT_RE.fullmatch(text):
        text, ext = m.group(1), m.group(2)
    international = False
    if m := _INTL_RE.match(text):
        text, international = text[m.end():], True
    area = ""
    if m := _PAREN_AREA_RE.fullmatch(text):
        area, text = m.group(1), m.group(2)
        if not _AREA_RE.fullmatch(area):
            raise FieldError("error.phone")
    groups = [group.replace(" ", "") for group in text.split("-")]
    if not all(_DIGITS_RE.fullmatch(group) for group in groups):
        raise FieldError("error.phone")  # letters, stray symbols, empty groups ("--")
    digits = "".join(groups)

    if not area and not ext:
        if _MOBILE_RE.fullmatch(digits):
            return digits
        if not international and len(digits) == 13 and digits.startswith("86") \
                and _MOBILE_RE.fullmatch(digits[2:]):
            return digits[2:]
    if international:
        raise FieldError("error.phone")  # +86 is accepted before a mobile only

    # An area code typed apart from the number ("0851-8555 1234") is taken as typed.
    hyphenated_area = not area and len(groups) > 1 and bool(_AREA_RE.fullmatch(groups[0]))
    if hyphenated_area:
        area, groups = groups[0], groups[1:]
    body = "".join(groups)
    candidates = [(area, body, ext) if area else (*_split_area(body), ext)]
    if not ext and len(groups) > 1 and len(groups[-1]) <= 6:
        # "0851-85551234-123": the last hyphenated group is the extension
        rest = "".join(groups[:-1])
        candidates.append((area, rest, groups[-1]) if area else (*_split_area(rest), groups[-1]))
    if hyphenated_area and not ext:
        # a hyphen misplaced inside the area code ("085-185551234"): the national plan decides
        candidates.append((*_split_area(digits), ""))
    for cand_area, local, cand_ext in candidates:
        if (result := _landline(cand_area, local, cand_ext)) is not None:
            return result
    raise FieldError("error.phone")


EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"  # one @, a dot after it, no spaces (events.Notify too)


def is_mobile(phone: str) -> bool:
    """A mainland mobile number as clean_phone writes it: one that can take an SMS (a notice)."""
    return _MOBILE_RE.fullmatch(phone or "") is not None


def clean_email(value: str) -> str:
    """An e-mail address for notices (optional: "" stays ""): widths folded, spaces taken off."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if text and (len(text) > 100 or not re.fullmatch(EMAIL_PATTERN, text)):
        raise FieldError("notice.email.bad")
    return text


def mask_phone(phone: str) -> str:
    """For screens and receipts: 138****5678, 0851-****1234, 0851-****1234-123, ****1234.

    Takes anything ``clean_phone`` accepts; something it does not is masked digit by digit,
    keeping the last four.
    """
    try:
        canonical = clean_phone(phone)
    except FieldError:
        digits_seen = sum(ch.isdigit() for ch in phone)
        out = []
        for ch in phone:
            if ch.isdigit():
                digits_seen -= 1
                out.append(ch if digits_seen < 4 else "*")
            else:
                out.append(ch)
        return "".join(out)
    if _MOBILE_RE.fullmatch(canonical):
        return f"{canonical[:3]}****{canonical[-4:]}"
    parts = canonical.split("-")
    if parts[0].startswith("0"):
        area, local, *ext = parts
    else:
        area, local, ext = "", parts[0], parts[1:]
    masked = "*" * (len(local) - 4) + local[-4:]
    return "-".join(part for part in (area, masked, *ext) if part)


# ---------------------------------------------------------------------------- credit code

# GB 32100-2015 统一社会信用代码: the 31 characters used (no I, O, Z, S, V).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_CREDIT_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}


def credit_code_check_char(body: str) -> str:
    """The 18th (check) character for a 17-character body, upper case from the alphabet."""
    if len(body) != 17:
        raise ValueError("a credit-code body has 17 characters")
    total = sum(_CREDIT_VALUE[ch] * weight for ch, weight in zip(body, CREDIT_CODE_WEIGHTS, strict=True))
    check = 31 - total % 31
    return CREDIT_CODE_ALPHABET[0 if check == 31 else check]


def clean_credit_code(value: str) -> str:
    """The unified social credit code (optional: empty input gives "").

    NFKC-folded, upper-cased, spaces removed; 18 characters of the GB 32100 alphabet with a
    correct check character.
    """
    code = "".join(unicodedata.normalize("NFKC", value).upper().split())
    if not code:
        return ""
    if len(code) != 18:
        raise FieldError("error.credit_code_length")
    if any(ch not in _CREDIT_VALUE for ch in code):
        raise FieldError("error.credit_code_chars")
    if credit_code_check_char(code[:17]) != code[17]:
        raise FieldError("error.credit_code_check")
    return code


# ---------------------------------------------------------------------------- numbers

def _parse_whole(value: str | int, limit: int) -> int | None:
    """A non-negative whole number, or None. Values above ``limit`` may come back as limit + 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not re.fullmatch(r"[0-9]+", text):
        return None
    text = text.lstrip("0") or "0"
    if len(text) > len(str(max(limit, 0))):  # do not feed int() a pathological string
        return limit + 1
    return int(text)


def clean_quantity(value: str | int, maximum: int = 999) -> int:
    """How many instruments of one kind: a whole number from 1 to ``maximum``."""
    number = _parse_whole(value, maximum)
    if number is None or not 1 <= number <= maximum:
        raise FieldError("error.quantity", {"max": maximum})
    return number


def clean_count(value: str | int, minimum: int, maximum: int, key: str) -> int:
    """A small whole number such as the number of certificate copies; ``key`` names the error."""
    number = _parse_whole(value, maximum)
    if number is None or not minimum <= number <= maximum:
        raise FieldError(key, {"min": minimum, "max": maximum})
    return number
