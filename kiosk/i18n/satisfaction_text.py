"""满意度统计 as text laid out in display cells (a hanzi takes two): the admin screen's rows and
`kiosk satisfaction`'s tables. No Textual, no I/O."""

from __future__ import annotations

from kiosk.domain.satisfaction import UNKNOWN, Group, Summary, bar, monday
from kiosk.i18n import t
from kiosk.i18n.keys import FEEDBACK_HEARTS, SATISFACTION_GROUPS, SATISFACTION_VIEWS
from kiosk.i18n.textwidth import pad

VIEWS = ("week", "counter", "clerk", "heart")
RATE, COUNT, MEAN = 6, 7, 4  # cells: "100.0%", "Ratings", "4.50"
GAPS = (1, 1, 2, 2)  # after the label, the bar, the rate, the count
MAX_BAR = 80


def groups_of(summary: Summary, view: str) -> tuple[Group, ...]:
    return {"week": summary.weeks, "counter": summary.counters, "clerk": summary.clerks,
            "heart": summary.hearts}[view]


def label_of(group: Group, view: str, lang: str) -> str:
    if view == "week":
        return f"{group.key} {monday(group.key):%m-%d}"  # 2026-W48 11-23: the week and its Monday
    if view == "heart":
        return t(FEEDBACK_HEARTS[group.key], lang)
    return t("admin.unknown", lang) if group.key == UNKNOWN else group.key


def widths(total: int) -> tuple[int, int]:
    """(label, bar) cells for a table `total` cells wide; the bar gets what is left."""
    label = 20 if total >= 100 else 16
    rest = total - label - RATE - COUNT - MEAN - sum(GAPS)
    return label, max(8, min(MAX_BAR, rest))


def rate_text(group: Group) -> str:
    return f"{group.rate * 100:.1f}%" if group.count else "-"


def mean_text(group: Group) -> str:
    return f"{group.mean:.2f}" if group.count else "-"


def header_cells(view: str, lang: str, total: int) -> tuple[str, str, str, str, str]:
    label, width = widths(total)
    return (pad(t(SATISFACTION_GROUPS[view], lang), label), pad(t("admin.col.rate", lang), width), pad("", RATE),
            pad(t("admin.col.count", lang), COUNT, ">"), pad(t("admin.col.mean", lang), MEAN, ">"))


def row_cells(group: Group, view: str, lang: str, total: int) -> tuple[str, str, str, str, str]:
    """Label, bar of the satisfaction rate (eighths of a cell), rate, count, mean: each padded."""
    label, width = widths(total)
    return (pad(label_of(group, view, lang), label), bar(group.rate, width), pad(rate_text(group), RATE, ">"),
            pad(str(group.count), COUNT, ">"), pad(mean_text(group), MEAN, ">"))


def join(cells: tuple[str, ...]) -> str:
    out = cells[0]
    for gap, cell in zip(GAPS, cells[1:]):
        out += " " * gap + cell
    return out.rstrip()


def headline(summary: Summary, lang: str) -> str:
    o = summary.overall
    return t("admin.headline", lang, count=o.count, rate=rate_text(o), poor=o.poor, first=summary.first.isoformat(),
             last=summary.last.isoformat())


def empty_line(summary: Summary, lang: str) -> str:
    return t("admin.empty", lang, first=summary.first.isoformat(), last=summary.last.isoformat())


def view_lines(summary: Summary, view: str, lang: str, total: int) -> list[str]:
    """A view as a table: the header and one line per group; the empty line if no ratings."""
    if not summary.overall.count:
        return [empty_line(summary, lang)]
    return [join(header_cells(view, lang, total)),
            *(join(row_cells(g, view, lang, total)) for g in groups_of(summary, view))]


def format_report(summary: Summary, lang: str = "zh", width: int = 78) -> str:
    """Every view, for a terminal: the headline, then each view's title and table."""
    lines = [headline(summary, lang)]
    if not summary.overall.count:
        return "\n".join([*lines, empty_line(summary, lang)])
    for view in VIEWS:
        lines += ["", t(SATISFACTION_VIEWS[view], lang), *view_lines(summary, view, lang, width)]
    return "\n".join(lines)
