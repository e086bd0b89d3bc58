"""The scan field: a keyboard-wedge scanner types a code (up to a few hundred characters in a
burst) and Enter or Tab. Textual's Input inserts printable keys before it handles bindings,
so a fast burst could be reordered or split by a binding; this field takes every key event
itself, in order, into its own buffer, and nothing else on its screen can take focus."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Static

MAX_SCAN = 400  # characters; a longer burst is not a ticket code (the rest is dropped)


class ScanField(Static, can_focus=True):
    class Scanned(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.buffer = ""

    def on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "tab", "ctrl+m", "ctrl+i"):
            text, self.buffer = self.buffer, ""
            if text.strip():
                self.post_message(self.Scanned(text))
        elif event.key == "backspace":
            self.buffer = self.buffer[:-1]
        elif event.key == "escape":
            self.buffer = ""
        elif event.character and event.is_printable:
            if len(self.buffer) < MAX_SCAN:
                self.buffer += event.character
        else:
            return  # F-keys and the like: the screen's bindings
        event.stop()
        event.prevent_default()
        self.update(self._shown())

    def _shown(self):
        from rich.text import Text

        # Plain text, never markup: a scan may hold "[" and anything else.
        return Text.assemble(self.buffer[-60:], (" ", "reverse"))

    def on_blur(self) -> None:
        # Always the scan field: nothing else on a counter screen takes the keyboard.
        self.call_after_refresh(self.focus)
