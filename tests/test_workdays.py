from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.workdays import add_working_days, is_working_day, working_days_between

# National Day 2025 (国务院办公厅 2025 holiday notice): 1-8 October off; Sunday 28 September and
# Saturday 11 October are working days (调休).
HOLIDAYS = frozenset(date(2025, 10, d) for d in range(1, 9))
EXTRA = frozenset({date(2025, 9, 28), date(2025, 10, 11)})


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 26), True),  # Friday
    (date(2025, 9, 27), False),  # Saturday
    (date(2025, 9, 28), True),  # Sunday, but 调休 working day
    (date(2025, 10, 1), False),  # holiday (Wednesday)
    (date(2025, 10, 4), False),  # holiday on a Saturday
    (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),  # Saturday working day
    (date(2025, 10, 12), False),  # Sunday
])
def test_is_working_day(day, expected):
    assert is_working_day(day, HOLIDAYS, EXTRA) is expected


def test_a_holiday_listed_as_extra_workday_too_stays_a_holiday():
    d = date(2025, 10, 4)
    assert is_working_day(d, frozenset({d}), frozenset({d})) is False


def test_plain_weekends_without_calendars():
    assert is_working_day(date(2025, 6, 6))  # Friday
    assert not is_working_day(date(2025, 6, 7))
    assert not is_working_day(date(2025, 6, 8))


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2025, 6, 2), 1, date(2025, 6, 3)),  # Monday -> Tuesday
    (date(2025, 6, 6), 1, date(2025, 6, 9)),  # Friday -> Monday
    (date(2025, 6, 7), 1, date(2025, 6, 9)),  # Saturday -> Monday
    (date(2025, 6, 2), 5, date(2025, 6, 9)),  # a week
    (date(2025, 6, 2), 10, date(2025, 6, 16)),
    (date(2025, 6, 2), 0, date(2025, 6, 2)),  # working day: itself
    (date(2025, 6, 7), 0, date(2025, 6, 9)),  # Saturday: next working day
])
def test_add_working_days_plain(start, days, expected):
    assert add_working_days(start, days) == expected


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Friday -> the working Sunday
    (date(2025, 9, 28), 2, date(2025, 9, 30)),  # Mon 29, Tue 30
    (date(2025, 9, 28), 3, date(2025, 10, 9)),  # then over the holiday week
    (date(2025, 9, 30), 1, date(2025, 10, 9)),
    (date(2025, 9, 30), 3, date(2025, 10, 11)),  # 9, 10, and the working Saturday
    (date(2025, 10, 1), 0, date(2025, 10, 9)),
    (date(2025, 9, 27), 0, date(2025, 9, 28)),
])
def test_add_working_days_with_the_national_day_calendar(start, days, expected):
    assert add_working_days(start, days, HOLIDAYS, EXTRA) == expected


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2025, 6, 2), -1)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (date(2025, 6, 2), date(2025, 6, 2), 0),
    (date(2025, 6, 3), date(2025, 6, 2), 0),  # b before a
    (date(2025, 6, 2), date(2025, 6, 9), 5),
    (date(2025, 6, 6), date(2025, 6, 9), 1),
])
def test_working_days_between(a, b, expected):
    assert working_days_between(a, b) == expected


def test_working_days_between_with_the_national_day_calendar():
    a, b = date(2025, 9, 26), date(2025, 10, 12)
    # 28, 29, 30 September and 9, 10, 11 October
    assert working_days_between(a, b, HOLIDAYS, EXTRA) == 6
    # plain weekdays: 29, 30 September and 1-3, 6-10 October
    assert working_days_between(a, b) == 10


# ---------------------------------------------------------------------------- properties

DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
OFFSETS = st.frozensets(st.integers(min_value=-10, max_value=120), max_size=40)


@st.composite
def calendars(draw):
    """A start date with holidays and 调休 workdays dense around it, so they matter."""
    start = draw(DAYS)
    holidays = frozenset(start + timedelta(days=i) for i in draw(OFFSETS))
    extra = frozenset(start + timedelta(days=i) for i in draw(OFFSETS))
    return start, holidays, extra

def _brute_between(a, b, holidays, extra):
    return sum(is_working_day(a + timedelta(days=i), holidays, extra) for i in range(1, (b - a).days + 1))


@given(calendars(), st.integers(min_value=1, max_value=60))
def test_add_lands_on_a_working_day_and_round_trips(calendar, n):
    start, holidays, extra = calendar
    end = add_working_days(start, n, holidays, extra)
    assert end > start
    assert is_working_day(end, holidays, extra)
    assert end not in holidays
    assert working_days_between(start, end, holidays, extra) == n


@given(calendars(), st.integers(min_value=1, max_value=60))
def test_add_is_strictly_monotonic_in_n(calendar, n):
    start, holidays, extra = calendar
    assert add_working_days(start, n, holidays, extra) < add_working_days(start, n + 1, holidays, extra)


@given(calendars())
def test_zero_and_one_day_coincide_exactly_when_start_is_a_rest_day(calendar):
    # days=0 from a rest day already moves to the next working day, which is also "1 day after"
    start, holidays, extra = calendar
    zero, one = add_working_days(start, 0, holidays, extra), add_working_days(start, 1, holidays, extra)
    assert zero <= one
    assert (zero == one) == (not is_working_day(start, holidays, extra))


@given(calendars())
def test_zero_days_is_the_first_working_day_from_start(calendar):
    start, holidays, extra = calendar
    end = add_working_days(start, 0, holidays, extra)
    assert is_working_day(end, holidays, extra)
    assert end >= start
    assert (end == start) == is_working_day(start, holidays, extra)
    assert _brute_between(start - timedelta(days=1), end - timedelta(days=1), holidays, extra) == 0


@given(calendars(), st.integers(min_value=-20, max_value=400))
def test_between_matches_counting_day_by_day(calendar, span):
    a, holidays, extra = calendar
    b = a + timedelta(days=span)
    expected = _brute_between(a, b, holidays, extra) if span > 0 else 0
    assert working_days_between(a, b, holidays, extra) == expected
