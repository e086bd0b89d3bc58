"""收费查询 Fee lookup: search-as-you-type over the fee catalogue, every price in the open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from kiosk.catalog import SERVICES, FeeRow
from kiosk.i18n import money, service_name, t, unit_name
from kiosk.search import SearchIndex
from kiosk.textwidth import cell_width, truncate

# Price before spec: on a narrow screen the spec is what gets cut, never the price.
COLUMNS = ("col.code", "col.item", "col.service", "col.price", "col.spec")
ITEM_WIDTH = {"zh": 18, "en": 24}  # cells: nine Chinese characters, or "General pressure gauge"
RESULT_LIMIT = 50


class FeeLookupScreen(Screen):
    """Language changes relabel widgets in place: re-composing would lose the query."""

    def __init__(self) -> None:
        super().__init__()
        self.index: SearchIndex | None = None
        self.version: int | None = None
        self.hits: list[FeeRow] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="masthead"):
            yield Static(id="institute")
            yield Button("", id="language", compact=True)
        with Vertical(id="body"):
            yield Static(id="heading")
            yield Input(id="query", max_length=40)
            yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
            yield Static(id="status")
            yield Static(id="notice")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#query", Input).focus()

    @property
    def lang(self) -> str:
        return self.app.language

    def relabel(self) -> None:
        config = self.app.config
        self.query_one("#institute", Static).update(config.institute_zh if self.lang == "zh" else config.institute_en)
        self.query_one("#language", Button).label = t("app.language", self.lang)
        self.query_one("#heading", Static).update(f"{t('app.title', self.lang)} · {t('app.fee_lookup', self.lang)}")
        self.query_one("#query", Input).placeholder = t("app.search_placeholder", self.lang)
        self.query_one("#notice", Static).update(t("app.notice", self.lang))
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        widths = {
            "col.code": 10,
            "col.item": ITEM_WIDTH[self.lang],
            "col.service": max(cell_width(service_name(s, self.lang)) for s in SERVICES),
            "col.price": None,  # sized to its content: a price is never cut
            "col.spec": None,
        }
        for key in COLUMNS:
            table.add_column(t(key, self.lang), key=key, width=widths[key])
        self.show_hits()

    def catalog_ready(self, version: int, index: SearchIndex) -> None:
        self.version, self.index = version, index
        self.run_search(self.query_one("#query", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    def run_search(self, query: str) -> None:
        # In-memory and measured at well under 2 ms per keystroke (bench/): no worker needed.
        self.hits = self.index.search(query, limit=RESULT_LIMIT) if self.index else []
        self.show_hits()

    def show_hits(self) -> None:
        table = self.query_one("#results", DataTable)
        table.clear()
        lang = self.lang
        for row in self.hits:
            spec = row.spec_zh if lang == "zh" else (row.spec_en or row.spec_zh)
            table.add_row(
                row.code,
                truncate(row.name_zh if lang == "zh" else row.name_en, ITEM_WIDTH[lang]),
                service_name(row.service, lang),
                money(None, lang) if row.price_fen is None
                else f"{money(row.price_fen, lang)}/{unit_name(row.unit, lang)}",
                " ".join(x for x in (spec, row.accuracy_class) if x),
            )
        if self.index is None:
            status = t("app.loading", lang)
        else:
            status = f"{t('app.results', lang, count=len(self.hits))} · {t('app.catalog_version', lang, version=self.version)}"
        self.query_one("#status", Static).update(status)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "language":
            self.app.action_toggle_language()
