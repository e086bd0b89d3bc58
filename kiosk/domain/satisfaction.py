"""满意度统计: satisfaction by week, counter, clerk and heart. Pure functions, no I/O.

The same arithmetic serves the desk's admin screen (screens/admin.py, from this node's
database) and the central back office (central/satisfaction.py, from pushed events), so
both show the same figures for the same ratings.

The 好差评 scale counts 非常满意, 满意 and 基本满意 as good (好评) and 不满意, 非常不满意
as poor (差评); the satisfaction rate (满意率) is good / all. A rating is credited to the
counter and clerk who handed the instruments back (picked up), or, failing that, who took
them in (received): the customer rates the service they just had. Anonymous ratings count
in the totals, the weeks and the hearts, and under "unknown" for counter and clerk.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.domain.feedback import HEARTS, LEVELS, POOR
from kiosk.domain.spreadsheet import safe_row

UNKNOWN = ""  # the group key of ratings whose counter or clerk is not known
BLOCKS = " ▏▎▍▌▋▊▉█"  # eighths of a cell, for bars


@dataclass(frozen=True)
class Rating:
    """One rating, as statistics need it: no comment, no phone."""

    given_at: datetime  # aware
    rating: int  # 1..5
    hearts: tuple[str, ...] = ()
    counter: str | None = None  # the desk's name (or uid) where it was served
    clerk: str | None = None  # the clerk's display name (or username)
    number: str | None = None  # the ticket's number; None: anonymous
    reason: str | None = None


@dataclass(frozen=True)
class Group:
    key: str
    levels: tuple[int, ...]  # how many of each rating, 1 .. 5: five counts

    @property
    def count(self) -> int:
        return sum(self.levels)

    @property
    def poor(self) -> int:
        return sum(self.levels[r - 1] for r in POOR)

    @property
    def good(self) -> int:
        return self.count - self.poor

    @property
    def rate(self) -> float:
        """满意率: good / all; 0.0 for an empty group."""
        return self.good / self.count if self.count else 0.0

    @property
    def mean(self) -> float:
        return sum(r * n for r, n in zip(range(1, 6), self.levels)) / self.count if self.count else 0.0


def _group(key: str, ratings: Iterable[Rating]) -> Group:
    return Group(key, tuple(levels_of((r.rating, 1) for r in ratings)))


def levels_of(counts: Iterable[tuple[int, int]]) -> list[int]:
    """Five counts (ratings 1 .. 5) from (rating, how many) pairs: ratings one by one, or the
    sums a database grouped (central/satisfaction.py), counted by the same rule."""
    levels = [0] * 5
    for rating, n in counts:
        if rating not in LEVELS:  # 0 would count as a 5 (levels[-1]) without a word
            raise ValueError(f"rating: 1 to 5, not {rating!r}")
        levels[rating - 1] += n
    return levels


def tally(rows: Iterable[tuple[str, int, int]]) -> dict[str, list[int]]:
    """key -> five counts, from (key, rating, how many) rows."""
    buckets: dict[str, list[tuple[int, int]]] = {}
    for key, rating, n in rows:
        buckets.setdefault(key, []).append((rating, n))
    return {key: levels_of(counts) for key, counts in buckets.items()}


def distinct_labels(names: dict[str, str], short: Callable[[str], str] = str) -> dict[str, str]:
    """key (a clerk's username, a device's uid) -> the label its ratings are grouped under: its
    name, and where two keys share a name (two clerks called 王芳, two desks called 1号窗口)
    the name with short(key) after it, so they stay two rows instead of one."""
    keys_of: dict[str, int] = {}
    for name in names.values():
        keys_of[name] = keys_of.get(name, 0) + 1
    return {key: f"{name}（{short(key)}）" if keys_of[name] > 1 else name for key, name in names.items()}


def overall(ratings: list[Rating]) -> Group:
    return _group("", ratings)


def week_of(moment: datetime) -> str:
    """The ISO week of the local day, "2026-W48"."""
    year, week, _ = local(moment).date().isocalendar()
    return f"{year}-W{week:02d}"


def monday(week: str) -> date:
    return date.fromisocalendar(int(week[:4]), int(week[6:]), 1)


def by_week(ratings: list[Rating], weeks: int | None = None, today: date | None = None) -> list[Group]:
    """Oldest week first, every week from the first rating's (or `weeks` back from today's)
    to this one, empty weeks included: a gap in the chart is a week without ratings. A rating
    dated after today (a device's clock was wrong) is left out, as period() leaves it out."""
    return weeks_of_days(tally((local(r.given_at).date().isoformat(), r.rating, 1) for r in ratings), weeks, today)


def weeks_of_days(days: dict[str, list[int]], weeks: int | None = None, today: date | None = None) -> list[Group]:
    """by_week from five counts per local day (YYYY-MM-DD)."""
    today = today or institute_today()
    in_week: dict[str, list[list[int]]] = {}
    for given, levels in days.items():
        on = date.fromisoformat(given)
        if on <= today:
            year, week, _ = on.isocalendar()
            in_week.setdefault(f"{year}-W{week:02d}", []).append(levels)
    buckets = {key: summed(levels) for key, levels in in_week.items()}
    last = today - timedelta(days=today.weekday())
    if weeks is not None:
        first = last - timedelta(weeks=weeks - 1)
    elif buckets:
        first = min(monday(w) for w in buckets)
    else:
        return []
    result, day = [], first
    while day <= last:
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
        result.append(Group(key, buckets.get(key, (0,) * 5)))
        day += timedelta(weeks=1)
    return result


def period(weeks: int, today: date) -> tuple[date, date]:
    """The days `weeks` weeks of statistics cover: from the Monday `weeks - 1` weeks before this
    week's, to today (local days), as by_week(..., weeks, today) shows them."""
    if weeks < 1:
        raise ValueError(f"weeks: at least 1, not {weeks!r}")
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks - 1), today


def _by(ratings: list[Rating], key: Callable[[Rating], str | None]) -> list[Group]:
    return ranked(tally((key(r) or UNKNOWN, r.rating, 1) for r in ratings))


def ranked(levels: dict[str, list[int]]) -> list[Group]:
    """Groups of five counts per key: most ratings first; the unknown group last."""
    groups = [Group(k, tuple(v)) for k, v in levels.items()]
    return sorted(groups, key=lambda g: (g.key == UNKNOWN, -g.count, g.key))


def by_counter(ratings: list[Rating]) -> list[Group]:
    return _by(ratings, lambda r: r.counter)


def by_clerk(ratings: list[Rating]) -> list[Group]:
    return _by(ratings, lambda r: r.clerk)


def by_heart(ratings: list[Rating]) -> list[Group]:
    """Per heart, in the scale's order: the ratings that gave it (every heart listed)."""
    return hearts_of(tally((" ".join(r.hearts), r.rating, 1) for r in ratings))


def hearts_of(levels: dict[str, list[int]]) -> list[Group]:
    """by_heart from five counts per set of hearts given together (space-separated)."""
    return [Group(h, summed(v for given, v in levels.items() if h in given.split())) for h in HEARTS]


def summed(levels: Iterable[list[int]]) -> tuple[int, ...]:
    return tuple(map(sum, zip([0] * 5, *levels)))


def bar(fraction: float, width: int) -> str:
    """A bar `width` cells wide at most, in eighths of a cell; always `width` cells long."""
    if width <= 0:
        return ""
    fraction = 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)  # NaN: no bar
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BLOCKS[part] if part else "")
    return text + " " * (width - len(text))


CSV_FIELDS = ("given_at", "week", "rating", "level", "hearts", "reason", "counter", "clerk", "number")


def csv_text(ratings: list[Rating]) -> str:
    """One row per rating, oldest first: what the statistics are made of, without comments
    or phone numbers (those stay in the follow-up, with the staff who call)."""
    return csv_rows([], header=True) + csv_rows(sorted(ratings, key=lambda r: r.given_at))


def csv_rows(ratings: Iterable[Rating], *, header: bool = False) -> str:
    """csv_text's rows of `ratings` as given (a chunk of a streamed export), the header first if asked."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_FIELDS)
    for r in ratings:
        writer.writerow(safe_row([local(r.given_at).isoformat(timespec="seconds"), week_of(r.given_at), r.rating,
                                  LEVELS[r.rating], " ".join(r.hearts), r.reason or "", r.counter or "",
                                  r.clerk or "", r.number or ""]))
    return out.getvalue()


@dataclass(frozen=True)
class Summary:
    """Every view of one period's ratings, as the admin screen and `kiosk satisfaction` show them."""

    first: date  # a Monday
    last: date  # today
    ratings: tuple[Rating, ...]  # of the period, oldest first
    overall: Group
    weeks: tuple[Group, ...]
    counters: tuple[Group, ...]
    clerks: tuple[Group, ...]
    hearts: tuple[Group, ...]


def summarise(ratings: Iterable[Rating], weeks: int, today: date) -> Summary:
    """The ratings given in period(weeks, today) (local days; others are left out), by every view."""
    first, last = period(weeks, today)
    kept = sorted((r for r in ratings if first <= local(r.given_at).date() <= last), key=lambda r: r.given_at)
    return Summary(first, last, tuple(kept), overall(kept), tuple(by_week(kept, weeks, today)),
                   tuple(by_counter(kept)), tuple(by_clerk(kept)), tuple(by_heart(kept)))
