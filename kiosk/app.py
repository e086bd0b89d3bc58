"""The Textual app. Database work runs in a worker thread; results come back as messages."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from .config import Config
from .i18n import t


class CatalogLoaded(Message):
    def __init__(self, version: int, index) -> None:
        super().__init__()
        self.version = version
        self.index = index


class CatalogFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class KioskApp(App):
    CSS_PATH = Path(__file__).parent.parent / "screens" / "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    TITLE = "仪器送检自助服务"

    BINDINGS: ClassVar = [Binding("f2", "toggle_language", "中文/English", id="language")]

    language: reactive[str] = reactive("zh", init=False)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.set_reactive(KioskApp.language, config.language)

    def on_mount(self) -> None:
        from screens.fee_lookup import FeeLookupScreen

        self.push_screen(FeeLookupScreen())
        self.load_catalog()

    @work(thread=True, exclusive=True, group="catalog")
    def load_catalog(self) -> None:
        from db.connection import SchemaError, open_database

        from .catalog_store import ensure_catalog, load_catalog
        from .registration import ensure_device
        from .search import SearchIndex

        try:
            open_database(self.config.database)
            ensure_catalog()
            ensure_device(self.config.device_prefix)
            catalog = load_catalog()
        except (SchemaError, OSError) as e:
            self.post_message(CatalogFailed(str(e)))
            return
        self.post_message(CatalogLoaded(catalog.version, SearchIndex(catalog.rows)))

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        self.screen.catalog_ready(message.version, message.index)

    def on_catalog_failed(self, message: CatalogFailed) -> None:
        self.notify(f"{t('cli.database', self.language)}: {message.error}", severity="error", timeout=30)

    def action_toggle_language(self) -> None:
        self.language = "en" if self.language == "zh" else "zh"

    def watch_language(self) -> None:
        self.screen.relabel()
