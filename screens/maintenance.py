"""Leaving the kiosk: only with the maintenance PIN (F12). Customers never get past this.

The PIN is checked in the database thread (kiosk/store/maintenance.py: a scrypt hash, a
lock-out with growing delays that closing this prompt or restarting does not reset). While
locked out the prompt says how long in words, counting down on the app's clock, and checks
nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.i18n import t
from screens.base import FIELDS_CSS, KEYBOARD_CSS, offer_keyboard

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost


class MaintenanceExit(ModalScreen[None]):
    CSS_PATH: ClassVar = [FIELDS_CSS, KEYBOARD_CSS, Path(__file__).parent / "dialogs.tcss"]  # the PIN error: a field's
    BINDINGS: ClassVar = [("escape", "dismiss", "")]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__()
        self.checking = False  # a PIN is being checked: another Enter or tap waits for the answer
        self.locked_until: datetime | None = None  # on the app's wall_now(): the countdown's end

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
        self.set_interval(1, self.count_down)
        self.look_up_lockout()  # opened again while locked out: says so at once

    def on_descendant_focus(self, event) -> None:
        offer_keyboard(self.query_one("#maintenance"), event.widget)  # a digit pad for the PIN, inside the box

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss()
        else:
            self.check()

    def check(self) -> None:
        if self.checking:
            return
        pin = self.query_one("#pin", Input)
        typed, pin.value = pin.value, ""
        if not typed:
            return  # an Enter on nothing is not a guess
        self.checking = True
        self.try_pin(typed)

    @work(group="maintenance-pin", exclusive=True)
    async def try_pin(self, typed: str) -> None:
        from kiosk.store.maintenance import Attempt, try_pin

        try:
            attempt = await self.app.in_db_thread(try_pin, typed, self.app.wall_now())
        except Exception:  # noqa: BLE001 - no database at all (out of service): nothing can be checked
            attempt = Attempt("unrecorded")
        finally:
            self.checking = False
        if attempt.outcome == "right":
            self.app.exit(return_code=0, message="maintenance exit")
            return
        self.show(attempt.outcome, attempt.wait, attempt.tries_left)

    @work(group="maintenance-pin", exclusive=True)
    async def look_up_lockout(self) -> None:
        from kiosk.store.maintenance import remaining

        try:
            wait = await self.app.in_db_thread(remaining, self.app.wall_now())
        except Exception:  # noqa: BLE001 - no database: said when a PIN is tried
            return
        if wait is not None:
            self.show("locked", wait, None)

    def show(self, outcome: str, wait: timedelta | None, tries_left: int | None) -> None:
        lang = self.app.language
        if wait is not None:
            self.locked_until = self.app.wall_now() + wait
            self.count_down()
            return
        self.locked_until = None
        if outcome == "unrecorded":
            text = t("maintenance.unrecorded", lang)
        elif tries_left is not None and tries_left <= 2:
            text = t("maintenance.wrong_left", lang, tries=tries_left)
        else:
            text = t("maintenance.wrong", lang)
        self.query_one("#maintenance-error", Static).update(text)

    def count_down(self) -> None:
        """Once a second while locked out: the wait left, in words; then that a PIN may be tried."""
        if self.locked_until is None:
            return
        left = int((self.locked_until - self.app.wall_now()).total_seconds() + 0.999)
        lang = self.app.language
        if left <= 0:
            self.locked_until = None
            text = t("maintenance.unlocked", lang)
        else:
            text = t("maintenance.locked", lang, wait=wait_in_words(left, lang))
        self.query_one("#maintenance-error", Static).update(text)


def wait_in_words(seconds: int, lang: str) -> str:
    """45 s, 2 min 5 s; 45秒, 2分5秒."""
    minutes, seconds = divmod(seconds, 60)
    if minutes:
        return t("maintenance.wait_minutes", lang, minutes=minutes, seconds=seconds)
    return t("maintenance.wait_seconds", lang, seconds=seconds)
