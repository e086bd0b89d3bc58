"""The organisation field with the names that complete it: after two typed characters, up to
four names of the institute's customer organisations (kiosk/store/organisations.py) appear under
the field. One tap on a name fills the field; by keys, the down arrow goes into the list, Enter
takes the name, up (from the first) or Esc goes back to typing. The list holds names only.

The field reports what is typed as every field does (Input.Changed reaches the screen, which
keeps the draft); this box only listens to it on the way up. Whatever types into the field (the
keys, an on-screen keyboard, a paste) is heard the same way. The list stays out of Tab's way:
it takes the focus only from the down arrow.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList

from .base import LabelledInput

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

# A ticket code being scanned into the field (screens/returning.py takes it out): never a name.
_SCANNING = re.compile(r"[JＪ][LＬ][A-Z2-7Ａ-Ｚ２-７]{8}")


class Suggestions(OptionList):
    """The names, one per row; a tap takes one at once."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar = [Binding("escape", "leave", show=False), Binding("up", "up", show=False)]

    def __init__(self) -> None:
        super().__init__(id="suggestions", markup=False)
        self.can_focus = False  # only the down arrow brings the focus here (OrganisationField)
        self.names: list[str] = []
        self.display = False

    def show(self, names: list[str]) -> None:
        self.names = names
        self.set_options(Content(name) for name in names)
        self.display = bool(names)

    def enter(self) -> None:
        self.can_focus = True
        self.focus()
        self.highlighted = 0

    def on_blur(self) -> None:
        self.can_focus = False

    def action_up(self) -> None:
        if self.highlighted in (None, 0):
            self.action_leave()
        else:
            self.action_cursor_up()

    def action_leave(self) -> None:
        self.highlighted = None
        assert self.parent is not None  # a key reaches the list only while it is mounted, in its OrganisationField
        self.parent.query_one(Input).focus()


class OrganisationField(Vertical):
    """A LabelledInput and the Suggestions under it."""

    BINDINGS: ClassVar = [Binding("down", "suggestions", show=False)]

    class Chosen(Message):
        """The customer took a name: the field holds it now."""

        def __init__(self, organisation: str) -> None:
            super().__init__()
            self.organisation = organisation

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, field: LabelledInput) -> None:
        super().__init__(classes="organisation-field")
        self.field = field
        self.chosen: str | None = None  # the name just taken: not offered again for itself

    def compose(self) -> ComposeResult:
        yield self.field
        yield Suggestions()

    @property
    def suggestions(self) -> Suggestions:
        return self.query_one(Suggestions)

    def on_input_changed(self, event: Input.Changed) -> None:
        # Not stopped: the screen keeps the draft from the same message.
        text = event.value
        if text == self.chosen or _SCANNING.search(text) or not event.input.has_focus:
            # Filled by a tap on a name, a scan or the draft (coming back to this step): nothing typed.
            self.suggestions.show([])
            return
        self.chosen = None
        self.look_up(text)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        # Tab, a tap elsewhere: the names go. Not into the list itself (the down arrow).
        if self.screen.focused is not self.suggestions:
            self.suggestions.show([])

    @work(exclusive=True, group="organisation-suggestions")
    async def look_up(self, text: str) -> None:
        from kiosk.domain.organisations import enough_typed
        from kiosk.store.organisations import matching

        if not enough_typed(text):
            self.suggestions.show([])
            return
        names = await self.app.in_db_thread(matching, text)
        if self.field.value == text and self.field.input.has_focus:  # only the latest text's names, while typed
            self.suggestions.show([name for name in names if name != text])

    def action_suggestions(self) -> None:
        if not (self.suggestions.display and self.field.input.has_focus):
            raise SkipAction()  # the down arrow does what it does elsewhere
        self.suggestions.enter()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        name = self.suggestions.names[event.option_index]
        self.chosen = name
        self.suggestions.show([])
        self.field.input.value = name
        self.field.input.cursor_position = len(name)
        self.post_message(self.Chosen(name))
