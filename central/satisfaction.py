"""满意度统计 in the back office: the ratings kiosks pushed (`feedback.given`), by week,
counter, clerk and heart. All arithmetic is kiosk/domain/satisfaction.py's, so a desk's admin
screen and the office show the same figures for the same ratings; this module only turns
events into its `Rating`s.

- `given_at` is the payload's `at`; the optional from/to filter is on its local date.
- Counter and clerk: those who handed the instruments back (picked up), else took them in
  (received), as the rating kiosk knew them (`payload.steps`: device uids and clerk
  usernames). A lobby kiosk often does not know them (it is sent no ticket steps), so where
  the payload has none central takes them from the ticket's own step events. The counter is
  the device's name here (its uid if it has none); the clerk is the name the step event
  carried for that username, else the username.
- One rating per ticket (and per stage a window rates: intake, completion), as at a kiosk: a
  ticket rated twice (at two kiosks while both were offline, or a rating sent again with an
  earlier time) counts once: the rating central received first (central/words.py ARRIVAL), never
  the one with the earliest `at`, which a device can write. Anonymous ratings all count.

The ratings that count, and each ticket's earliest intake and pickup, are read models a push
keeps current (central/readmodels/rating.py, ticket_state.py): no event is read here. The figures
read their sums (schema 20: rating_sum, per day, month and year), so a period of any length costs
a few hundred rows; the list and the CSV read the ratings themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.domain.clock import today as institute_today
from kiosk.domain.satisfaction import (
    UNKNOWN,
    Group,
    Rating,
    distinct_labels,
    hearts_of,
    monday,
    ranked,
    summed,
    tally,
    weeks_of_days,
)

from .readmodels import rating
from .storage import Storage

log = logging.getLogger("central")

WEEKS = 12


@dataclass(frozen=True)
class Report:
    start: date | None
    end: date | None
    today: date
    days: dict[str, list[int]]  # five counts per local day of the weeks the chart shows, and so on
    counters: dict[str, list[int]]
    clerks: dict[str, list[int]]
    hearts: dict[str, list[int]]
    overall: tuple[int, ...]  # five counts of the whole period

    def figures(self) -> dict:
        return {"from": _iso(self.start), "to": _iso(self.end), "today": self.today.isoformat(),
                "overall": group_dict(Group("", self.overall)),
                "weeks": [group_dict(g) | {"monday": monday(g.key).isoformat()}
                          for g in weeks_of_days(self.days, WEEKS, self.end or self.today)],
                "counters": [group_dict(g) for g in ranked(self.counters)],
                "clerks": [group_dict(g) for g in ranked(self.clerks)],
                "hearts": [group_dict(g) for g in hearts_of(self.hearts)]}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def group_dict(g: Group) -> dict:
    return {"key": g.key, "count": g.count, "levels": list(g.levels), "good": g.good, "poor": g.poor,
            "rate": g.rate, "mean": g.mean}


EXPORT_CHUNK = 5000  # ratings a statement of the CSV export reads


@dataclass(frozen=True)
class Labels:
    """What the figures call each counter (device uid) and clerk (username) of a period: the
    name, and where two share one the name with their key after it (distinct_labels)."""

    counters: dict[str, str]
    clerks: dict[str, str]

    def rating(self, row: tuple) -> Rating:
        at, _rated, stars, hearts, number, reason, device, username, _name = row
        return Rating(at, stars, hearts, self.counters.get(device), self.clerks.get(username), number, reason)


def _labels(names: dict[str, str], counters: list[tuple], clerks: list[tuple]) -> Labels:
    return Labels(distinct_labels({device: names.get(device) or device for device, *_ in counters if device},
                                  short=lambda uid: uid[-8:]),
                  distinct_labels({username: name or username for username, name, *_ in clerks if username}))


def _period_labels(tx, start: date | None, end: date | None) -> Labels:
    sums = rating.summed(tx, tx.storage, start, end)
    return _labels(dict(tx.all("SELECT uid, name FROM device")), sums["counter"], sums["clerk"])


def ratings(storage: Storage, start: date | None = None, end: date | None = None) -> list[Rating]:
    """The ratings given on the local days `start`..`end` (inclusive; None: open), in arrival order."""
    with storage.read() as tx:
        labels = _period_labels(tx, start, end)
        return [labels.rating(row) for row in rating.read(tx, start, end)]


def exported(storage: Storage, start: date | None = None, end: date | None = None) -> Iterator[list[Rating]]:
    """The same ratings oldest first, in chunks, each read in its own short transaction (an
    export holds no snapshot open while the client downloads)."""
    with storage.read() as tx:
        labels = _period_labels(tx, start, end)
    after = None
    while True:
        with storage.read() as tx:
            rows = rating.read(tx, start, end, after=after, limit=EXPORT_CHUNK)
        if rows:
            yield [labels.rating(row) for row in rows]
        if len(rows) < EXPORT_CHUNK:
            return
        after = (storage.timestamp(rows[-1][0]), rows[-1][1])


def report(storage: Storage, start: date | None = None, end: date | None = None,
           today: date | None = None) -> Report:
    """The figures of the ratings given on the local days `start`..`end` (None: open), from
    the sums a push keeps (rating_sum: the period's whole years, months and days left, and the
    days of the weeks the chart shows), labelled as ratings() labels each rating."""
    today = today or institute_today()
    last = end or today
    first = last - timedelta(days=last.weekday(), weeks=WEEKS - 1)  # the chart's first Monday
    with storage.read() as tx:
        names = dict(tx.all("SELECT uid, name FROM device"))
        sums = rating.summed(tx, storage, start, end)
        days = rating.daily(tx, max(first, start) if start else first, last)
    labels = _labels(names, sums["counter"], sums["clerk"])
    return Report(start, end, today, tally(days),
                  tally((labels.counters.get(device) or UNKNOWN, stars, n) for device, _, stars, n in sums["counter"]),
                  tally((labels.clerks.get(username) or UNKNOWN, stars, n) for username, _, stars, n in sums["clerk"]),
                  tally((heart, stars, n) for heart, _, stars, n in sums["heart"]),
                  summed(tally((k1, stars, n) for k1, _, stars, n in sums["all"]).values()))
