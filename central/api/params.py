"""Office parameters read by hand. The pages take their query as plain text and say a bad
value in the page (FastAPI would answer JSON); their JSON and CSV twins read the same text
the same way, so the three agree on what is valid."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs

from pydantic import BeforeValidator

from kiosk.domain.due import parse_within

DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WITHIN = r"^[0-9]{1,5}[dwDW]?$"


class BadParameter(ValueError):
    pass


def _ascii_digits(value: object) -> object:
    # Pydantic reads "3\x85" as 3 (it trims Unicode spaces, U+0085 among them) and "3.0" as 3;
    # a number in a query is ASCII digits and nothing else, as the schema says.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,19}", value):
        raise ValueError("a whole number in ASCII digits")
    return value


DIGITS = BeforeValidator(_ascii_digits)
"""Put in an int query parameter's Annotated, before its Query."""


def day(text: str | None, name: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        found = date.fromisoformat(text.strip()) if re.fullmatch(DAY, text.strip()) else None
    except ValueError:
        found = None
    if found is None or not 2000 <= found.year <= 2999:
        raise BadParameter(f"{name}: a date like 2026-11-24 (years 2000 to 2999)")
    return found


def period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first, last = day(start, "from"), day(end, "to")
    if first and last and first > last:
        raise BadParameter("from: after to")
    return first, last


def within(text: str | None) -> tuple[int, str]:
    """(days, the text as given): `30d`, `30` or `6w`; 30 days when not given."""
    text = (text or "30d").strip()
    try:
        if not re.fullmatch(WITHIN, text):
            raise ValueError(text)
        return parse_within(text), text
    except ValueError:
        raise BadParameter("within: a number of days like 30d (or weeks like 6w), 1 to 3660 days") from None


def flag(text: str | None, name: str, default: bool) -> bool:
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise BadParameter(f"{name}: 1 or 0")


def form(content_type: str | None, body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body: the first value of each field."""
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadParameter("the form must be sent as application/x-www-form-urlencoded")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise BadParameter("the form is not readable (UTF-8, at most 20 fields)") from None
    return {key: values[0] for key, values in fields.items()}
