"""The countdown before an idle kiosk forgets everything: any touch or key dismisses it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from kiosk.i18n import t
from screens.base import Worded

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost


class IdleWarning(Worded, ModalScreen[None]):
    CSS_PATH = Path(__file__).parent / "dialogs.tcss"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, seconds: int) -> None:
        super().__init__()
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        with Vertical(id="idle"):
            yield Static(id="idle-seconds")
            yield Static(id="idle-text")

    def on_mount(self) -> None:
        self.relabel()

    def count(self, seconds: int) -> None:
        self.seconds = seconds
        if self.query("#idle-seconds"):  # a tick may come before it is composed (on_mount says it) or as it goes
            self.relabel()

    def relabel(self) -> None:
        lang = self.app.language
        self.query_one("#idle-seconds", Static).update(str(self.seconds))
        self.query_one("#idle-text", Static).update(t("idle.warning", lang, seconds=self.seconds))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        self.dismiss()
