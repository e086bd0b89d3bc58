"""Leaving the kiosk: only with the maintenance PIN (F12). Customers never get past this."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.i18n import t
from screens.base import FIELDS_CSS

MAX_TRIES = 3  # then the prompt closes; F12 opens it again


class MaintenanceExit(ModalScreen[None]):
    CSS_PATH: ClassVar = [FIELDS_CSS, Path(__file__).parent / "dialogs.tcss"]  # the PIN's error: a field's
    BINDINGS: ClassVar = [("escape", "dismiss", "")]

    def __init__(self) -> None:
        super().__init__()
        self.tries = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="maintenance"):
            yield Static(id="maintenance-title")
            yield Input(password=True, id="pin", max_length=12)
            yield Static(id="maintenance-error", classes="field-error")
            with Horizontal(classes="actions"):
                yield Button("", id="cancel", classes="big")
                yield Button("", id="exit", variant="error", classes="big")

    def on_mount(self) -> None:
        lang = self.app.language
        self.query_one("#maintenance-title", Static).update(t("maintenance.title", lang))
        self.query_one("#cancel", Button).label = t("flow.cancel", lang)
        self.query_one("#exit", Button).label = t("maintenance.exit", lang)
        self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss()
        else:
            self.check()

    def check(self) -> None:
        pin = self.query_one("#pin", Input)
        if hmac.compare_digest(pin.value.encode(), self.app.config.maintenance_pin.encode()):
            self.app.exit(return_code=0, message="maintenance exit")
            return
        self.tries += 1
        pin.value = ""
        if self.tries >= MAX_TRIES:
            self.dismiss()
        else:
            self.query_one("#maintenance-error", Static).update(t("maintenance.wrong", self.app.language))
