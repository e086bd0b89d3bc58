"""送检仪器 Instruments: find each instrument in the catalogue, pick its variant, describe it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from kiosk.i18n import name_of, quantity_text, service_name, spec_of, t, unit_price, use_name

from .base import REGISTRATION_CSS, KioskScreen, big_button, labelled
from .line_editor import REMOVE, LineEditor
from .result_table import KEEP, NAME, WRAP, ResultTable

if TYPE_CHECKING:
    from textual import getters

    from kiosk.domain.catalog import FeeRow
    from screens.host import KioskHost

RESULT_LIMIT = 30
HITS = {"col.item": NAME, "col.service": KEEP, "col.price": KEEP, "col.spec": WRAP}
LINES = {"col.item": NAME, "col.service": KEEP, "col.quantity": KEEP, "col.use": KEEP, "col.spec": WRAP}


class InstrumentsScreen(KioskScreen):
    CSS_PATH = REGISTRATION_CSS
    TITLE_KEY = "welcome.register"
    STEP = 1
    FOCUS = "#search"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[FeeRow] = []
        self.error_key: str | None = None  # kept as a key so a language switch re-words it

    def compose_body(self) -> ComposeResult:
        yield Input(id="search", max_length=40)
        yield ResultTable(HITS, id="hits", zebra_stripes=True)
        yield labelled(Static(classes="heading"), "instruments.yours")
        yield ResultTable(LINES, id="lines")
        yield Static(id="lines-error", classes="field-error")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("flow.next", "next", "primary")

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        self.query_one("#search", Input).placeholder = t("app.search_placeholder", lang)
        self.show_hits()
        self.show_lines()

    def catalog_ready(self) -> None:
        self.search(self.query_one("#search", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Keyboard path: type, Enter, arrows to the variant, Enter.
        if event.input.id == "search" and self.hits:
            self.query_one("#hits", DataTable).focus()

    def search(self, query: str) -> None:
        index = self.app.index
        self.hits = index.search(query, limit=RESULT_LIMIT) if index else []
        self.show_hits()

    def show_hits(self) -> None:
        table, lang = self.query_one("#hits", ResultTable), self.lang
        table.show({key: t(key, lang) for key in HITS}, [self._describe(row, lang) for row in self.hits])
        table.display = bool(self.hits)

    def show_lines(self) -> None:
        table, lang = self.query_one("#lines", ResultTable), self.lang
        catalog = self.app.catalog
        rows: list[tuple[str, ...]] = []
        for line in self.app.draft.lines:
            assert catalog is not None  # lines are chosen from the catalogue: it has loaded
            row = catalog.by_code[line.code]
            name, service, _, spec = self._describe(row, lang)
            rows.append((name, service, quantity_text(line.quantity, row.unit, lang), use_name(line.use, lang), spec))
        table.show({key: t(key, lang) for key in LINES}, rows)
        table.display = bool(self.app.draft.lines)
        if self.app.draft.lines:
            self.error_key = None
        self.query_one("#lines-error", Static).update(t(self.error_key, lang) if self.error_key else "")

    @staticmethod
    def _describe(row, lang: str) -> tuple[str, str, str, str]:
        return (name_of(row, lang), service_name(row.service, lang), unit_price(row.price_fen, row.unit, lang),
                spec_of(row, lang))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "hits":
            row = self.hits[event.cursor_row]
            self.app.push_screen(LineEditor(row), self.line_added)
        elif event.data_table.id == "lines":
            index = event.cursor_row
            line = self.app.draft.lines[index]
            assert self.app.catalog is not None  # the line was chosen from it
            self.app.push_screen(LineEditor(self.app.catalog.by_code[line.code], line),
                                 lambda result: self.line_edited(index, result))

    def line_added(self, line) -> None:
        if line is not None and line != REMOVE:
            self.app.draft.add_line(line)
            search = self.query_one("#search", Input)
            search.value = ""
            search.focus()
        self.show_lines()

    def line_edited(self, index: int, result) -> None:
        if result == REMOVE:
            self.app.draft.remove_line(index)
        elif result is not None:
            self.app.draft.replace_line(index, result)
        self.show_lines()


    def action_next(self) -> None:
        if not self.app.draft.lines:
            self.error_key = "error.no_lines"
            self.show_lines()
            self.query_one("#search", Input).focus()
            return
        assert self.app.catalog is not None  # the lines were chosen from it
        self.app.draft.drop_urgent_if_impossible(self.app.catalog)
        from .options import OptionsScreen

        self.app.push_screen(OptionsScreen())
