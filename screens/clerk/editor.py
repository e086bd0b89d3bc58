"""What the desk's pop-up editors share (a line of the intake, certificate numbers, a
follow-up's call note): Esc or Cancel leaves with nothing, Save or Enter keeps. A subclass
that handles Enter itself calls `event.prevent_default()` (Textual runs every class's handler)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from screens.base import Worded

if TYPE_CHECKING:
    from textual import getters

    from screens.clerk.host import DeskHost

Result = TypeVar("Result")


class Editor(Worded, ModalScreen[Result]):
    BINDINGS: ClassVar = [Binding("escape", "cancel", show=False, id="cancel")]

    if TYPE_CHECKING:  # the desk's app (screens/clerk/host.py), for the type checker only
        app = getters.app(DeskHost)

    @property
    def lang(self) -> str:
        return self.app.language

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        elif event.button.id == "save":
            self.action_save()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raise NotImplementedError
