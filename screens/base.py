"""What every kiosk screen shares: a title bar with the step and the language button, a body,
and an action bar of big buttons. Screens relabel in place on a language switch (re-composing
would lose widget state); the customer's input lives in the app's draft."""

from __future__ import annotations

import math
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast
from weakref import WeakKeyDictionary

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static  # Checkbox, RadioButton, Label: where used, after the first frame

from kiosk.i18n import t

if TYPE_CHECKING:  # not imported before the first frame
    from textual import getters
    from textual.widgets.button import ButtonVariant

    from kiosk.domain.validation import FieldError
    from screens.host import KioskHost, StationHost, SyncShown

# Style sheets beyond the app's kiosk.tcss (the frame every screen shares), named by the CSS_PATH
# of the screens that use them: Textual reads them when such a screen is first shown, so the first
# frame parses only the frame. Each such read re-parses every sheet and widget default (Textual 8),
# so the registration steps all name the whole flow's sheets: it is paid once, at the first step.
FIELDS_CSS = Path(__file__).parent / "fields.tcss"
EDITOR_CSS = Path(__file__).parent / "editor.tcss"
KEYBOARD_CSS = Path(__file__).parent / "keyboard" / "keyboard.tcss"  # every screen with a field that has one
REGISTRATION_CSS: list[str | PurePath] = [
    FIELDS_CSS, EDITOR_CSS, KEYBOARD_CSS, Path(__file__).parent / "registration.tcss"]

STEPS = ("step.customer", "step.instruments", "step.options", "step.estimate")


class LeanButton(Button, inherit_css=False):
    """A Button (its behaviour, its look to the cell) without Button's whole style sheet: the
    language switch of every screen and the welcome screen's four actions. Textual parses a
    widget class's default CSS when its first widget is mounted, and Button's (7 kB: every
    variant, the flat and ANSI styles) cost the welcome screen's first frame about as much as its
    four buttons themselves (bench/startup.py). These are the rules of Button's default style
    (Textual 8.2.8) that the default and primary variants and `compact` use; Button's own sheet
    is read when a screen with a Button first comes. Style sheets name it LeanButton (`Button`
    selects Buttons only); Python queries for Button find it."""

    DEFAULT_CSS = """
    LeanButton {
        width: auto;
        min-width: 16;
        height: auto;
        line-pad: 1;
        text-align: center;
        content-align: center middle;
        pointer: pointer;
        text-style: bold;
        color: $button-foreground;
        background: $surface;
        border: none;
        border-top: tall $surface-lighten-1;
        border-bottom: tall $surface-darken-1;

        &.-textual-compact {
            border: none !important;
        }
        &:disabled {
            text-opacity: 0.6;
            pointer: not-allowed;
        }
        &:focus {
            text-style: $button-focus-text-style;
            background-tint: $foreground 5%;
        }
        &:hover {
            border-top: tall $surface;
            background: $surface-darken-1;
        }
        &.-active {
            background: $surface;
            border-bottom: tall $surface-lighten-1;
            border-top: tall $surface-darken-1;
            tint: $background 30%;
        }
        &.-primary {
            color: $button-color-foreground;
            background: $primary;
            border-top: tall $primary-lighten-3;
            border-bottom: tall $primary-darken-3;

            &:hover {
                background: $primary-darken-2;
                border-top: tall $primary;
            }
            &.-active {
                background: $primary;
                border-bottom: tall $primary-lighten-3;
                border-top: tall $primary-darken-3;
            }
        }
    }
    """


class Worded:
    """A screen worded in the app's language, re-worded in place (re-composing would lose
    what was typed): it calls relabel() on mount, and the station calls it again on every
    such screen of the stack when the language changes (Station.watch_language)."""

    def relabel(self) -> None:
        raise NotImplementedError


class KioskScreen(Worded, Screen):
    """Subclasses set TITLE_KEY (and STEP for the registration steps), yield their body in
    compose_body() and their buttons in compose_actions(), and label things in relabel().
    The stations also call show_sync() at each sync pass, and the kiosk catalog_ready()
    once the fee catalogue has loaded."""

    TITLE_KEY = "app.title"  # the registration steps are titled 送检登记 and show where they are
    STEP: int | None = None
    BINDINGS: ClassVar = [Binding("escape", "back", show=False, id="back")]

    # `self.app` stays Textual's App here: each station's screens type it as their own app
    # (`app = getters.app(KioskHost)`, the desk's DeskHost); what this class reads of it is a Station's.
    @property
    def station(self) -> StationHost:
        return station_of(self)

    @property
    def lang(self) -> str:
        return self.station.language

    def compose(self) -> ComposeResult:
        with Horizontal(classes="titlebar"):
            yield Static(classes="title")
            if self.STEP is not None:
                yield Static(classes="steps")
            language = LeanButton("", classes="language", compact=True, action="app.toggle_language")
            language.can_focus = False  # a tap or F2; never in the way of Tab and Enter
            yield language
        body = VerticalScroll(classes="body")
        body.can_focus = False  # fields scroll into view as they take focus
        with body:
            yield from self.compose_body()
        with Horizontal(classes="actions"):
            yield from self.compose_actions()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def compose_actions(self) -> ComposeResult:
        yield from ()

    FOCUS: str | None = None  # selector of what Enter should do on arrival, e.g. "#next"

    def on_mount(self) -> None:
        self.relabel()
        if self.FOCUS:
            self.query_one(self.FOCUS).focus()

    def relabel(self) -> None:
        lang = self.lang
        self.query_one(".title", Static).update(t(self.TITLE_KEY, lang))
        if self.STEP is not None:
            self.query_one(".steps", Static).update(" ".join(
                (f"[b reverse] {i + 1} {t(key, lang)} [/]" if i == self.STEP else f"{i + 1} {t(key, lang)}")
                for i, key in enumerate(STEPS)
            ))
        self.query_one(".language", Button).label = t("app.language", lang)
        self.show_sync(self.station.sync_state)
        relabel_marked(self, lang)

    def catalog_ready(self) -> None:
        """Override: the fee catalogue has loaded (it comes after the first frame)."""

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        offer_keyboard(self, event.widget)

    def show_sync(self, state: SyncShown) -> None:
        """The quiet online/offline indicator, with how many facts wait to be sent: made when the
        station first syncs with a central system (one widget fewer in the first frame)."""
        enrolled = bool(state and state.enrolled)
        try:
            shown = self.query_one(".sync", Static)
        except NoMatches:
            if not enrolled:
                return
            shown = Static(classes="sync")
            self.query_one(".titlebar").mount(shown, before=self.query_one(".titlebar .language"))
        shown.display = enrolled
        if not enrolled:
            return
        lang = self.lang
        if state.problem:
            key = "sync.problem"
        elif state.online is False:
            key = "sync.offline_waiting" if state.waiting else "sync.offline"
        else:
            key = "sync.online_waiting" if state.waiting else "sync.online"
        shown.set_class(state.online is False, "-offline")
        shown.update(t(key, lang, count=state.waiting))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()


class SelfClosing(KioskScreen):
    """A screen that goes back to the start by itself after `start_countdown(seconds)`. No
    timer of its own: the app's once-a-second clock calls `tick` (a stopped timer's pending
    sleep would keep the whole screen alive after it is gone)."""

    deadline: float | None = None  # set on mount; the app's clock may tick before

    if TYPE_CHECKING:  # the kiosk's screens only (its clock, its wipe)
        app = getters.app(KioskHost)

    def start_countdown(self, seconds: float) -> None:
        self.deadline = self.app.clock() + seconds

    @property
    def left(self) -> int:
        assert self.deadline is not None  # read by the countdown, which starts on mount (start_countdown)
        # rounded first: (now + 60) - now can be 60.00000000000001, which is not 61 seconds
        return max(0, math.ceil(round(self.deadline - self.app.clock(), 3)))

    def tick(self) -> None:
        if self.deadline is None:
            return
        if self.left <= 0:
            self.app.wipe()
            return
        try:
            self.show_countdown()
        except NoMatches:
            pass  # a tick while the screen is still composed or already torn down (app exit)

    def show_countdown(self) -> None:
        """Override: show `self.left`."""


# The i18n key of each widget marked by labelled(); weak, so a widget removed takes its key along.
I18N_KEYS: WeakKeyDictionary[Widget, str] = WeakKeyDictionary()
Labelled = TypeVar("Labelled", bound=Widget)


def relabel_marked(screen: Screen, lang: str) -> None:
    """Re-word every widget marked by labelled(), every LabelledInput and the keyboard, in place."""
    for widget in screen.query(".i18n"):
        text = t(I18N_KEYS[widget], lang)
        if isinstance(widget, Button):
            widget.label = text
        elif isinstance(widget, Static):
            from textual.widgets import Checkbox, RadioButton  # imported already by the screens that have them

            if isinstance(widget, (Checkbox, RadioButton)):
                widget.label = text
            else:
                widget.update(text)
    for field in screen.query(LabelledInput):
        field.relabel(lang)
    for keyboard in screen.query(".keyboard"):  # the on-screen keyboard (screens/keyboard/), if it was made
        from screens.keyboard import Keyboard  # imported already: it made this one

        assert isinstance(keyboard, Keyboard)  # what the .keyboard class marks (its DEFAULT_CLASSES)
        keyboard.relabel()


def station_of(widget: Widget) -> StationHost:
    """The app `widget` runs in: a Station (a cast, not isinstance: screens.station imports this module)."""
    return cast("StationHost", widget.app)


def offer_keyboard(into: Widget, focused: Widget) -> None:
    """The kiosk's on-screen keyboard (never the desk's), made in `into` (a screen, or a modal's box)
    when the first field that has one takes focus; its module is imported only then."""
    if isinstance(focused, Input) and station_of(into).ON_SCREEN_KEYBOARD:
        from screens.keyboard import offer

        offer(into, focused)


def labelled(widget: Labelled, key: str) -> Labelled:
    """Mark a Static/Label/Button/Checkbox/RadioButton to be (re)labelled with an i18n key."""
    I18N_KEYS[widget] = key
    widget.add_class("i18n")
    return widget


def big_button(key: str, action: str, variant: ButtonVariant = "default", *, lean: bool = False) -> Button:
    """A big button `#action` whose tap runs the screen's action of that name, as its key does.
    `lean`: a LeanButton (default and primary variants only), for a screen with no other Button."""
    kind = LeanButton if lean else Button
    return labelled(kind("", id=action, variant=variant, classes="big", action=f"screen.{action}"), key)


class LabelledInput(Vertical):
    """A label, an input and the field's error, in the current language."""

    if TYPE_CHECKING:  # a field of the kiosk's or the desk's screens
        app = getters.app(StationHost)

    def __init__(self, name: str, label_key: str, *, value: str = "", max_length: int = 100,
                 hint_key: str | None = None) -> None:
        super().__init__(classes="field")
        self.field_name = name
        self.label_key = label_key
        self.hint_key = hint_key
        self.error: FieldError | None = None
        self._value = value
        self._max_length = max_length

    def compose(self) -> ComposeResult:
        from textual.widgets import Label

        with Horizontal(classes="field-row"):
            yield Label(classes="field-label")
            yield Input(value=self._value, id=f"field-{self.field_name}", max_length=self._max_length)
        yield Static(classes="field-error")

    def on_mount(self) -> None:
        self.relabel(self.app.language)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    def show_error(self, error: FieldError | None) -> None:
        self.error = error
        self.set_class(error is not None, "invalid")
        self.relabel(self.app.language)

    def relabel(self, lang: str) -> None:
        self.query_one(".field-label", Static).update(t(self.label_key, lang))
        self.input.placeholder = t(self.hint_key, lang) if self.hint_key else ""
        message = t(self.error.key, lang, **(self.error.values or {})) if self.error else ""
        error = self.query_one(".field-error", Static)
        error.update(message)
        error.display = bool(message)
