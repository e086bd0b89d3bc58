"""The institute's holiday list, for working-day deadlines (a poor rating's follow-up is due
in 15 working days). Pure: no database, no Textual; light enough for config validation.

The file (config key `holidays_file`) is plain UTF-8 text the institute edits each year when
the State Council publishes the holidays: one ISO date per line is a day off; a date followed
by `workday` (or `补班`) is a weekend day that is worked (调休); `#` starts a comment; blank
lines are ignored:

    # 2025 国庆节、中秋节
    2025-10-01
    2025-10-02
    2025-09-28 补班   # Sunday, worked

Saturdays and Sundays are days off unless listed as worked. A date listed both ways is a day
off (kiosk/domain/workdays.py): a conflicting list errs towards a later date, never an earlier one.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

WORKDAY_WORDS = ("workday", "补班", "上班")
_NONE: frozenset[date] = frozenset()


class HolidaysError(ValueError):
    """The file cannot be read, or a line is not a date: `file:line: what is wrong`."""


class Calendar(NamedTuple):  # not a dataclass: made before the first frame (kiosk/domain/institute.py Text)
    """Days off besides weekends, and weekend days worked."""

    holidays: frozenset[date] = _NONE
    workdays: frozenset[date] = _NONE  # weekend days that are worked (调休)


WEEKENDS_ONLY = Calendar()


def parse_holidays(text: str, source: str = "holidays") -> Calendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lstrip("\ufeff")
        if not line:
            continue
        day, _, word = line.partition(" ")
        word = word.strip()
        try:
            parsed = date.fromisoformat(day.strip())
        except ValueError:
            raise HolidaysError(f"{source}:{number}: not a date (YYYY-MM-DD): {day[:20]!r}") from None
        if len(day.strip()) != 10:
            raise HolidaysError(f"{source}:{number}: write the date as YYYY-MM-DD: {day[:20]!r}")
        if not word:
            holidays.add(parsed)
        elif word.lower() in WORKDAY_WORDS:
            workdays.add(parsed)
        else:
            raise HolidaysError(f"{source}:{number}: after the date only 'workday' (补班) may follow, "
                                f"not {word[:20]!r}")
    return Calendar(frozenset(holidays), frozenset(workdays))


def read_holidays(path: Path | None) -> Calendar:
    """The list in `path`; None: weekends only. HolidaysError if unreadable or malformed."""
    if path is None:
        return WEEKENDS_ONLY
    try:
        text = Path(path).read_text("utf-8-sig")
    except FileNotFoundError:
        raise HolidaysError(f"{path}: holiday list not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HolidaysError(f"{path}: cannot be read: {e}") from None
    return parse_holidays(text, str(path))


def load_calendar(path: Path | None) -> Calendar:
    """The holiday list for promises and deadlines, read once as the station starts (the
    configuration check has already refused a bad file). Unreadable since: weekends only,
    with a warning in the log."""
    try:
        return read_holidays(path)
    except HolidaysError as e:
        log.warning("holiday list unusable, counting weekends only: %s", e)
        return WEEKENDS_ONLY
