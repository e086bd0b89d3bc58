"""统计 in the back office (issue 20 item 4): intake per day, turnaround and on-time rate by
field, revenue by field and service, the value of free compulsory verification waived, and
satisfaction, by week (ISO weeks, Monday first) or by month, over local days on the institute's
clock. No personal data: every role may see them.

Read from the per-day sums a push keeps (central/readmodels/figures.py explains each figure)
and from the ratings' (day, rating) index: a page reads at most a row per day and a row per
(field, service), whatever the number of tickets.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from kiosk.domain.clock import today as institute_today
from kiosk.domain.satisfaction import Group
from kiosk.domain.spreadsheet import safe_row
from kiosk.domain.vocabulary import FIELDS, SERVICE_NAMES

from .readmodels import figures
from .readmodels.figures import ALL, MEASURES
from .storage import Storage

PERIODS = ("week", "month")
SPAN = 12  # periods shown when no `from` is given
MAX_DAYS = 1100  # about three years a page (a bar a day in its chart)


class TooLong(ValueError):
    pass


def start_of_period(day: date, by: str) -> date:
    return day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def next_period(start: date, by: str) -> date:
    if by == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_label(start: date, by: str) -> str:
    """2026-W48 (ISO week) or 2026-11."""
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def span(by: str, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The local days shown: `start`..`end`, by default the SPAN periods up to today."""
    last = end or today
    if start is None:
        start = start_of_period(last, by)
        for _ in range(SPAN - 1):
            start = start_of_period(start - timedelta(days=1), by)
    if (last - start).days + 1 > MAX_DAYS:
        raise TooLong(f"from/to: at most {MAX_DAYS} days at once")
    return start, last


def field_names(field: str) -> tuple[str, str]:
    if field in FIELDS:
        return FIELDS[field]
    return ("全部", "All") if field == ALL else ("未分类", "Unclassified")


def service_names(service: str) -> tuple[str, str]:
    if service in SERVICE_NAMES:
        return SERVICE_NAMES[service]
    return ("全部", "All") if service == ALL else ("未分类", "Unclassified")


def _sums(values) -> dict:
    row: dict = dict(zip(MEASURES, (int(v or 0) for v in values)))  # and two rates below (a float, or None)
    row["mean_hours"] = round(row["turnaround_minutes"] / row["ready"] / 60, 1) if row["ready"] else None
    row["on_time_rate"] = round(row["on_time"] / row["promised"], 4) if row["promised"] else None
    return row


def _add(a: dict, b: dict) -> dict:
    return _sums([a[m] + b[m] for m in MEASURES])


ZERO = _sums([0] * len(MEASURES))


def _satisfaction(levels: list[int]) -> dict:
    """The satisfaction page's arithmetic (kiosk/domain/satisfaction.py Group), None where no one rated."""
    g = Group("", tuple(levels))
    return {"ratings": g.count, "levels": levels, "good": g.good, "poor": g.poor,
            "satisfaction_rate": round(g.rate, 4) if g.count else None,
            "mean_rating": round(g.mean, 2) if g.count else None}


@dataclass(frozen=True)
class Figures:
    by: str
    first: date
    last: date
    today: date
    days: list[dict]  # every day of first..last: {day, **sums}
    periods: list[dict]  # {period, from, to, **sums, **satisfaction}
    fields: list[dict]  # {field, name_zh, name_en, **sums, services: [{service, ...}]}
    total: dict

    def to_dict(self) -> dict:
        return {"by": self.by, "from": self.first.isoformat(), "to": self.last.isoformat(),
                "today": self.today.isoformat(), "total": self.total, "periods": self.periods,
                "fields": self.fields, "days": self.days,
                "notes": {"turnaround": "elapsed hours from the earliest intake to the earliest ready, by the "
                                        "local day made ready",
                          "on_time": "ready by the promise: the end of the receipt's ready_on day, or intake + "
                                     "urgent_hours for urgent lines",
                          "revenue_fen": "the intake's estimate: line amounts + urgent surcharges + discounts, "
                                         "by the local day taken in",
                          "waived_fen": "what free compulsory verification would have cost"}}


def report(storage: Storage, by: str = "week", start: date | None = None, end: date | None = None,
           today: date | None = None) -> Figures:
    today = today or institute_today()
    first, last = span(by, start, end, today)
    with storage.read() as tx:
        daily = {row[0]: _sums(row[1:]) for row in figures.daily(tx, first, last)}
        cells = figures.by_field(tx, first, last)
        rated: dict[str, list[int]] = {}
        for day, stars, n in figures.ratings_by_day(tx, first, last):
            rated.setdefault(day, [0] * 5)[int(stars) - 1] += int(n)
    days, periods = [], []
    day = first
    while day <= last:
        days.append({"day": day.isoformat(), **daily.get(day.isoformat(), ZERO)})
        day += timedelta(days=1)
    start_at = start_of_period(first, by)
    while start_at <= last:
        end_at = next_period(start_at, by) - timedelta(days=1)
        lo, hi = max(start_at, first).isoformat(), min(end_at, last).isoformat()
        sums, levels = ZERO, [0] * 5
        for d in days:
            if lo <= d["day"] <= hi:
                sums = _add(sums, d)
        for rated_on, counts in rated.items():
            if lo <= rated_on <= hi:
                levels = [a + b for a, b in zip(levels, counts)]
        periods.append({"period": period_label(start_at, by), "from": lo, "to": hi,
                        **{k: v for k, v in sums.items() if k != "day"}, **_satisfaction(levels)})
        start_at = next_period(start_at, by)
    by_letter: dict[str, dict] = {}
    for field, service, *values in cells:
        entry = by_letter.setdefault(field, {"field": field, "name_zh": field_names(field)[0],
                                             "name_en": field_names(field)[1], **ZERO, "services": []})
        sums = _sums(values)
        if service == ALL:
            entry.update(sums)
        else:
            zh, en = service_names(service)
            entry["services"].append({"service": service, "name_zh": zh, "name_en": en, **sums})
    fields = [by_letter[f] for f in sorted(by_letter, key=lambda f: (f == "?", f))]
    total = ZERO
    for d in days:
        total = _add(total, d)
    total = {k: v for k, v in total.items() if k != "day"} | _satisfaction(
        [sum(c[i] for c in rated.values()) for i in range(5)])
    return Figures(by, first, last, today, days, periods, fields, total)


CSV_FIELDS = ("周期 period", "自 from", "至 to", "专业 field", "专业名称 field name", "服务 service",
              "受理单 tickets", "器具 instruments", "收入(元) revenue (CNY)", "免收强检费(元) waived (CNY)",
              "免收器具 waived instruments", "完成 ready", "平均周转(小时) mean turnaround (hours)", "有承诺 promised",
              "按时 on time", "按时率 on-time rate", "评价 ratings", "满意率 satisfaction rate", "平均分 mean rating")


def _yuan(fen: int) -> Decimal:
    """Yuan as a number (a spreadsheet sums it; safe_row leaves numbers as they are)."""
    return Decimal(fen).scaleb(-2)


def csv_text(storage: Storage, found: Figures) -> str:
    """One row per period and (field, service) with any figure, `*` for all; satisfaction on
    the periods' all-fields rows."""
    with storage.read() as tx:
        cells = figures.by_period(tx, storage, found.by, found.first, found.last)
    sums = {(str(period), field, service): _sums(values) for period, field, service, *values in cells}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for period in found.periods:
        start = start_of_period(date.fromisoformat(period["from"]), found.by).isoformat()
        keys = sorted({(start, ALL, ALL), *(k for k in sums if k[0] == start)},
                      key=lambda k: (k[1] != ALL, k[1], k[2] != ALL, k[2]))
        for _, field, service in keys:
            s = sums.get((start, field, service), ZERO)
            total_row = field == ALL and service == ALL
            writer.writerow(safe_row([
                period["period"], period["from"], period["to"], field, " ".join(field_names(field)),
                service if service != ALL else ALL, s["tickets"], s["instruments"], _yuan(s["revenue_fen"]),
                _yuan(s["waived_fen"]), s["waived_instruments"], s["ready"],
                "" if s["mean_hours"] is None else s["mean_hours"], s["promised"], s["on_time"],
                "" if s["on_time_rate"] is None else s["on_time_rate"],
                period["ratings"] if total_row else "",
                period["satisfaction_rate"] if total_row and period["satisfaction_rate"] is not None else "",
                period["mean_rating"] if total_row and period["mean_rating"] is not None else ""]))
    return out.getvalue()
