"""A customer with a finger and no keyboard: every step a tap (a mouse click on a widget, in its
middle, as a finger lands), counted. The on-screen keyboard's keys are tapped by name on the layout
showing (screens/keyboard/layouts.py); a Chinese word is spelled letter by letter and chosen on the
candidate bar, paging with › until it shows."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Button

from screens.keyboard.layouts import LATIN, key_id


class Touch:
    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.taps = 0

    @property
    def keyboard(self):
        return self.pilot.app.screen.query_one("#keyboard")

    async def tap(self, target: str | Widget) -> None:
        """One tap on the widget (a selector on the current screen, or the widget itself), which must
        be on screen and not covered: the click has to land on it."""
        app = self.pilot.app
        widget = app.screen.query_one(target) if isinstance(target, str) else target
        if isinstance(widget, Button):
            # A person's taps are never within a button's 0.2 s press effect, which ignores a second click.
            widget.remove_class("-active")
        width, height = widget.region.size
        assert width and height, f"{target} is not on screen"
        landed = await self.pilot.click(widget, offset=(width // 2, height // 2))
        assert landed, f"the tap on {target} landed on another widget"
        self.taps += 1
        await self.pilot.pause()

    async def key(self, name: str) -> None:
        """A key of the layout on show: "g", "backspace", "enter", "-"..."""
        keyboard = self.keyboard
        await self.tap(keyboard.query_one(f"#kb-{keyboard.layout_name} #{key_id(name)}"))

    async def letters(self, text: str) -> None:
        """Latin letters, digits and - / . on the Latin layout or the digit pad, case as shown
        (a capital on the Latin layout first taps A/a if the layout shows small letters)."""
        for ch in text:
            keyboard = self.keyboard
            if ch.isalpha() and keyboard.layout_name == LATIN and ch.isupper() != keyboard.upper:
                await self.key("shift")
            await self.key("space" if ch == " " else ch.lower() if ch.isalpha() else ch)

    async def word(self, pinyin: str, word: str) -> None:
        """Spell `pinyin` on the pinyin layout, then tap `word` on the candidate bar (› until it shows)."""
        for letter in pinyin:
            await self.key(letter)
        keyboard = self.keyboard
        while True:
            for cap in keyboard.query(".kb-candidate"):
                if cap.display and keyboard.composer.page[cap.index].text == word:
                    await self.tap(cap)
                    return
            assert keyboard.composer.has_next, f"{word} is not among the words for {pinyin}"
            await self.tap("#kb-next")
