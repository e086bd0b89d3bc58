"""收费查询 Fee lookup: search-as-you-type over the fee catalogue, every price in the open."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from kiosk.domain.catalog import SERVICES, FeeRow
from kiosk.i18n import name_of, service_name, spec_of, t, unit_price
from kiosk.i18n.textwidth import cell_width, truncate

from .base import ITEM_WIDTH, KioskScreen, big_button

# Price before spec: on a narrow screen the spec is what gets cut, never the price.
COLUMNS = ("col.code", "col.item", "col.service", "col.price", "col.spec")
RESULT_LIMIT = 50


class FeeLookupScreen(KioskScreen):
    CSS_PATH = Path(__file__).parent / "fee_lookup.tcss"
    TITLE_KEY = "app.fee_lookup"
    FOCUS = "#query"

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[FeeRow] = []

    def compose_body(self) -> ComposeResult:
        yield Input(id="query", max_length=40)
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Static(id="status")
        yield Static(id="notice")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        self.query_one("#query", Input).placeholder = t("app.search_placeholder", lang)
        self.query_one("#notice", Static).update(t("app.notice", lang))
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        widths = {
            "col.code": 10,
            "col.item": ITEM_WIDTH[lang],
            "col.service": max(cell_width(service_name(s, lang)) for s in SERVICES),
            "col.price": None,  # sized to its content: a price is never cut
            "col.spec": None,
        }
        for key in COLUMNS:
            table.add_column(t(key, lang), key=key, width=widths[key])
        self.show_hits()

    def catalog_ready(self) -> None:
        self.run_search(self.query_one("#query", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    def run_search(self, query: str) -> None:
        # In-memory and measured at well under 2 ms per keystroke (bench/): no worker needed.
        index = self.app.index
        self.hits = index.search(query, limit=RESULT_LIMIT) if index else []
        self.show_hits()

    def show_hits(self) -> None:
        table = self.query_one("#results", DataTable)
        table.clear()
        lang = self.lang
        for row in self.hits:
            table.add_row(row.code, truncate(name_of(row, lang), ITEM_WIDTH[lang]), service_name(row.service, lang),
                          unit_price(row.price_fen, row.unit, lang), spec_of(row, lang))
        if self.app.catalog is None:
            status = t("app.loading", lang)
        else:
            status = (f"{t('app.results', lang, count=len(self.hits))}  "
                      f"{t('app.catalog_version', lang, version=self.app.catalog.version)}")
        self.query_one("#status", Static).update(status)

