"""Working-day arithmetic for turnaround promises ("ready in 5 working days").

Pure. Saturdays and Sundays are rest days unless listed in ``extra_workdays`` (China's 调休
working weekends); dates in ``holidays`` are rest days. A date listed in both is treated
as a holiday, so a conflicting calendar errs towards a later promise, never an earlier one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar

_ONE_DAY = timedelta(days=1)
_NONE: frozenset[date] = frozenset()


def is_working_day(d: date, holidays: frozenset[date] = _NONE, extra_workdays: frozenset[date] = _NONE) -> bool:
    if d in holidays:
        return False
    if d in extra_workdays:
        return True
    return d.weekday() < 5


def add_working_days(
    start: date, days: int, holidays: frozenset[date] = _NONE, extra_workdays: frozenset[date] = _NONE
) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    ``days == 0`` gives ``start`` if it is a working day, else the next working day.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    if days == 0:
        while not is_working_day(current, holidays, extra_workdays):
            current += _ONE_DAY
        return current
    remaining = days
    while remaining:
        current += _ONE_DAY
        if is_working_day(current, holidays, extra_workdays):
            remaining -= 1
    return current


def _weekdays_between(a: date, b: date) -> int:
    """Monday-to-Friday dates in (a, b], for a <= b."""
    span = (b - a).days
    weeks, rest = divmod(span, 7)
    count = weeks * 5
    first = a.weekday()
    for offset in range(1, rest + 1):
        if (first + offset) % 7 < 5:
            count += 1
    return count


def working_days_between(
    a: date, b: date, holidays: frozenset[date] = _NONE, extra_workdays: frozenset[date] = _NONE
) -> int:
    """The number of working days in (a, b]; 0 when b is not after a."""
    if b <= a:
        return 0
    count = _weekdays_between(a, b)
    for d in holidays:
        if a < d <= b and d.weekday() < 5:
            count -= 1
    for d in extra_workdays:
        if a < d <= b and d.weekday() >= 5 and d not in holidays:
            count += 1
    return count


def expected_ready(created_local: datetime, turnaround_days: int, cal: Calendar = WEEKENDS_ONLY) -> date | None:
    """The promised date for the non-urgent lines, in the institute's working days; None when
    every line is urgent."""
    if not turnaround_days:
        return None
    return add_working_days(created_local.date(), turnaround_days, cal.holidays, cal.workdays)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 Jan + 1 -> 28/29 Feb)."""
    import calendar

    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
