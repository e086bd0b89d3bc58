"""The clerk desk's lock screen: user name and PIN; wrong PINs count, too many lock the account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from kiosk.domain.clock import local
from kiosk.i18n import t
from screens.base import KioskScreen, LabelledInput, big_button

if TYPE_CHECKING:
    from textual import getters

    from kiosk.store.clerks import ClerkError, ClerkInfo
    from screens.clerk.host import DeskHost


@dataclass
class UnlockAnswered(Message):
    """Unlocked (`clerk`), refused (`refused`: its `kind` says why), or failed otherwise
    (`failed`: the database is down)."""

    clerk: ClerkInfo | None = None
    refused: ClerkError | None = None
    failed: Exception | None = None


class UnlockScreen(KioskScreen):
    TITLE_KEY = "desk.unlock_title"
    FOCUS = "#field-username"

    if TYPE_CHECKING:  # the desk's app (screens/clerk/host.py), for the type checker only
        app = getters.app(DeskHost)

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self.refused: ClerkError | None = None
        self.failed: Exception | None = None

    def compose_body(self) -> ComposeResult:
        yield LabelledInput("username", "desk.username", max_length=32)
        yield LabelledInput("pin", "desk.pin", max_length=12)
        yield Static(id="unlock-message", classes="desk-message")

    def compose_actions(self) -> ComposeResult:
        yield big_button("desk.unlock", "unlock", "primary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#field-pin", Input).password = True

    def action_back(self) -> None:
        """Nothing behind the lock screen."""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "field-username":
            self.query_one("#field-pin", Input).focus()
        else:
            self.action_unlock()

    def action_unlock(self) -> None:
        if self.busy:
            return
        username = self.query_one("#field-username", Input).value
        pin = self.query_one("#field-pin", Input).value
        self.query_one("#field-pin", Input).value = ""
        self.busy = True
        self.run_worker(self._unlock(username, pin), group="unlock", exclusive=True)

    async def _unlock(self, username: str, pin: str) -> None:
        from kiosk.store.clerks import ClerkError, unlock

        try:
            clerk = await self.app.in_db_thread(unlock, username, pin)
        except ClerkError as e:
            self.post_message(UnlockAnswered(refused=e))
        except Exception as e:  # noqa: BLE001 - the database is down: say so, stay locked
            self.post_message(UnlockAnswered(failed=e))
        else:
            self.post_message(UnlockAnswered(clerk=clerk))

    def on_unlock_answered(self, message: UnlockAnswered) -> None:
        self.busy = False
        if message.clerk is not None:
            self.reset()
            self.app.unlocked(message.clerk)
        else:
            self.refused, self.failed = message.refused, message.failed
            self.relabel()

    def reset(self) -> None:
        """Nothing typed and nothing said: the desk was locked (DeskApp.action_lock) or unlocked."""
        self.refused = self.failed = None
        for field in self.query(Input):
            field.value = ""
        self.query_one("#field-username", Input).focus()
        self.relabel()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#unlock-message", Static).update(Content(self._message()))

    def _message(self) -> str:
        refused, lang = self.refused, self.lang
        if refused is not None and refused.kind == "wrong_pin":
            return t("desk.wrong_pin", lang, tries=refused.tries_left)
        if refused is not None and refused.kind == "locked":
            assert refused.locked_until is not None  # a "locked" refusal always says until when (kiosk/store/clerks.py)
            return t("desk.locked", lang, time=f"{local(refused.locked_until):%H:%M}")
        if refused is not None and refused.kind == "unknown":
            return t("desk.unknown_clerk", lang)
        error = refused or self.failed
        return t("desk.failed", lang, error=str(error)) if error is not None else ""
