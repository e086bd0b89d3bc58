"""The on-screen keyboard: key caps that act on a tap and never take focus, so the field being
typed keeps its focus and its cursor; the candidate bar of the pinyin layout; and the routing of a
physical keyboard's keys to the composition (a kiosk's keyboard under the cage has no input method).

One keyboard per screen (or modal box), made the first time a field that has one takes focus
(`offer`); from then on it follows the screen's focus: it shows the layout of the focused field
(layouts.KEYBOARD_FOR) and hides when no such field has focus."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from kiosk.i18n import t
from kiosk.i18n.textwidth import cell_width

from .composer import PAGE_KEYS, Composer, label
from .layouts import (
    BACKSPACE,
    DIGITS,
    ENTER,
    GAP,
    KEYBOARD_FOR,
    LABELS,
    LATIN,
    LAYOUTS,
    MODE,
    OPTIONAL,
    PINYIN,
    SHIFT,
    SPACE,
    SPLIT,
    SYMBOLS,
    TO_PINYIN,
    FieldKeyboard,
    key_id,
)

if TYPE_CHECKING:
    from textual import getters

    from kiosk.ime.dictionary import PinyinDictionary
    from screens.host import KioskHost

# The candidate bar's keys (beside the layouts' own).
COMPOSITION, CANDIDATE, PREVIOUS, NEXT = "composition", "candidate", "previous", "next"
OVERHEAD = 3  # cells a bar key takes beyond its label: padding 1 each side, a gap of 1 (keyboard.tcss)
COMPOSITION_CELLS = 16  # a longer composition shows its end
COLLAPSE_AFTER = 0.3  # s: a tap that moved the focus away has ended by then (see Keyboard.close)


class KeyCap(Static):
    """One key. A tap (mouse down and up on it: a Click) types it."""

    ALLOW_SELECT = False  # a finger held on a key must not start selecting text

    class Tapped(Message):
        def __init__(self, cap: KeyCap) -> None:
            super().__init__()
            self.cap = cap

    def __init__(self, key: str, text: str = "", *, weight: int = 0, index: int = 0, id: str | None = None,
                 classes: str = "") -> None:
        super().__init__(text, id=id, classes=f"kb-key {classes}".rstrip())
        self.key_name = key
        self.index = index  # a candidate's place on the bar
        if weight:
            self.styles.width = f"{weight}fr"

    def _forward_event(self, event: events.Event) -> None:
        # Textual 8.2.8 hands each mouse event to the widget under it by calling this, in the
        # order the taps came. Handled in the key's own queue, a Click would race the next key's
        # (every widget has its own task): two quick taps typed in reverse under load ("wa'g'n"
        # for w-a-n-g). Posted straight to the keyboard here, taps keep their order.
        if isinstance(event, events.Click):
            event._set_forwarded()
            self.query_ancestor(Keyboard).post_message(self.Tapped(self))
        else:
            super()._forward_event(event)


class Keyboard(Vertical):
    """The candidate bar (pinyin: the composition and its words; digits: a hint) over the keys of
    the focused field's layout; it types into that field (`target`) and never takes focus."""

    DEFAULT_CLASSES = "keyboard"
    PAINTED: ClassVar = "reverse"  # the state a two-state key is in (中/英, A/a)

    if TYPE_CHECKING:  # only the kiosk has this keyboard: its app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__(id="keyboard")
        self.display = False
        self.target: Input | None = None  # the field typed into
        self.spec = FieldKeyboard(PINYIN)
        self.layout_name = PINYIN
        self.chinese = True  # pinyin letters compose (中); else they go in as they are (英)
        self.upper = True  # the Latin layout's letters
        self.latin_run = False  # a physical capital began a Latin word: small letters follow it as they are
        self.composer = Composer()
        self.caps: dict[str, dict[str, KeyCap]] = {}  # by layout, by key name; a layout is built when first shown

    def compose(self):
        with Horizontal(id="kb-bar"):
            yield KeyCap(COMPOSITION, id="kb-composition")
            for i in range(PAGE_KEYS):
                yield KeyCap(CANDIDATE, index=i, id=f"kb-cand-{i}", classes="kb-candidate")
            yield Static(id="kb-hint")
            yield KeyCap(PREVIOUS, "‹", id="kb-previous")
            yield KeyCap(NEXT, "›", id="kb-next")

    def on_mount(self) -> None:
        # The screen's reactive, not the app's: a watcher on the app would keep every keyboard (and
        # its screen) alive after the screen has gone. A language switch relabels it with its
        # screen (screens.base.relabel_marked).
        self.watch(self.screen, "focused", self.focus_moved)
        # A field focused already opened it above, before this widget counted as mounted (Textual sets
        # that after on_mount), so its bar was not drawn: drawn now, not left to a Resize that may
        # have come first (the number pad's hint showed ‹ › in a snapshot under load).
        self.call_after_refresh(self.show_bar)

    @property
    def dictionary(self) -> PinyinDictionary | None:
        """KioskApp.pinyin (only the kiosk has this keyboard): None until load_pinyin has read it."""
        return self.app.pinyin

    # ---- following the focus ---------------------------------------------------------------------

    def focus_moved(self, focused: Widget | None) -> None:
        spec = KEYBOARD_FOR.get(focused.id or "") if isinstance(focused, Input) else None
        if spec is None:
            self.close()
        elif focused is not self.target:
            assert isinstance(focused, Input)  # only a field has a keyboard (spec)
            self.open(focused, spec)

    def open(self, field: Input, spec: FieldKeyboard) -> None:
        appearing = self.target is None
        self.composer.clear()
        self.composer.person = spec.person
        self.latin_run = False
        self.target, self.spec = field, spec
        self.chinese, self.upper = True, spec.upper
        self.show_layout(spec.layout)
        self.visible = self.display = True
        if appearing:  # the body has just shrunk: the field must stay in sight above the keyboard
            self.call_after_refresh(self.keep_in_view)

    def keep_in_view(self) -> None:
        if self.target is not None and self.target.has_focus:
            self.target.scroll_visible(animate=False)

    def close(self) -> None:
        """Out of sight and out of reach at once; its rows go back to the body only once the
        tap that moved the focus has ended: given back at mouse down, they would move what is
        under the finger (the body scrolls, a dialog re-centres), and the mouse up would land on
        another widget: the tap would be lost."""
        if self.target is None:
            return
        self.composer.clear()
        self.target = None
        self.visible = False
        self.collapse()

    def collapse(self) -> None:
        if self.target is not None:
            return  # a field took focus again meanwhile
        if self.screen._mouse_down_offset is not None:  # Textual 8.2.8: a mouse button is down here
            self.set_timer(COLLAPSE_AFTER, self.collapse)
        else:
            self.display = False

    def show_layout(self, layout: str) -> None:
        self.layout_name = layout
        if layout not in self.caps:
            self.mount(self.build(layout))
        for shown in self.query(".kb-layout"):
            shown.display = shown.id == f"kb-{layout}"
        self.query_one("#kb-bar").display = layout != LATIN
        for key, cap in self.caps.get(DIGITS, {}).items():
            if key in OPTIONAL:
                cap.visible = key in self.spec.extras
        if LATIN in self.caps:
            self.caps[LATIN][TO_PINYIN].visible = self.spec.layout == PINYIN
        self.relabel()

    def build(self, layout: str) -> Vertical:
        caps = self.caps[layout] = {}
        rows = []
        for row in LAYOUTS[layout]:
            keys = []
            for key, weight in row:
                if key == GAP:
                    keys.append(Static(classes="kb-gap"))
                    keys[-1].styles.width = f"{weight}fr"
                else:
                    caps[key] = KeyCap(key, weight=weight, id=key_id(key))
                    keys.append(caps[key])
            rows.append(Horizontal(*keys, classes="kb-row"))
        return Vertical(*rows, id=f"kb-{layout}", classes="kb-layout")

    # ---- labels --------------------------------------------------------------------------------------

    def relabel(self) -> None:
        lang = self.app.language
        for key, cap in self.caps.get(self.layout_name, {}).items():
            cap.update(self.label(key, lang))
        self.show_bar()

    def label(self, key: str, lang: str) -> str | Content:
        if key in LABELS:
            return t(LABELS[key], lang)
        if key == MODE:
            return Content.assemble((t("keyboard.chinese", lang), self.PAINTED if self.chinese else ""), "/",
                                    (t("keyboard.english", lang), "" if self.chinese else self.PAINTED))
        if key == SHIFT:
            return Content.assemble(("A", self.PAINTED if self.upper else ""), "/",
                                    ("a", "" if self.upper else self.PAINTED))
        if key == ENTER:
            return t("keyboard.next", lang) if self.next_field() else t("keyboard.done", lang)
        return key.upper() if self.layout_name == LATIN and self.upper else key

    def show_bar(self) -> None:
        """The composition and the words for it, as many as fit, with ‹ › for the others; or a hint."""
        if self.layout_name == LATIN or not self.is_mounted:
            return
        lang, dictionary, composer = self.app.language, self.dictionary, self.composer
        composing = self.layout_name == PINYIN and bool(composer)
        shown = self.query_one("#kb-composition", KeyCap)
        shown.display = composing
        spelled = composer.spelled(dictionary)[-COMPOSITION_CELLS:]
        if composing:
            shown.update(spelled)
            bar = self.query_one("#kb-bar").content_size.width
            composer.fit(bar - (cell_width(spelled) + OVERHEAD) - 2 * (1 + OVERHEAD), OVERHEAD)
        words = composer.page if composing else []
        for cap in self.query(".kb-candidate").results(KeyCap):
            cap.display = cap.index < len(words)
            if cap.display:
                cap.update(Content.assemble((label(cap.index, ""), "dim"), words[cap.index].text))
        self.query_one("#kb-previous").display = composing and composer.has_previous
        self.query_one("#kb-next").display = composing and composer.has_next
        self.query_one("#kb-hint", Static).update(self.hint(lang, composing, bool(words)))

    def hint(self, lang: str, composing: bool, words: bool) -> str:
        if self.layout_name == DIGITS:
            return t("keyboard.digits_hint", lang)
        if not self.chinese:
            return t("keyboard.english_hint", lang)
        if self.dictionary is None:
            return t("keyboard.loading", lang)
        if composing:
            return "" if words else t("keyboard.no_words", lang)
        return t("keyboard.pinyin_hint", lang)

    def dictionary_ready(self) -> None:
        self.composer.look_up(self.dictionary)
        self.show_bar()

    def on_resize(self) -> None:
        self.show_bar()

    # ---- taps --------------------------------------------------------------------------------------

    def on_key_cap_tapped(self, message: KeyCap.Tapped) -> None:
        message.stop()
        if self.target is None:
            return
        self.latin_run = False
        self.press(message.cap)

    def press(self, cap: KeyCap) -> None:
        key, composer, dictionary = cap.key_name, self.composer, self.dictionary
        if key == CANDIDATE:
            self.choose(cap.index)
        elif key == COMPOSITION:
            self.commit_letters()
        elif key == PREVIOUS:
            composer.previous_page()
        elif key == NEXT:
            composer.next_page()
        elif key == BACKSPACE:
            if composer:
                composer.backspace(dictionary)
            else:
                assert self.target is not None  # a tap reaches the keys only while a field is open (on_key_cap_tapped)
                self.target.action_delete_left()
        elif key == SPACE:
            if composer:
                self.choose(0)
            else:
                self.insert(" ")
        elif key == ENTER:
            if composer:
                self.commit_letters()
            else:
                self.enter()
        elif key in (MODE, SYMBOLS, TO_PINYIN, SHIFT):
            self.commit_letters()
            if key == MODE:
                self.chinese = not self.chinese
            elif key == SHIFT:
                self.upper = not self.upper
            self.show_layout({SYMBOLS: LATIN, TO_PINYIN: PINYIN}.get(key, self.layout_name))  # relabelled
        elif key == SPLIT:
            composer.add(SPLIT, dictionary)
        elif self.layout_name == PINYIN and self.chinese and key.isascii() and key.isalpha():
            composer.add(key, dictionary)
        else:
            self.commit_words()  # punctuation after pinyin: the words first, as an input method does
            self.insert(key.upper() if self.layout_name == LATIN and self.upper else key)
        self.show_bar()

    def enter(self) -> None:
        """下一项 to the next field that has a keyboard, or 完成: the field's Enter."""
        following = self.next_field()
        if following is not None:
            following.focus()
        elif self.target is not None:
            self.call_next(self.target.action_submit)  # the screen's Enter: search, save, look up

    def next_field(self) -> Input | None:
        if self.target is None:
            return None
        chain = self.screen.focus_chain
        if self.target not in chain:
            return None
        later = chain[chain.index(self.target) + 1:]
        return next((w for w in later if isinstance(w, Input) and w.id in KEYBOARD_FOR), None)

    # ---- into the field ---------------------------------------------------------------------------------

    def insert(self, text: str) -> bool:
        """At the cursor (over a selection), if the field has room for all of it; else a bell."""
        if not text or not self.fits(text):
            return False
        assert self.target is not None  # fits() says there is one
        start, end = sorted(self.target.selection)
        self.target.replace(text, start, end)
        return True

    def fits(self, text: str) -> bool:
        """Whether the field has room for `text` (it replaces the selection); if not, a bell."""
        field = self.target
        assert field is not None  # typed only while a field is open: a tap's or a physical key's (typed)
        start, end = sorted(field.selection)
        if field.max_length and len(field.value) - (end - start) + len(text) > field.max_length:
            self.app.bell()
            return False
        return True

    def choose(self, index: int) -> None:
        page = self.composer.page
        if index < len(page) and self.fits(page[index].text):
            self.insert(self.composer.choose(index, self.dictionary) or "")

    def commit_letters(self) -> None:
        """The composition's letters as they are (Enter, or a tap on the composition)."""
        if self.composer and self.fits(self.composer.letters.replace("'", "")):
            self.insert(self.composer.raw())

    def commit_words(self) -> None:
        """Each time the first word, until the composition is spelled (the letters if no word)."""
        while self.composer.page:
            before = self.composer.letters
            self.choose(0)
            if self.composer.letters == before:
                return  # no room in the field
        self.commit_letters()

    # ---- a physical keyboard -----------------------------------------------------------------------------

    def typed(self, event: events.Key) -> bool:
        """Whether a key from a physical keyboard went to the composition (pinyin layout, 中):
        small letters compose, 1-9 choose, space takes the first word, Enter the letters, Esc
        drops them, Backspace edits them, - = page. Everything else goes to the field as ever: a
        capital (and the small letters after it, up to a space: "Li Gong"), digits while not
        composing, text sent as UTF-8, a scanner's burst."""
        if (self.target is None or not self.target.has_focus or self.layout_name != PINYIN or not self.chinese):
            return False
        key, char, composer = event.key, event.character or "", self.composer
        if len(char) == 1 and "A" <= char <= "Z":
            self.latin_run = not composer
            return False
        if key in ("space", "enter", "tab", "escape"):
            latin, self.latin_run = self.latin_run, False
            if latin or not composer:
                return False
        if len(char) == 1 and "a" <= char <= "z" and key == char:
            if self.latin_run:
                return False
            composer.add(char, self.dictionary)
        elif not composer:
            return False
        elif len(char) == 1 and "1" <= char <= "9":
            self.choose(int(char) - 1)
        elif key == "space":
            self.choose(0)
        elif key == "enter":
            self.commit_letters()
        elif key == "escape":
            composer.clear()
        elif key == "backspace":
            composer.backspace(self.dictionary)
        elif key == "apostrophe":
            composer.add(SPLIT, self.dictionary)
        elif key in ("minus", "pageup"):
            composer.previous_page()
        elif key in ("equals_sign", "pagedown"):
            composer.next_page()
        else:
            return False
        self.show_bar()
        return True


def offer(into: Widget, focused: Widget) -> None:
    """A widget took focus in `into` (a kiosk screen, or a modal's box): the first time a field
    with a keyboard does, the keyboard is made, between the body and the action bar."""
    screen = into if isinstance(into, Screen) else into.screen
    if keyboard_of(screen) is not None or not (isinstance(focused, Input) and focused.id in KEYBOARD_FOR):
        return
    actions = into.query_children(".actions")
    # In the DOM at once (mounted later): a second focus meanwhile finds it and makes no other.
    into.mount(Keyboard(), before=actions.first() if actions else None)


def keyboard_of(screen: Screen) -> Keyboard | None:
    return next(iter(screen.query(Keyboard)), None)


def typed(screen: Screen, event: events.Key) -> bool:
    """The app's hook for every key: whether the screen's keyboard took it for its composition."""
    keyboard = keyboard_of(screen)
    return keyboard is not None and keyboard.is_mounted and keyboard.typed(event)


def dictionary_ready(app) -> None:
    for screen in app.screen_stack:
        keyboard = keyboard_of(screen)
        if keyboard is not None and keyboard.is_mounted:
            keyboard.dictionary_ready()
