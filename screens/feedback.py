"""服务评价 Feedback, in four steps: the ticket (scanned, typed, or none), the rating (five big
buttons, one tap), the reason (poor ratings only, required), the optional extras (five hearts,
a comment, a call back) with a submit that works with nothing filled in; then thanks, and
back to the start by itself. A ticket found by its number (typed, or the pickup voucher's
plain QR) first asks the last four digits of its contact phone (PhoneCheckScreen); its signed
code does not.

Fast path, three taps: 服务评价, a rating, 提交 (the ticket's signed code scanned in between).

The customer's choices live in a FeedbackDraft handed from step to step, never only in
widgets; it is dropped with the screens when the kiosk returns to the welcome screen (done,
thanks, or the idle wipe). Nothing of the ticket is shown but the number the customer
scanned or typed: never another customer's organisation, contact or phone.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Static

from kiosk.domain.feedback import (
    HEARTS,
    LEVELS,
    PHONE_TRIES,
    REASONS,
    FeedbackDraft,
    FeedbackErrors,
    PhoneCheck,
    TicketLookup,
    validate,
)
from kiosk.domain.validation import FieldError
from kiosk.i18n import date_text, t
from kiosk.i18n.keys import FEEDBACK_HEARTS, FEEDBACK_LEVELS, FEEDBACK_REASONS, FEEDBACK_TICKET_ERRORS

from .base import FIELDS_CSS, KEYBOARD_CSS, KioskScreen, LabelledInput, SelfClosing, big_button, labelled
from .ticket_scan import TicketScanScreen

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

log = logging.getLogger(__name__)

THANKS_SECONDS = 10  # the thanks screen returns to the start by itself
CHECK = "✓ "  # width "N": one cell everywhere, unlike the ambiguous ● or ♥


def _who(draft: FeedbackDraft, lang: str) -> str:
    return t("feedback.ticket", lang, number=draft.number) if draft.ticket_id else t("feedback.anonymous_note", lang)


def _summary(draft: FeedbackDraft, lang: str) -> str:
    level = t(FEEDBACK_LEVELS[LEVELS[draft.rating]], lang) if draft.rating else ""
    return f"{_who(draft, lang)}\n{t('feedback.your_rating', lang, level=level)}"


# ---- 1. which ticket ------------------------------------------------------------------------


# Loaded with the first feedback screen, not at start-up: the kiosk's first frame stays fast.
CSS: list[str | PurePath] = [FIELDS_CSS, KEYBOARD_CSS, Path(__file__).parent / "feedback.tcss"]


class TicketLookedUp(Message):
    def __init__(self, text: str, found: TicketLookup) -> None:
        super().__init__()
        self.text, self.found = text, found


class FeedbackStartScreen(TicketScanScreen):
    CSS_PATH = CSS
    TITLE_KEY = "feedback.title"
    STATUS_ID = "feedback-status"

    def compose_body(self) -> ComposeResult:
        yield labelled(Static(classes="feedback-intro"), "feedback.intro")
        yield from self.scan_row()
        yield Static(id="feedback-status")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("feedback.anonymous", "anonymous")

    @work(exclusive=True, group="feedback-lookup")
    async def look_up(self, text: str) -> None:
        from kiosk.store.feedback import find_ticket_for_feedback

        try:
            found = await self.app.in_db_thread(find_ticket_for_feedback, text)
        except Exception:
            log.exception("feedback: looking a ticket up failed")
            found = TicketLookup(None, error="failed")
        self.post_message(TicketLookedUp(text, found))

    def on_ticket_looked_up(self, message: TicketLookedUp) -> None:
        self.query_one("#feedback-status", Static).update("")
        if self.app.screen is not self or message.text != self.field.value.strip():
            return  # the customer moved on, or typed something else meanwhile
        found = message.found
        if found.error:
            self.field.show_error(FieldError(FEEDBACK_TICKET_ERRORS[found.error], {"number": found.number,
                                                                                  "max": PHONE_TRIES}))
            self.field.input.focus()
            self.field.input.select_all()  # the next scan replaces it
            return
        self.field.show_error(None)
        if found.rated:
            self.app.back_to_start()
            self.app.push_screen(FeedbackThanks(already=True))
            return
        draft = FeedbackDraft(ticket_id=found.ticket_id, number=found.number, ticket_pass=found.ticket_pass)
        self.app.push_screen(PhoneCheckScreen(draft) if found.needs_phone_check else RatingScreen(draft))

    def action_anonymous(self) -> None:
        self.app.push_screen(RatingScreen(FeedbackDraft()))


# ---- 1b. found by its number: the last four digits of the contact phone ----------------------


class PhoneChecked(Message):
    def __init__(self, check: PhoneCheck) -> None:
        super().__init__()
        self.check = check


class PhoneCheckScreen(KioskScreen):
    """The digits stay in the field only (never in the draft) and are cleared once right; the
    stored phone is never shown, not even in part. Wrong tries are counted by kiosk.store.feedback,
    per ticket, so going back and starting again gives no new ones."""

    CSS_PATH = CSS
    TITLE_KEY = "feedback.title"
    FOCUS = "#field-digits"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, draft: FeedbackDraft) -> None:
        super().__init__()
        self.draft = draft
        self.checking = False  # one try per Enter, however fast the taps

    def compose_body(self) -> ComposeResult:
        yield Static(id="feedback-who")
        yield labelled(Static(classes="feedback-intro"), "feedback.phone_check")
        with Horizontal(id="digits-row"):
            yield LabelledInput("digits", "feedback.digits", max_length=8, hint_key="feedback.digits_hint")
            yield big_button("feedback.find", "check", "primary")
        yield Static(id="feedback-status")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("feedback.anonymous", "anonymous")

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#feedback-who", Static).update(_who(self.draft, self.lang))
        if self.checking:
            self.query_one("#feedback-status", Static).update(t("feedback.checking", self.lang))

    @property
    def field(self) -> LabelledInput:
        return self.query_one(LabelledInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_check()

    def action_check(self) -> None:
        if self.checking or self.field.input.disabled:
            return
        digits = self.field.value
        if not digits.strip():
            self.field.show_error(FieldError("error.required"))
            self.field.input.focus()
            return
        self.checking = True
        self.query_one("#feedback-status", Static).update(t("feedback.checking", self.lang))
        self.check(digits)

    @work(exclusive=True, group="feedback-phone-check")
    async def check(self, digits: str) -> None:
        from kiosk.store.feedback import check_phone_digits

        try:
            result = await self.app.in_db_thread(check_phone_digits, self.draft.ticket_id, digits)
        except Exception:  # noqa: BLE001 - any failure must reach the screen, not kill the kiosk
            result = PhoneCheck(None, "save")
        self.post_message(PhoneChecked(result))

    def on_phone_checked(self, message: PhoneChecked) -> None:
        self.checking = False
        self.query_one("#feedback-status", Static).update("")
        if self.app.screen is not self:
            return  # the customer moved on meanwhile
        check, field = message.check, self.field
        if check.ticket_pass is not None:
            field.show_error(None)
            field.input.value = ""  # not left on the screen behind the rating
            if check.rated:
                self.app.back_to_start()
                self.app.push_screen(FeedbackThanks(already=True))
                return
            self.draft.ticket_pass = check.ticket_pass
            self.app.push_screen(RatingScreen(self.draft))
            return
        assert check.error is not None  # no ticket pass: the check says why (PhoneCheck)
        key = FEEDBACK_TICKET_ERRORS[check.error]
        field.show_error(FieldError(key, {"tries": check.tries_left, "number": self.draft.number,
                                          "max": PHONE_TRIES}))
        if check.error in ("locked", "no_phone", "not_found", "not_served"):
            # no linked rating for this ticket here: only the anonymous one
            field.input.value = ""
            field.input.disabled = True
            self.query_one("#check", Button).disabled = True
            self.query_one("#anonymous", Button).variant = "primary"
            self.query_one("#anonymous", Button).focus()
            return
        field.input.focus()
        field.input.select_all()  # the next try replaces it

    def action_anonymous(self) -> None:
        self.app.push_screen(RatingScreen(FeedbackDraft()))


# ---- 2. the rating: one tap ---------------------------------------------------------------


class RatingScreen(KioskScreen):
    CSS_PATH = CSS
    TITLE_KEY = "feedback.title"
    AUTO_FOCUS = ""  # no level looks chosen before the customer chooses (好差评: never steer a rating)

    def __init__(self, draft: FeedbackDraft) -> None:
        super().__init__()
        self.draft = draft

    def compose_body(self) -> ComposeResult:
        yield Static(id="feedback-who")
        yield labelled(Static(classes="heading"), "feedback.question")
        with Vertical(id="ratings"):
            for rating in sorted(LEVELS, reverse=True):
                yield labelled(Button("", id=f"rate-{rating}", classes="rating"), FEEDBACK_LEVELS[LEVELS[rating]])

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#feedback-who", Static).update(_who(self.draft, self.lang))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("rate-"):
            event.stop()
            self.rate(int(event.button.id.removeprefix("rate-")))

    def rate(self, rating: int) -> None:
        self.draft.rating = rating
        self.app.push_screen(ReasonScreen(self.draft) if self.draft.poor else DetailsScreen(self.draft))


# ---- 3. a poor rating: why (required) -----------------------------------------------------


class ReasonScreen(KioskScreen):
    CSS_PATH = CSS
    TITLE_KEY = "feedback.title"
    AUTO_FOCUS = ""  # a focused reason would look chosen

    def __init__(self, draft: FeedbackDraft) -> None:
        super().__init__()
        self.draft = draft
        self.reason_error: FieldError | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="feedback-summary")
        yield labelled(Static(classes="heading"), "feedback.reason")
        with Grid(id="reasons"):
            for reason in REASONS:
                yield Button("", id=f"reason-{reason}", classes="reason")
        yield Static(id="reason-error", classes="feedback-error")
        yield LabelledInput("reason_text", "feedback.reason_text", value=self.draft.reason_text, max_length=200,
                            hint_key="feedback.reason_text_hint")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("flow.next", "next", "primary")

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        self.query_one("#feedback-summary", Static).update(_summary(self.draft, lang))
        for reason in REASONS:
            button = self.query_one(f"#reason-{reason}", Button)
            chosen = reason == self.draft.reason
            button.label = f"{CHECK if chosen else ''}{t(FEEDBACK_REASONS[reason], lang)}"
            button.variant = "primary" if chosen else "default"
        self.show_reason_error(self.reason_error)

    def show_reason_error(self, error: FieldError | None) -> None:
        self.reason_error = error
        shown = self.query_one("#reason-error", Static)
        shown.update(t(error.key, self.lang) if error else "")
        shown.display = error is not None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("reason-"):
            event.stop()
            self.draft.reason = event.button.id.removeprefix("reason-")
            self.show_reason_error(None)
            self.relabel()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.draft.reason_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def action_next(self) -> None:
        errors: dict[str, FieldError] = {}
        try:
            validate(self.draft.entry(self.lang))
        except FeedbackErrors as e:
            errors = e.errors
        self.show_reason_error(errors.get("reason"))
        self.query_one(LabelledInput).show_error(errors.get("reason_text"))
        if "reason" in errors:
            self.query_one(f"#reason-{REASONS[0]}").focus()
            return
        if "reason_text" in errors:
            self.query_one(LabelledInput).input.focus()
            return
        self.app.push_screen(DetailsScreen(self.draft))


# ---- 4. optional: five hearts, a comment, a call back; submit ------------------------------


class FeedbackSaved(Message):
    def __init__(self, result) -> None:
        super().__init__()
        self.result = result


class FeedbackFailed(Message):
    def __init__(self, errors: dict[str, FieldError] | None, detail: str = "") -> None:
        super().__init__()
        self.errors, self.detail = errors, detail


class DetailsScreen(KioskScreen):
    CSS_PATH = CSS
    TITLE_KEY = "feedback.title"
    FOCUS = "#submit"  # Enter submits: everything here is optional

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, draft: FeedbackDraft) -> None:
        super().__init__()
        self.draft = draft
        self.submitting = False  # one rating however many taps
        self.save_error: str | None = None  # the last save failed: the error's name, or "ticket"

    def compose_body(self) -> ComposeResult:
        draft = self.draft
        yield Static(id="feedback-summary")
        yield labelled(Static(classes="feedback-optional"), "feedback.optional")
        yield labelled(Static(classes="heading"), "feedback.hearts")
        with Horizontal(id="hearts"):
            for heart in HEARTS:
                yield Button("", id=f"heart-{heart}", classes="heart")
        yield LabelledInput("comment", "feedback.comment", value=draft.comment, max_length=600,
                            hint_key="feedback.comment_hint")
        yield labelled(Checkbox("", value=draft.callback, id="callback"), "feedback.callback")
        phone = LabelledInput("phone", "feedback.phone", value=draft.phone, max_length=30,
                              hint_key="feedback.phone_hint")
        phone.display = draft.callback
        yield phone
        yield Static(id="feedback-save-error", classes="feedback-error")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back", "back")
        yield big_button("feedback.submit", "submit", "primary")

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        self.query_one("#feedback-summary", Static).update(_summary(self.draft, lang))
        for heart in HEARTS:
            button = self.query_one(f"#heart-{heart}", Button)
            chosen = heart in self.draft.hearts
            button.label = f"{CHECK if chosen else ''}{t(FEEDBACK_HEARTS[heart], lang)}"
            button.variant = "success" if chosen else "default"
        shown = self.query_one("#feedback-save-error", Static)
        shown.update(t("feedback.error.save", lang) if self.save_error else "")
        shown.display = bool(self.save_error)

    def fields(self) -> dict[str, LabelledInput]:
        return {f.field_name: f for f in self.query(LabelledInput)}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("heart-"):
            event.stop()
            self.draft.toggle_heart(event.button.id.removeprefix("heart-"))
            self.relabel()

    def on_input_changed(self, event: Input.Changed) -> None:
        assert event.input.id is not None  # every field here is a LabelledInput's, `field-<name>`
        setattr(self.draft, event.input.id.removeprefix("field-"), event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.draft.callback = event.value
        phone = self.fields()["phone"]
        phone.display = event.value
        if event.value:
            phone.input.focus()
            phone.scroll_visible(animate=False)
        else:
            phone.show_error(None)

    def action_submit(self) -> None:
        if self.submitting:
            return
        try:
            entry = validate(self.draft.entry(self.lang))
        except FeedbackErrors as e:
            self.show_errors(e.errors)
            return
        self.show_errors({})
        self.submitting = True
        self.query_one("#feedback-save-error", Static).update(t("feedback.saving", self.lang))
        self.query_one("#feedback-save-error", Static).display = True
        self.save(entry)

    def show_errors(self, errors: dict[str, FieldError]) -> None:
        first = None
        for name, field in self.fields().items():
            field.show_error(errors.get(name))
            if name in errors and first is None:
                first = field
        if first is not None:
            first.input.focus()
            first.scroll_visible(animate=False)

    @work(exclusive=True, group="feedback-save")
    async def save(self, entry) -> None:
        from kiosk.store.feedback import give_feedback

        app = self.app
        try:
            result = await app.in_db_thread(give_feedback, entry, app.device, holidays=app.info.calendar)
        except FeedbackErrors as e:
            self.post_message(FeedbackFailed(e.errors))
        except Exception as e:  # noqa: BLE001 - any failure must reach the screen, not kill the kiosk
            self.post_message(FeedbackFailed(None, type(e).__name__))
        else:
            self.post_message(FeedbackSaved(result))

    def on_feedback_saved(self, message: FeedbackSaved) -> None:
        result, draft = message.result, self.draft
        app = self.app
        app.back_to_start()  # the draft goes with the screens
        if result.already_rated:
            app.push_screen(FeedbackThanks(already=True))
        else:
            app.push_screen(FeedbackThanks(due=result.followup_due, callback=draft.callback))
        app.sync_soon()

    def on_feedback_failed(self, message: FeedbackFailed) -> None:
        self.submitting = False
        if message.errors and "ticket" not in message.errors:
            self.save_error = None
            self.relabel()
            self.show_errors(message.errors)
            return
        self.save_error = message.detail or "ticket"
        self.relabel()


# ---- thanks -----------------------------------------------------------------------------------


class FeedbackThanks(SelfClosing):
    """Thanks, what happens next, and back to the start by itself."""
    CSS_PATH = CSS

    TITLE_KEY = "feedback.title"
    FOCUS = "#done"

    def __init__(self, *, already: bool = False, due: date | None = None, callback: bool = False) -> None:
        super().__init__()
        self.already, self.due, self.callback = already, due, callback

    def compose_body(self) -> ComposeResult:
        with Vertical(id="thanks"):
            yield Static(id="thanks-title")
            yield Static(id="thanks-detail")
            yield Static(id="thanks-countdown")

    def compose_actions(self) -> ComposeResult:
        yield big_button("feedback.done", "done", "primary")

    def on_mount(self) -> None:
        self.start_countdown(THANKS_SECONDS)
        super().on_mount()

    def show_countdown(self) -> None:
        self.query_one("#thanks-countdown", Static).update(t("feedback.returning", self.lang, seconds=self.left))

    def relabel(self) -> None:
        super().relabel()
        lang = self.lang
        if self.already:
            title, detail = t("feedback.already", lang), ""
        else:
            title = t("feedback.thanks", lang)
            if self.due:
                day = date_text(self.due, lang)
                detail = t("feedback.thanks_poor_call" if self.callback else "feedback.thanks_poor", lang, date=day)
            else:
                detail = t("feedback.thanks_call", lang) if self.callback else ""
        self.query_one("#thanks-title", Static).update(title)
        detail_widget = self.query_one("#thanks-detail", Static)
        detail_widget.update(detail)
        detail_widget.display = bool(detail)
        if self.deadline is not None:
            self.show_countdown()

    def action_done(self) -> None:
        self.app.wipe()

    action_back = action_done
