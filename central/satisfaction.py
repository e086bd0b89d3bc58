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
- One rating per ticket, as at a kiosk: a ticket rated twice (at two kiosks while both were
  offline, or a rating sent again with an earlier time) counts once: the rating central
  received first (central/words.py ARRIVAL), never the one with the earliest `at`, which a
  device can write. Anonymous ratings all count.

The ratings that count, and each ticket's earliest intake and pickup, are read models a push
keeps current (central/readmodels/rating.py, ticket_state.py): no event is read here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

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
    days: dict[str, list[int]]  # five counts per local day, and so on
    counters: dict[str, list[int]]
    clerks: dict[str, list[int]]
    hearts: dict[str, list[int]]

    def figures(self) -> dict:
        return {"from": _iso(self.start), "to": _iso(self.end), "today": self.today.isoformat(),
                "overall": group_dict(Group("", summed(self.days.values()))),
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


def _served(steps: dict, known: dict) -> tuple[str | None, str | None, str | None]:
    """(device uid, clerk's username, clerk's name) credited with a rating: picked up, else
    received; each step as the payload says, completed by what central knows of it."""
    device = username = name = None
    for step in ("picked_up", "received"):
        said = steps.get(step) if isinstance(steps.get(step), dict) else {}
        seen = known.get(step) or {}
        device = device or said.get("device") or seen.get("device")
        if username is None and (said.get("clerk") or seen.get("clerk")):
            username = said.get("clerk") or seen.get("clerk")
            name = seen.get("name") if seen.get("clerk") == username else None
    return device, username, name


def ratings(storage: Storage, start: date | None = None, end: date | None = None) -> list[Rating]:
    """The ratings given on the local days `start`..`end` (inclusive; None: open)."""
    with storage.read() as tx:
        names = dict(tx.all("SELECT uid, name FROM device"))
        given = rating.read(tx, start, end)
    served = [_served(steps, known) for *_, steps, _number, _reason, known in given]
    # Two clerks (or desks) of one name stay two rows: the username (uid) follows the name.
    clerks = distinct_labels({username: name or username for _, username, name in served if username})
    counters = distinct_labels({device: names.get(device) or device for device, *_ in served if device},
                               short=lambda uid: uid[-8:])
    return [Rating(at, stars, hearts, counters.get(device), clerks.get(username), number, reason)
            for (at, stars, hearts, _, number, reason, _), (device, username, _) in zip(given, served)]


def report(storage: Storage, start: date | None = None, end: date | None = None,
           today: date | None = None) -> Report:
    """The figures of the ratings given on the local days `start`..`end` (None: open), from
    sums the database adds up (one row per day, counter, clerk or set of hearts, and rating),
    labelled as ratings() labels each rating."""
    with storage.read() as tx:
        names = dict(tx.all("SELECT uid, name FROM device"))
        days, counters, clerks, hearts = (rating.counts(tx, by, start, end)
                                          for by in ("day", "counter", "clerk", "hearts"))
    clerk_labels = distinct_labels({username: name or username for username, name, *_ in clerks if username})
    counter_labels = distinct_labels({device: names.get(device) or device for device, *_ in counters if device},
                                     short=lambda uid: uid[-8:])
    return Report(start, end, today or institute_today(), tally(days),
                  tally((counter_labels.get(device) or UNKNOWN, stars, n) for device, stars, n in counters),
                  tally((clerk_labels.get(username) or UNKNOWN, stars, n) for username, _, stars, n in clerks),
                  tally(hearts))
