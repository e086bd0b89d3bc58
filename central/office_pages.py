"""The back office's pages for follow-ups, satisfaction, the due list and the work list: plain HTML
from central/templates/ (autoescaped), Chinese first with English beside it, charts as SVG bars
(no script, nothing from another server: the office network may be closed).

Phones: a follow-up's call-back number in full (staff make the call); the due list and the
work list mask the customer's phone (their CSVs, for the staff who call, have it in full).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from kiosk.i18n import service_name, use_name
from kiosk.i18n import t as kiosk_t
from kiosk.i18n.keys import FEEDBACK_HEARTS, FEEDBACK_LEVELS, FEEDBACK_REASONS, FREE_REASONS, PICKUP_WAYS
from kiosk.i18n.status_text import work_text
from kiosk.i18n.textwidth import cell_width

from .due import PAGE_SIZE
from .office import mask_phone
from .templating import render
from .worklist import PAGE_SIZE as WORK_PAGE_SIZE

LEVELS = ("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")  # ratings 1 to 5


def _label(keys: dict[str, str], value: str | None) -> str:
    """A kiosk label, both languages ("非常满意 Very satisfied"); the value itself if it has none."""
    if not value:
        return "—"
    if value not in keys:
        return value
    return f"{kiosk_t(keys[value], 'zh')} {kiosk_t(keys[value], 'en')}"


def followups_html(data: dict, viewer, notice: str | None = None) -> str:
    """`viewer`: who is asking (central/api/deps.py Viewer): the pages they may open, their
    session's CSRF token for the forms."""
    return render("followups.html", title="回访 · Follow-ups", viewer=viewer, notice=notice, label=_label,
                  levels=FEEDBACK_LEVELS, reasons=FEEDBACK_REASONS, **data)


def ticket_html(page: dict, viewer) -> str:
    """One ticket (central/ticket_page.py): a clerk on the telephone reads it top to bottom."""
    from .office import STATUS_NAMES

    return render("ticket.html", title=f"受理单 · Ticket {page['number']}", viewer=viewer, label=_label,
                  statuses=STATUS_NAMES, levels=FEEDBACK_LEVELS, reasons=FEEDBACK_REASONS,
                  pickups=PICKUP_WAYS, service=lambda s: f"{service_name(s, 'zh')} {service_name(s, 'en')}",
                  use=lambda u: f"{use_name(u, 'zh')} · {use_name(u, 'en')}" if u else "—",
                  free=lambda line: " ".join(kiosk_t(FREE_REASONS[line["free_reason"]], lang,
                                                     use=use_name(line["use"], lang)) for lang in ("zh", "en"))
                  if line.get("free_reason") in FREE_REASONS else line.get("free_reason") or "", **page)


def message_html(title: str, message: str, back: str = "/office/followups", viewer=None) -> str:
    """A refusal as a page: what is wrong, and the way back."""
    return render("message.html", title=title, message=message, back=back, viewer=viewer)


def satisfaction_html(data: dict, viewer) -> str:
    query = urlencode({k: data[k] for k in ("from", "to") if data[k]})
    return render("satisfaction.html", title="满意度统计 · Satisfaction", viewer=viewer, query=query,
                  start=data["from"], end=data["to"], overall=data["overall"], weeks=data["weeks"],
                  counters=data["counters"], clerks=data["clerks"], hearts=data["hearts"], label=_label,
                  levels=FEEDBACK_LEVELS, level_names=LEVELS, heart_names=FEEDBACK_HEARTS)


def ratings_html(viewer, **values) -> str:
    """The window ratings (central/api/ratings.py): an appeal's rating with its level in both languages."""
    return render("ratings.html", title="窗口评价 · Window ratings", viewer=viewer, label=_label,
                  levels=FEEDBACK_LEVELS, **values)


def due_html(page, within_text: str, viewer) -> str:
    """One page of the due list (central/due.py DuePage), with links to the next and previous."""
    shown = {"within": within_text, "overdue": "1" if page.overdue_included else "0"} | (
        {"site": page.site} if page.site else {})
    sized = shown | ({"size": str(page.size)} if page.size != PAGE_SIZE else {})

    def at(cursor) -> str:
        return urlencode(sized | ({"from": cursor.text()} if cursor else {}))

    return render("due.html", title="周检到期 · Verification due", viewer=viewer, page=page, within=within_text,
                  query=urlencode(shown), other=urlencode(shown | {"overdue": "0" if page.overdue_included else "1"}),
                  next=at(page.next) if page.next else None, previous=at(page.previous) if page.previous else None,
                  mask_phone=mask_phone)


def worklist_html(worklist, items, viewer, *, page: int, pages: int, size: int) -> str:
    sized = {"size": size} if size != WORK_PAGE_SIZE else {}

    def link(to: int) -> str:
        return urlencode({"days": worklist.pickup_days, "page": to, **sized})

    # The next page by its keyset (central/worklist.py WorkCursor); the previous by its place.
    following = worklist.next
    return render("worklist.html", title="在办清单 · Work list", viewer=viewer, worklist=worklist, items=items,
                  days=worklist.pickup_days, page=page, page_count=pages,
                  previous=link(page - 1) if page > 1 else None,
                  next=urlencode({"after": following.text(), **sized}) if following else None,
                  mask_phone=mask_phone, work_text=work_text)


# ---- 统计 · Figures: charts as inline SVG, their geometry computed here -------------------------

CHART_W, CHART_H, LEFT, TOP, BOTTOM = 800, 176, 28, 18, 138  # viewBox units; bars between TOP and BOTTOM
# A mark's width a display cell, in viewBox units: 0.65 em of office.css's 11 (DejaVu Sans digits are
# 0.64 em, W 0.99, - 0.36: "2026-W39" ~57 units; a Chinese character, two cells, 1 em), and the room
# kept between two marks.
MARK_CHAR, MARK_GAP = 7.15, 8


def chart(points: list[tuple[str, float, str]], marks: Sequence[tuple[int, str]] = (), top: float | None = None,
          scale: str = "", wide: int = CHART_W) -> dict:
    """A bar chart `wide` units wide: `points` (label, value, tip) left to right; `marks`: (index,
    text) written under the bar at index (a period's start); `top`: the value of a full bar
    (default the largest)."""
    top = top if top is not None else max((v for _, v, _ in points), default=0)
    width = (wide - LEFT - 4) / max(1, len(points))
    bars = []
    for i, (label, value, tip) in enumerate(points):
        height = (BOTTOM - TOP) * value / top if top else 0
        bars.append({"x": round(LEFT + i * width + width * 0.1, 2), "w": round(max(width * 0.8, 0.6), 2),
                     "y": round(BOTTOM - height, 2), "h": round(height, 2), "tip": f"{label}: {tip}"})
    return {"w": wide, "h": CHART_H, "left": LEFT, "top": TOP, "bottom": BOTTOM, "bars": bars,
            "max": scale or (f"{top:g}" if top else "0"), "right": wide - 4,
            "marks": _readable([(LEFT + i * width, text) for i, text in marks], wide - 4)}


def _readable(marks: list[tuple[float, str]], right: float) -> list[dict]:
    """The marks that can be read: each clear of the one before, none past the chart's right edge
    (twelve weeks under a half-width chart would run into one another)."""
    kept: list[dict] = []
    free = 0.0
    for x, text in marks:
        end = x + cell_width(text) * MARK_CHAR
        if x >= free and end <= right:
            kept.append({"x": round(x, 2), "text": text})
            free = end + MARK_GAP
    return kept


def _yuan(fen: int) -> str:
    from kiosk.i18n import money

    return money(fen, "zh")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def figures_html(found, viewer) -> str:
    """central/figures.py Figures as a page: per-day intake, and per period and per field."""
    from .figures import period_label, start_of_period

    days, periods = found.days, found.periods
    step = max(1, len(periods) // 12)  # at most about 12 period labels under the daily chart
    starts = {p["from"]: p["period"] for p in periods[::step]}
    day_marks = [(i, starts[d["day"]]) for i, d in enumerate(days) if d["day"] in starts]
    half = CHART_W // 2  # the period charts stand two abreast: half as many labels
    half_marks = [(i, p["period"]) for i, p in enumerate(periods) if i % (2 * step) == 0]

    def per_period(key: str, show) -> dict:
        values = [p[key] or 0 for p in periods]
        rate = key.endswith("_rate")
        return chart([(p["period"], v * 100 if rate else v, show(p[key])) for p, v in zip(periods, values)],
                     half_marks, top=100 if rate else None, scale="100%" if rate else show(max(values, default=0)),
                     wide=half)

    charts = {
        "intake": chart([(d["day"], d["tickets"], f"{d['tickets']} / {d['instruments']}") for d in days], day_marks),
        "revenue": per_period("revenue_fen", _yuan), "waived": per_period("waived_fen", _yuan),
        "on_time": per_period("on_time_rate", _percent), "satisfaction": per_period("satisfaction_rate", _percent),
    }
    query = urlencode({"by": found.by, "from": found.first.isoformat(), "to": found.last.isoformat()})
    other = "month" if found.by == "week" else "week"
    top_revenue = max((f["revenue_fen"] for f in found.fields), default=0)
    return render("figures.html", title="统计 · Figures", viewer=viewer, f=found, charts=charts, query=query,
                  other=other, other_query=urlencode({"by": other}), yuan=_yuan, percent=_percent,
                  top_revenue=top_revenue, this_period=period_label(start_of_period(found.today, found.by), found.by))
