"""选项 Options: urgent service (only where allowed), number of certificates, name on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Static

from kiosk.domain.fees import URGENT_TIERS
from kiosk.domain.validation import FieldError, clean_count
from kiosk.i18n import t

from .base import REGISTRATION_CSS, KioskScreen, LabelledInput, big_button, labelled

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost


class OptionsScreen(KioskScreen):
    CSS_PATH = REGISTRATION_CSS
    TITLE_KEY = "welcome.register"
    STEP = 2

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def compose_body(self) -> ComposeResult:
        draft, catalog = self.app.draft, self.app.catalog
        assert catalog is not None  # the lines before were chosen from it
        possible = draft.urgent_possible(catalog)
        yield RadioSet(
            RadioButton("", value=draft.urgent is None, id="urgent-none"),
            *(RadioButton("", value=draft.urgent == tier, id=f"urgent-{tier}") for tier in URGENT_TIERS),
            id="urgent", disabled=not possible,
        )
        yield Static(id="urgent-note")
        yield LabelledInput("certificates", "options.certificates", value=str(draft.certificates), max_length=3)
        yield LabelledInput("certificate_name", "options.certificate_name", value=draft.certificate_name,
                            max_length=120, hint_key="options.certificate_name_hint")
        # Notices (central/notices/): off unless the customer ticks it; the note says what and where.
        yield labelled(Checkbox("", value=draft.notify, id="notify"), "notice.optin")
        yield Static(id="notify-note")
        yield LabelledInput("email", "notice.email", value=draft.email, max_length=100, hint_key="notice.email_hint")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("flow.estimate", "next", "primary")

    def on_mount(self) -> None:  # and KioskScreen's (Textual calls each class's handler)
        # The first choice, not 查看费用: arrows choose within it and Enter cannot skip it; Tab
        # reads on in order, 查看费用 last.
        urgent = self.query_one("#urgent", RadioSet)
        (self.query_one("#field-certificates", Input) if urgent.disabled else urgent).focus()

    def relabel(self) -> None:
        super().relabel()
        lang, policy = self.lang, self.app.policy
        assert policy is not None  # loaded with the catalogue the lines were chosen from
        urgent = self.query_one("#urgent", RadioSet)
        urgent.border_title = t("options.urgent", lang)
        self.query_one("#urgent-none", RadioButton).label = t("options.urgent_none", lang)
        for tier in URGENT_TIERS:
            self.query_one(f"#urgent-{tier}", RadioButton).label = t(
                "options.urgent_tier", lang, hours=tier.removesuffix("h"), percent=policy.urgent_percent[tier])
        self.query_one("#urgent-note", Static).update(
            t("options.urgent_unavailable", lang) if urgent.disabled else t("options.urgent_note", lang))
        self.query_one("#notify-note", Static).update(self.notify_note(lang))

    def notify_note(self, lang: str) -> str:
        """What will be sent, and to which phone (masked): the customer sees it before choosing."""
        from kiosk.domain.validation import FieldError, clean_phone, is_mobile, mask_phone

        try:
            phone = clean_phone(self.app.draft.phone)
        except FieldError:
            phone = ""
        if not is_mobile(phone):
            return t("notice.optin.no_mobile", lang)
        return t("notice.optin.what", lang, phone=mask_phone(phone))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "notify":
            self.app.draft.notify = event.value

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        assert event.pressed.id is not None  # each urgency choice has its id (compose_body)
        choice = event.pressed.id.removeprefix("urgent-")
        self.app.draft.urgent = None if choice == "none" else choice

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "field-certificate_name":
            self.app.draft.certificate_name = event.value
        elif event.input.id == "field-email":
            self.app.draft.email = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter goes on to the next choice, and from the last one to the estimate; the notices'
        # opt-in (default off) is a tap or a Tab away, and Enter in its e-mail goes on too.
        if event.input.id in ("field-certificate_name", "field-email"):
            self.action_next()
        else:
            self.focus_next()

    def action_next(self) -> None:
        draft = self.app.draft
        fields = {f.field_name: f for f in self.query(LabelledInput)}
        errors: dict[str, FieldError] = dict(draft.options_errors())
        try:
            draft.certificates = clean_count(fields["certificates"].value, 1, 10, "error.certificates")
        except FieldError as e:
            errors["certificates"] = e
        for name, field in fields.items():
            field.show_error(errors.get(name))
        if errors:
            return
        from .estimate import EstimateScreen

        self.app.push_screen(EstimateScreen())
