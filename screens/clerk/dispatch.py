"""The dispatch counter: scan the voucher (or the ticket, or type the number); mark the
ticket ready; hand the instruments over ("picked up"); a pickup slip prints."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding

from screens.base import big_button
from screens.clerk.counter import CounterScreen


class DispatchScreen(CounterScreen):
    TITLE_KEY = "desk.dispatch"
    HINT_KEY = "desk.dispatch_hint"
    STEP_KEY = "desk.step.picked_up"
    BINDINGS: ClassVar = [*CounterScreen.BINDINGS, Binding("f6", "ready", show=False),
                          Binding("f7", "pick_up", show=False)]

    def compose_actions(self):
        for key, id_ in (("desk.ready", "ready"), ("desk.pick_up", "pick_up"), ("desk.to_receiving", "to_receiving"),
                         ("desk.lock", "lock")):
            button = big_button(key, id_, "primary" if id_ == "pick_up" else "default")
            button.can_focus = False
            yield button

    def found_message(self):
        if self.summary.status == "picked_up":
            return self.already_message("picked_up")
        return "", {}

    def action_ready(self) -> None:
        from kiosk.desk import mark_ready

        self.STEP_KEY = "desk.step.ready"
        self.run_step(mark_ready)

    def action_pick_up(self) -> None:
        from kiosk.desk import pick_up

        self.STEP_KEY = "desk.step.picked_up"
        self.run_step(pick_up, None, lang=self.lang)
