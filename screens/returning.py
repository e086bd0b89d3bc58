"""A returning customer on the customer screen: scan an earlier ticket, and the organisation and
contact fill in (kiosk/store/returning.py finds them, offline, among this kiosk's tickets).

A keyboard-wedge scanner types into whichever field has the focus and ends with Enter (or
Tab); a paste arrives whole. So every field of the screen is watched for a ticket code (`JL` and
Base32, kiosk/domain/ticketcode.py), taken out of the field the moment it is whole, and looked
up. A ticket number typed (or a pickup voucher's QR, the number with spaces) and Enter is taken
too; a number is no proof of holding the ticket, so the customer first types the last four
digits of the phone given then. A found code shows only those four digits and asks whether the
number is still theirs (是 fills it, 换一个 leaves the field empty).

Nothing else of the earlier ticket is shown, and nothing of it is kept beyond the form's fields
(the app's draft, wiped like everything typed) and the open question (a modal screen, gone with
the wipe).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Static

from kiosk.domain.validation import FieldError
from kiosk.i18n import t
from kiosk.i18n.keys import RETURNING_ERRORS

from .base import LabelledInput, Worded, offer_keyboard

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

log = logging.getLogger(__name__)

MAX_SCAN = 1000  # characters of a code a field takes beyond what may be typed (screens/ticket_scan.py's)
SCAN_BURST = 16  # characters arriving at once (a paste) that make a code whole
_LETTERS = "A-Z2-7Ａ-Ｚ２-７"  # Base32, and its full-width twins (an input method in full-width mode)
CODE = re.compile(f"[JＪ][LＬ][{_LETTERS}]{{{SCAN_BURST},}}")
# K1-261124-0007, any case or width, spaces or hyphens between its parts: all a field holds.
NUMBER = re.compile(r"\s*[A-Z0-9Ａ-Ｚ０-９]{1,8}[ \-－　][0-9０-９]{6}[ \-－　][0-9０-９]{4,6}\s*", re.IGNORECASE)


def allow_scans(screen: Screen) -> None:
    """Let every field of `screen` take a whole ticket code: a field typed up to its length
    takes no more, except a code (then taken out at once). Without this a scan into the phone
    field would be cut at 30 characters and read as damaged."""
    for field in screen.query(Input):
        typed = field.max_length or MAX_SCAN
        field.max_length = 0
        field.restrict = f"(?s:.{{0,{typed}}}(?:[JＪ](?:[LＬ][{_LETTERS}]{{0,{MAX_SCAN}}})?)?)"


def code_in(value: str) -> re.Match | None:
    """A ticket code's place in what a field holds (the last one: a scan types at the cursor)."""
    found = None
    for found in CODE.finditer(value):
        pass
    return found


def number_in(value: str) -> re.Match | None:
    """A ticket number that is all a field holds (ended by Enter)."""
    return NUMBER.fullmatch(value)


class EarlierTicket(Static):
    """The customer screen's line about an earlier ticket, and what a scan of one does."""

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__(id="earlier-status")
        self.display = False
        self.said: tuple[str, dict] | None = None

    def say(self, key: str | None, **values) -> None:
        self.said = (key, values) if key else None
        self.relabel()
        if self.display:
            self.scroll_visible(animate=False)

    def relabel(self) -> None:
        self.display = self.said is not None
        if self.said is not None:
            key, values = self.said
            self.update(t(key, self.app.language, **values))

    # ---- what the fields hear ------------------------------------------------------------------

    def changed(self, field: Input, value: str, before: str) -> bool:
        """A field's new value: a code pasted whole is taken. True if it was."""
        found = code_in(value)
        if found and len(value) - len(before) >= SCAN_BURST and field.value == value:
            self.take(field, found)
            return True
        return False

    def ended(self, field: Input, *, enter: bool) -> bool:
        """A field was ended (Enter, or Tab: `enter` False): a code, or with Enter a number, in it
        is taken. True if one was."""
        found = code_in(field.value) or (number_in(field.value) if enter else None)
        if found is None:
            return False
        self.take(field, found)
        return True

    def take(self, field: Input, found: re.Match) -> None:
        """Out of the field with the scan (what was typed before stays), and look it up."""
        value = field.value
        field.value = value[:found.start()] + value[found.end():]
        field.cursor_position = found.start()
        self.look_up(found.group().strip(), field, value)

    # ---- the lookup -----------------------------------------------------------------------------

    @work(exclusive=True, group="earlier-ticket")
    async def look_up(self, text: str, field: Input, typed: str) -> None:
        from kiosk.store.returning import Found, find_earlier

        self.say("returning.looking")
        left = field.value
        try:
            found = await self.app.in_db_thread(find_earlier, text)
        except Exception:
            log.exception("returning customer: looking an earlier ticket up failed")
            found = Found("failed")
        if found.error == "not_found" and field.value == left:
            # Only a number is not found (a code is always something): what looked like one may be
            # what the customer meant to type (a phone in three groups), so it goes back.
            field.value = typed
            field.cursor_position = len(typed)
        if found.error:
            self.say(RETURNING_ERRORS[found.error])
            (field if found.error == "not_found" else self.screen.query_one("#field-organisation", Input)).focus()
        elif found.earlier is not None:  # its code: proof enough
            self.fill(found.earlier, phone=False)
            if found.earlier.phone_tail:
                # Awaited: the lookup is done when the question is up (a tap may come next).
                await self.app.push_screen(PhoneConfirm(found.earlier.phone_tail),
                                           lambda same: self.confirmed(found.earlier, same))
        else:  # its number: the phone's last four digits first
            self.say(None)
            await self.app.push_screen(PhoneDigits(found.ticket_uid, found.number), self.checked)

    def fill(self, earlier, *, phone: bool) -> None:
        """The form takes the earlier ticket's organisation and contact (and the phone if
        confirmed). The focus leaves the fields first: what is filled is not typing (no names
        offered for it)."""
        screen = self.screen
        screen.query_one("#next").focus()
        values = {"organisation": earlier.organisation, "contact": earlier.contact}
        if phone:
            values["phone"] = earlier.phone
        for name, value in values.items():
            setattr(self.app.draft, name, value)  # at once: Next may come before the fields' messages
            field = screen.query_one(f"#field-{name}", Input)
            field.value = value
            field.cursor_position = len(value)
        for labelled_field in screen.query(LabelledInput):
            if labelled_field.field_name in values:
                labelled_field.show_error(None)
        self.say("returning.filled", number=earlier.number)

    def confirmed(self, earlier, same: bool | None) -> None:
        if same:
            self.fill(earlier, phone=True)
        else:
            self.app.draft.phone = ""
            field = self.screen.query_one("#field-phone", Input)
            field.value = ""
            field.focus()

    def checked(self, answer) -> None:
        """The last four digits' outcome (kiosk.store.returning.DigitsChecked): the earlier
        ticket, or why not; None: the customer gave up."""
        if answer is not None and answer.earlier is not None:
            self.fill(answer.earlier, phone=True)
            return
        if answer is not None:
            self.say(RETURNING_ERRORS[answer.error])
        self.screen.query_one("#field-organisation", Input).focus()


class _Question(Worded, ModalScreen):
    """A small question over the customer screen; Esc answers "no"."""

    BINDINGS: ClassVar = [Binding("escape", "no", show=False)]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def on_mount(self) -> None:
        self.relabel()

    def action_no(self) -> None:
        self.dismiss(None)


class PhoneConfirm(_Question):
    """电话尾号 1234 还用这个号码吗？ 是 / 换一个: True, False (or None by Esc)."""

    def __init__(self, tail: str) -> None:
        super().__init__()
        self.tail = tail

    def compose(self) -> ComposeResult:
        with Vertical(id="phone-confirm", classes="question"):
            yield Static(id="phone-question")
            with Horizontal(classes="actions"):
                yield Button("", id="phone-change", classes="big")
                yield Button("", id="phone-same", variant="primary", classes="big")

    def on_mount(self) -> None:  # and _Question's (Textual calls each class's handler)
        self.query_one("#phone-same").focus()

    def relabel(self) -> None:
        lang = self.app.language
        self.query_one("#phone-question", Static).update(t("returning.phone_question", lang, tail=self.tail))
        self.query_one("#phone-same", Button).label = t("returning.yes", lang)
        self.query_one("#phone-change", Button).label = t("returning.change", lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "phone-same")


class PhoneDigits(_Question):
    """The last four digits of the phone given with a ticket found by its number: the answer
    (kiosk.store.returning.DigitsChecked) once right, or out of tries; None if the customer gives up."""

    def __init__(self, ticket_uid: str, number: str) -> None:
        super().__init__()
        self.ticket_uid, self.number = ticket_uid, number

    def compose(self) -> ComposeResult:
        with Vertical(id="phone-digits", classes="question"):
            yield Static(id="digits-question")
            yield LabelledInput("digits", "returning.digits", max_length=8)
            with Horizontal(classes="actions"):
                yield Button("", id="digits-cancel", classes="big")
                yield Button("", id="digits-ok", variant="primary", classes="big")

    def on_mount(self) -> None:  # and _Question's
        self.query_one("#field-digits", Input).focus()

    def on_descendant_focus(self, event) -> None:
        offer_keyboard(self.query_one("#phone-digits"), event.widget)  # the digit pad, inside the box

    def relabel(self) -> None:
        lang = self.app.language
        self.query_one("#digits-question", Static).update(t("returning.digits_question", lang, number=self.number))
        self.query_one("#digits-cancel", Button).label = t("flow.cancel", lang)
        self.query_one("#digits-ok", Button).label = t("returning.ok", lang)
        self.query_one(LabelledInput).relabel(lang)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.check(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "digits-cancel":
            self.dismiss(None)
        else:
            self.check(self.query_one("#field-digits", Input).value)

    @work(exclusive=True, group="phone-digits")
    async def check(self, digits: str) -> None:
        from kiosk.store.returning import check_digits

        field = self.query_one(LabelledInput)
        answer = await self.app.in_db_thread(check_digits, self.ticket_uid, digits)
        if answer.earlier is not None or answer.error in ("locked", "not_found"):
            self.dismiss(answer)
            return
        field.input.value = ""
        field.show_error(FieldError("feedback.error.digits") if answer.error == "digits"
                         else FieldError("returning.wrong", {"tries": answer.tries_left}))
