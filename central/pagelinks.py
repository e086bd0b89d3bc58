"""The page links of the office's keyset lists (tickets, follow-ups, work orders, certificate
checks): `n` the page after a row's place, `p` the page before it, then the place's parts joined
by dots. A time in a place is its microseconds since 1970 (`MICROS`: every text of that shape is
a time, before 1970 down to 16 digits, the year 1653; after, 17 digits reach 5138), so each
list's PAGE_LINK pattern refuses a link by its shape only, and a link read back is a place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

MICROS = "(?:0|-?[1-9][0-9]{0,15}|[1-9][0-9]{16})"
DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
Place = TypeVar("Place")


def link(after: bool, *parts: str) -> str:
    return ("n" if after else "p") + ".".join(parts)


def parts(text: str, count: int) -> tuple[list[str], bool]:
    """A link (its list's PAGE_LINK, checked by the caller) as its `count` parts, and whether the
    page is after the place. The last part may hold dots."""
    return text[1:].split(".", count - 1), text[0] == "n"


def micros(moment: datetime) -> str:
    return str((moment - EPOCH) // _MICROSECOND)


def moment(text: str) -> datetime:
    return EPOCH + timedelta(microseconds=int(text))


def neighbours(places: list[Place], more: bool, after: Place | None,
               before: Place | None) -> tuple[Place | None, Place | None]:
    """(next, previous): the places of a keyset page's neighbours, `places` its rows' in the list's
    order, `more` whether a row beyond the page was read, the page asked `after` or `before` a place.
    Asked before a place, the page after it is there even when this one is empty."""
    if before is not None:
        return (places[-1] if places else before), (places[0] if more and places else None)
    return (places[-1] if more else None), (places[0] if after is not None and places else None)
