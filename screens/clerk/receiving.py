"""The receiving counter: scan (or type) a ticket, see its lines, record "received"; a
pickup voucher prints."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from screens.base import big_button
from screens.clerk.counter import CounterScreen


class ReceivingScreen(CounterScreen):
    TITLE_KEY = "desk.receiving"
    HINT_KEY = "desk.scan_hint"
    STEP_KEY = "desk.step.received"
    BINDINGS: ClassVar = [*CounterScreen.BINDINGS, Binding("f5", "receive", show=False)]

    def compose_actions(self):
        for key, id_ in (("desk.receive", "receive"), ("desk.to_dispatch", "to_dispatch"), ("desk.lock", "lock")):
            button = big_button(key, id_, "primary" if id_ == "receive" else "default")
            button.can_focus = False  # taps only: the keyboard belongs to the scan field
            yield button

    def found_message(self):
        if self.summary.status != "registered":
            return self.already_message("received")
        return "", {}

    def action_receive(self) -> None:
        from kiosk.desk import receive

        self.run_step(receive, lang=self.lang)
