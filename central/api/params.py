"""Office parameters read by hand. The pages take their query as plain text and say a bad
value in the page (FastAPI would answer JSON); their JSON and CSV twins read the same text
the same way, so the three agree on what is valid.

Each rule is one regular expression, used twice: to read the value, and as the `pattern` the
OpenAPI description gives (`described`), so what the description allows is what is accepted.
Blank (or absent) means the default; spaces around a value are ignored (a form's field).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from pydantic import BeforeValidator
from pydantic.fields import FieldInfo

from kiosk.domain.due import parse_within
from kiosk.domain.validation import space_class


def _calendar_day() -> str:
    """A real day of the years 2000 to 2999, as YYYY-MM-DD (no 2001-02-29, no 2026-04-31)."""
    year = "2[0-9]{3}"
    leap = "2[0-9](?:0[48]|[2468][048]|[13579][26])|2[048]00"  # 2100, 2200, 2300... are not
    return (f"(?:{year}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
            f"|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:{leap})-02-29)")


def optional(rule: str) -> str:
    """A query parameter's pattern: `rule`, or nothing, between the spaces str.strip() takes (not
    `\\s`: Python's and ECMA-262's differ, and the description must mean what the server takes)."""
    return f"^{space_class()}*(?:{rule})?{space_class()}*$"


CALENDAR_DAY = _calendar_day()
# 1 to 3660 days (`30`, `30d`) or 1 to 522 weeks (`6w`; 523 weeks are 3661 days), no leading 0.
WITHIN_DAYS = "[1-9][0-9]{0,2}|[12][0-9]{3}|3[0-5][0-9]{2}|36[0-5][0-9]|3660"
WITHIN_WEEKS = "[1-9][0-9]?|[1-4][0-9]{2}|5[01][0-9]|52[0-2]"
DAY = optional(CALENDAR_DAY)
WITHIN = optional(f"(?:{WITHIN_DAYS})[dD]?|(?:{WITHIN_WEEKS})[wW]")
FLAG = optional("1|0|" + "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in word)
                                   for word in ("true", "yes", "on", "false", "no", "off")))


def described(pattern: str, description: str) -> dict[str, Any]:
    """An optional text query parameter's keywords for FastAPI's Query: the pattern in the
    description only (the value is read by hand, so a bad one is said in the page or as
    `invalid`); a string or absent (a query has no null)."""

    def schema(json_schema: dict[str, Any]) -> None:
        json_schema.pop("anyOf", None)
        json_schema.update(type="string", pattern=pattern)

    return {"description": description, "json_schema_extra": schema}


class BadParameter(ValueError):
    pass


def _ascii_digits(value: object) -> object:
    # Pydantic reads "3\x85" as 3 (it trims Unicode spaces, U+0085 among them) and "3.0" as 3;
    # a number in a query is ASCII digits and nothing else, as the schema says.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,19}", value):
        raise ValueError("a whole number in ASCII digits")
    return value


DIGITS = BeforeValidator(_ascii_digits)
"""Put in an int query parameter's Annotated, after its Query (before it, FastAPI describes
the Query's bounds as `ge`/`le`, words OpenAPI does not know, instead of minimum/maximum)."""


# The two below are a Query each, for `Annotated[int, <it>, DIGITS]` written where the parameter
# is declared: a type alias a function returned would be no type to a checker.
def page_size_query(what: str, default: int, most: int) -> FieldInfo:
    """A list's `size` query parameter: 1 to `most` `what` a page."""
    from fastapi import Query

    return Query(ge=1, le=most, description=f"{what} a page ({default})")


def page_number_query() -> FieldInfo:
    """A list's `page` query parameter, from 1 (a list ordered as of now: an offset, not a keyset)."""
    from fastapi import Query

    return Query(ge=1, le=100_000, description="which page, from 1")


def day(text: str | None, name: str) -> date | None:
    if not re.fullmatch(DAY, text or ""):
        raise BadParameter(f"{name}: a date like 2026-11-24 (years 2000 to 2999)")
    return date.fromisoformat(text.strip()) if text and text.strip() else None


def period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first, last = day(start, "from"), day(end, "to")
    if first and last and first > last:
        raise BadParameter("from: after to")
    return first, last


def within(text: str | None) -> tuple[int, str]:
    """(days, the text as given): `30d`, `30` or `6w`; 30 days when not given."""
    if not re.fullmatch(WITHIN, text or ""):
        raise BadParameter("within: a number of days like 30d (or weeks like 6w), 1 to 3660 days")
    text = (text or "").strip() or "30d"
    return parse_within(text), text


def flag(text: str | None, name: str, default: bool) -> bool:
    if not re.fullmatch(FLAG, text or ""):
        raise BadParameter(f"{name}: 1 or 0")
    value = (text or "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def form(content_type: str | None, body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body: the first value of each field."""
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadParameter("the form must be sent as application/x-www-form-urlencoded")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise BadParameter("the form is not readable (UTF-8, at most 20 fields)") from None
    return {key: values[0] for key, values in fields.items()}
