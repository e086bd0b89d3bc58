"""送检单位 Customer: who brings the instruments, how to reach them, how they collect. The
organisation completes from the institute's list of customer organisations (suggestions.py); a
returning customer scans an earlier ticket into any field instead of typing (returning.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Input, RadioButton, RadioSet

from kiosk.i18n import t
from kiosk.i18n.keys import PICKUP_WAYS as PICKUP_KEYS
from screens.draft import PICKUP_WAYS

from .base import REGISTRATION_CSS, KioskScreen, LabelledInput, big_button, labelled
from .returning import EarlierTicket, allow_scans
from .suggestions import OrganisationField

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

FIELDS = (
    # name, label key, hint key, max length typed (the validators give the clear message)
    ("organisation", "customer.organisation", "customer.organisation_hint", 120),
    ("credit_code", "customer.credit_code", "customer.credit_code_hint", 24),
    ("contact", "customer.contact", None, 40),
    ("phone", "customer.phone", "customer.phone_hint", 30),
    ("address", "customer.address", "customer.address_hint", 120),
)


class CustomerScreen(KioskScreen):
    CSS_PATH = REGISTRATION_CSS
    TITLE_KEY = "welcome.register"
    STEP = 0
    FOCUS = "#field-organisation"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def compose_body(self) -> ComposeResult:
        draft = self.app.draft
        yield EarlierTicket()
        for name, label, hint, length in FIELDS:
            field = LabelledInput(name, label, value=getattr(draft, name), max_length=length, hint_key=hint)
            yield OrganisationField(field) if name == "organisation" else field
        yield RadioSet(*(labelled(RadioButton("", value=draft.pickup == way, id=f"pickup-{way}"),
                                  PICKUP_KEYS[way]) for way in PICKUP_WAYS), id="pickup")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        scan = big_button("returning.scan", "scan_earlier")
        scan.can_focus = False  # a tap that explains how; a scanner needs no focus, and Tab goes on to 下一步
        yield scan
        yield big_button("flow.next", "next", "primary")

    def on_mount(self) -> None:  # and KioskScreen's (Textual calls each class's handler)
        allow_scans(self)

    @property
    def earlier(self) -> EarlierTicket:
        return self.query_one(EarlierTicket)

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#pickup", RadioSet).border_title = t("customer.pickup", self.lang)
        self.earlier.relabel()

    def on_input_changed(self, event: Input.Changed) -> None:
        # Every keystroke goes to the draft at once: a language switch or a step back loses nothing.
        # A ticket code pasted whole never does: it is taken out of the field and looked up.
        assert event.input.id is not None  # every field here is a LabelledInput's, `field-<name>`
        name = event.input.id.removeprefix("field-")
        if not self.earlier.changed(event.input, event.value, getattr(self.app.draft, name)):
            setattr(self.app.draft, name, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not self.earlier.ended(event.input, enter=True):  # a scan (or a ticket number) ends with Enter
            self.focus_next()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self.earlier.ended(event.input, enter=False)  # a scanner that ends with Tab

    def action_scan_earlier(self) -> None:
        self.earlier.say("returning.how")
        self.query_one("#field-organisation", Input).focus()

    def on_organisation_field_chosen(self, event: OrganisationField.Chosen) -> None:
        self.query_one("#field-contact", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        assert event.pressed.id is not None  # each pickup choice has its id (compose_body)
        self.app.draft.pickup = event.pressed.id.removeprefix("pickup-")


    def action_next(self) -> None:
        errors = self.app.draft.customer_errors()
        first = None
        for field in self.query(LabelledInput):
            field.show_error(errors.get(field.field_name))
            if field.field_name in errors and first is None:
                first = field
        if first is not None:
            first.input.focus()
            first.scroll_visible(animate=False)
            return
        from .instruments import InstrumentsScreen

        self.app.push_screen(InstrumentsScreen())
