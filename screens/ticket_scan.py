"""A screen that starts from the customer's ticket: its scan field takes the signed code, the
pickup voucher's QR or a number typed by hand (any width), ended by the scanner's Enter or
Tab. Feedback (screens/feedback.py) and the progress inquiry (screens/progress.py) start so.
Subclasses yield `scan_row()` in their body, a Static `#{STATUS_ID}` for "looking", and do the
lookup in `look_up(text)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

from kiosk.domain.validation import FieldError
from kiosk.i18n import t

from .base import KioskScreen, LabelledInput, big_button

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

MAX_SCAN = 1000  # characters: a signed ticket code is a few hundred


class TicketScanScreen(KioskScreen):
    FOCUS = "#field-scan"  # a keyboard-wedge scanner types into it and ends with Enter
    STATUS_ID = "scan-status"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def scan_row(self) -> ComposeResult:
        # OK right after the field: a scanner that ends with Tab moves the focus onto it.
        with Horizontal(id="scan-row"):
            yield LabelledInput("scan", "feedback.scan", max_length=MAX_SCAN, hint_key="feedback.scan_hint")
            yield big_button("feedback.find", "find", "primary")

    @property
    def field(self) -> LabelledInput:
        return self.query_one(LabelledInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_find()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        # A scanner that ends its burst with Tab: the app moves focus on to the OK button.
        if event.value.strip() and self.app.focused is self.query_one("#find"):
            self.action_find()

    def action_find(self) -> None:
        text = self.field.value.strip()
        if not text:
            self.field.show_error(FieldError("error.required"))
            self.field.input.focus()
            return
        self.query_one(f"#{self.STATUS_ID}", Static).update(t("feedback.looking", self.lang))
        self.look_up(text)

    def look_up(self, text: str) -> object:  # object: the subclasses' @work returns their Worker
        raise NotImplementedError
