"""满意度统计: the desk's admin screen (an admin clerk, F11). Satisfaction by week (the last
12), by counter, by clerk and by heart, as bars in eighths of a cell; F5 writes the ratings
as CSV to the data directory's exports/ folder.

The ratings are read and counted in the station's database thread (kiosk.store.satisfaction),
and the CSV is written there too; the screen only lays the figures out, in display cells.
Escape goes back to the counter; locking the desk (F9, or idle) closes it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from kiosk.domain.clock import today as institute_today
from kiosk.i18n import t
from kiosk.i18n.keys import SATISFACTION_VIEWS
from kiosk.i18n.satisfaction_text import (
    GAPS,
    VIEWS,
    empty_line,
    groups_of,
    header_cells,
    headline,
    join,
    row_cells,
)
from screens.base import KioskScreen, big_button

if TYPE_CHECKING:
    from textual import getters

    from screens.host import StationHost

CSS = Path(__file__).parent / "admin.tcss"
WEEKS = 12
PADDING = 2  # the body's cells left and right (admin.tcss)


class SummaryLoaded(Message):
    def __init__(self, summary=None, error=None) -> None:
        super().__init__()
        self.summary, self.error = summary, error


class ExportDone(Message):
    """`path`: written; else `error` (an OSError, mostly)."""

    def __init__(self, path=None, count: int = 0, error=None) -> None:
        super().__init__()
        self.path, self.count, self.error = path, count, error


class AdminScreen(KioskScreen):
    TITLE_KEY = "admin.title"
    CSS_PATH = CSS
    BINDINGS: ClassVar = [
        Binding("1", "view('week')", show=False), Binding("2", "view('counter')", show=False),
        Binding("3", "view('clerk')", show=False), Binding("4", "view('heart')", show=False),
        Binding("left", "step(-1)", show=False), Binding("right", "step(1)", show=False),
        Binding("f5", "export", show=False, id="export"),
    ]

    if TYPE_CHECKING:  # the kiosk's or the desk's app, typed (screens/host.py)
        app = getters.app(StationHost)

    def __init__(self, today: date | None = None, weeks: int = WEEKS) -> None:
        """`today`: the last day counted (tests fix it); by default the local date on opening."""
        super().__init__()
        self.today = today or institute_today()
        self.weeks = weeks
        self.view = "week"
        self.summary = None  # kiosk.domain.satisfaction.Summary, once counted
        self.error = None  # why counting failed
        self.message: tuple[str, dict[str, object]] = ("", {})  # what the last export did: i18n key, values
        self.exporting = False

    def compose_body(self):
        yield Static(id="admin-headline")
        tabs = Tabs(*(Tab(t(SATISFACTION_VIEWS[v], self.lang), id=f"view-{v}") for v in VIEWS), active="view-week",
                    id="admin-views")
        tabs.can_focus = False  # keys 1-4 and Left/Right, or a tap
        yield tabs
        yield Static(id="admin-table")
        yield Static(id="admin-message", classes="desk-message")
        yield Static(id="admin-hint")

    def compose_actions(self):
        for key, id_ in (("admin.export", "export"), ("admin.back", "back")):
            button = big_button(key, id_, "primary" if id_ == "export" else "default")
            button.can_focus = False
            yield button

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._load(), group="admin-load", exclusive=True)

    async def _load(self) -> None:
        from kiosk.store.satisfaction import load_summary

        try:
            summary = await self.app.in_db_thread(load_summary, self.weeks, self.today)
        except Exception as e:  # noqa: BLE001 - a broken database is said, never a crash
            self.post_message(SummaryLoaded(error=e))
        else:
            self.post_message(SummaryLoaded(summary))

    def on_summary_loaded(self, message: SummaryLoaded) -> None:
        self.summary, self.error = message.summary, message.error
        self.show()

    # ---- views ---------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.query_one("#admin-views", Tabs).active = f"view-{view}"  # TabActivated does the rest

    def action_step(self, step: int) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) + step) % len(VIEWS)])

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        view = (event.tab.id or "").removeprefix("view-")
        if view in VIEWS and view != self.view:
            self.view = view
            self.show()

    # ---- export --------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.exporting:
            return
        if self.summary is None:
            self.message = ("admin.not_ready", {})
            self.show()
            return
        self.exporting = True
        self.message = ("admin.exporting", {})
        self.show()
        folder = self.app.config.data_dir / "exports"
        self.run_worker(self._export(self.summary.ratings, folder), group="admin-export", exclusive=True)

    async def _export(self, ratings, folder: Path) -> None:
        from kiosk.store.satisfaction import export_csv

        try:
            path = await self.app.in_db_thread(export_csv, ratings, folder, self.today)
        except Exception as e:  # noqa: BLE001 - disk full, read-only, a file in the way: said
            self.post_message(ExportDone(error=e))
        else:
            self.post_message(ExportDone(path, len(ratings)))

    def on_export_done(self, message: ExportDone) -> None:
        self.exporting = False
        if message.error is None:
            self.message = ("admin.exported", {"count": message.count, "path": str(message.path)})
        else:
            e = message.error
            error = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            self.message = ("admin.export_failed", {"error": error,
                                                    "folder": str(self.app.config.data_dir / "exports")})
        self.show()

    # ---- drawing -------------------------------------------------------------------------

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        for view in VIEWS:
            self.query_one(f"#view-{view}", Tab).label = t(SATISFACTION_VIEWS[view], lang)
        self.query_one("#admin-hint", Static).update(Content(t("admin.hint", lang)))
        if self.is_mounted:
            self.show()

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        lang, s = self.lang, self.summary
        key, values = self.message
        self.query_one("#admin-message", Static).update(Content(t(key, lang, **values) if key else ""))
        top = self.query_one("#admin-headline", Static)
        table = self.query_one("#admin-table", Static)
        if s is None:
            top.update(Content(t("admin.failed", lang, error=str(self.error)) if self.error else
                               t("admin.loading", lang)))
            table.update("")
            return
        top.update(Content(headline(s, lang)))
        if not s.overall.count:
            table.update(Content(empty_line(s, lang)))
            return
        total = max(40, self.app.size.width - 2 * PADDING)
        lines = [Content.assemble(*_styled(header_cells(self.view, lang, total), header=True))]
        lines += [Content.assemble(*_styled(row_cells(g, self.view, lang, total)))
                  for g in groups_of(s, self.view)]
        table.update(Content("\n").join(lines))


def _styled(cells: tuple[str, ...], header: bool = False) -> list:
    """The cells with their gaps, as kiosk.i18n.satisfaction_text.join lays them out; the bar in colour."""
    if header:
        return [(join(cells), "bold")]
    label, bar, rate, count, mean = cells
    return [label, " " * GAPS[0], (bar, "$success"), " " * GAPS[1], rate, " " * GAPS[2], count, " " * GAPS[3], mean]
