"""The clerk desk's lock screen: user name and PIN; wrong PINs count, too many lock the account."""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from kiosk.domain.clock import local
from kiosk.i18n import t
from screens.base import KioskScreen, LabelledInput, big_button


class UnlockAnswered(Message):
    def __init__(self, clerk=None, error=None) -> None:
        super().__init__()
        self.clerk, self.error = clerk, error


class UnlockScreen(KioskScreen):
    TITLE_KEY = "desk.unlock_title"
    FOCUS = "#field-username"

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self.error = None

    def compose_body(self):
        yield LabelledInput("username", "desk.username", max_length=32)
        yield LabelledInput("pin", "desk.pin", max_length=12)
        yield Static(id="unlock-message", classes="desk-message")

    def compose_actions(self):
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
            self.post_message(UnlockAnswered(error=e))
        except Exception as e:  # noqa: BLE001 - the database is down: say so, stay locked
            self.post_message(UnlockAnswered(error=e))
        else:
            self.post_message(UnlockAnswered(clerk=clerk))

    def on_unlock_answered(self, message: UnlockAnswered) -> None:
        self.busy = False
        if message.clerk is not None:
            self.reset()
            self.app.unlocked(message.clerk)
        else:
            self.error = message.error
            self.relabel()

    def reset(self) -> None:
        self.error = None
        for field in self.query(Input):
            field.value = ""
        self.query_one("#field-username", Input).focus()
        self.relabel()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#unlock-message", Static).update(Content(self._message()))

    def _message(self) -> str:
        e, lang = self.error, self.lang
        if e is None:
            return ""
        kind = getattr(e, "kind", None)
        if kind == "wrong_pin":
            return t("desk.wrong_pin", lang, tries=e.tries_left)
        if kind == "locked":
            return t("desk.locked", lang, time=f"{local(e.locked_until):%H:%M}")
        if kind == "unknown":
            return t("desk.unknown_clerk", lang)
        return t("desk.failed", lang, error=str(e))
