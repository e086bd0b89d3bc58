"""收费查询 Fee lookup: search-as-you-type over the fee catalogue, every price in the open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from kiosk.domain.catalog import FeeRow
from kiosk.i18n import name_of, service_name, spec_of, t, unit_price

from .base import KEYBOARD_CSS, KioskScreen, big_button
from .result_table import KEEP, NAME, WRAP, ResultTable

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

# A code, a service and a price are never cut; the name and the spec wrap where they must.
COLUMNS = {"col.code": KEEP, "col.item": NAME, "col.service": KEEP, "col.price": KEEP, "col.spec": WRAP}
RESULT_LIMIT = 50


class FeeLookupScreen(KioskScreen):
    CSS_PATH: ClassVar = [Path(__file__).parent / "fee_lookup.tcss", KEYBOARD_CSS]
    TITLE_KEY = "app.fee_lookup"
    FOCUS = "#query"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[FeeRow] = []
        self.chosen: FeeRow | None = None  # the fee tapped: shown whole, with its regulation and days

    def compose_body(self) -> ComposeResult:
        yield Input(id="query", max_length=40)
        yield ResultTable(COLUMNS, id="results", zebra_stripes=True)
        yield Static(id="chosen", markup=False)
        yield Static(id="status")
        yield Static(id="notice")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        self.query_one("#query", Input).placeholder = t("app.search_placeholder", lang)
        self.query_one("#notice", Static).update(t("app.notice", lang))
        self.show_hits()

    def catalog_ready(self) -> None:
        self.run_search(self.query_one("#query", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    def run_search(self, query: str) -> None:
        # In-memory and measured at well under 2 ms per keystroke (bench/): no worker needed.
        index = self.app.index
        self.hits = index.search(query, limit=RESULT_LIMIT) if index else []
        self.chosen = None  # the choice goes with the results it was made in
        self.show_hits()

    def show_hits(self) -> None:
        lang = self.lang
        self.query_one("#results", ResultTable).show(
            {key: t(key, lang) for key in COLUMNS},
            [(row.standard, name_of(row, lang), service_name(row.service, lang),
              unit_price(row.price_fen, row.unit, lang), spec_of(row, lang)) for row in self.hits])
        if self.app.catalog is None:
            status = t("app.loading", lang)
        else:
            status = (f"{t('app.results', lang, count=len(self.hits))}  "
                      f"{t('app.catalog_version', lang, version=self.app.catalog.version)}")
        self.query_one("#status", Static).update(status)
        self.show_chosen()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.chosen = self.hits[event.cursor_row]
        self.show_chosen()

    def show_chosen(self) -> None:
        row, lang = self.chosen, self.lang
        shown = self.query_one("#chosen", Static)
        shown.display = row is not None
        if row is not None:
            shown.update("  ".join(part for part in (
                row.standard, name_of(row, lang), service_name(row.service, lang),
                unit_price(row.price_fen, row.unit, lang), spec_of(row, lang), row.regulation,
                t("total.turnaround", lang, days=row.turnaround_days)) if part))

