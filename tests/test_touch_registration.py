"""The touch-only customer (issue 16, deliverable 5): a first-time customer with a finger and no
keyboard registers three instruments from the welcome screen to the ticket, every step a tap
(a mouse click; never a key), and the taps are counted: choices and navigation at most 25, an
8-character organisation name of common words at most 20. The counts are printed in the test
report (the "figures" section of the terminal summary, tests/conftest.py).

What is typed is typing: every tap on the on-screen keyboard (keys, words on its bar, ‹ ›),
counted per field. Everything else is a choice or navigation: a button, a field, a search
result, a radio button. The journey with Pilot at 80x24 and at 120x40, and in a real terminal:
the real `kiosk run` in tmux (tests/test_terminal.py's harness) sent mouse escape sequences at the
cells where the screen shows each key, word and button."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import DataTable

from db.models import Ticket, TicketLine
from kiosk.i18n import t
from kiosk.i18n.textwidth import cell_width
from screens.customer import CustomerScreen
from screens.estimate import EstimateScreen
from screens.instruments import InstrumentsScreen
from screens.keyboard.layouts import DIGITS, LATIN, LAYOUTS, PINYIN
from screens.line_editor import LineEditor
from screens.options import OptionsScreen
from screens.ticket import TicketScreen

from .kiosk_pilot import make_app, screen_text, settle, to_instruments
from .test_terminal import KIOSK, TICKET_NUMBER, TMUX, WELCOME, Terminal
from .touch import Touch

ORGANISATION = "遵义市自来水公司"  # 8 characters, three common words: 遵义市 (a place of the province), 自来水, 公司
CONTACT = "王芳"
PHONE = "13812345678"
# (search letters, the variant's fee number, use tapped in the line dialog or None for the default 其他)
INSTRUMENTS = (
    ("ylb", "L-001-001", "safety"),  # 一般压力表 (0~6)MPa 1.0级, verification: free for safety use
    ("tp", "Z-001-003", None),  # 电子天平 ≤1kg II级, verification, for the lab (其他): paid
    ("wdj", "R-001-004", None),  # 玻璃液体温度计, calibration
)
# What the ticket stores of them: (fee number, quantity, use, service).
EXPECTED_LINES = [("L-001-001", 1, "safety", "verification"), ("Z-001-003", 1, "other", "verification"),
                  ("R-001-004", 1, "other", "calibration")]
CHOICES_BUDGET, ORGANISATION_BUDGET = 25, 20
CHOICES = "choices and navigation"


class Tally:
    """Taps counted under what they are for: a field's name while it is typed, else choices and navigation."""

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()
        self.kind = CHOICES

    @contextmanager
    def typing(self, field: str):
        self.kind = field
        try:
            yield
        finally:
            self.kind = CHOICES

    def count(self) -> None:
        self.by_kind[self.kind] += 1

    def __getitem__(self, kind: str) -> int:
        return self.by_kind[kind]

    def total(self) -> int:
        return sum(self.by_kind.values())

    def check_and_report(self, request) -> None:
        """The counts in the test's report (record_property, so from an xdist worker too) and its
        terminal summary's "figures" section (tests/conftest.py); then the budgets."""
        typed = ", ".join(f"{kind} {self[kind]}" for kind in ("contact", "phone", "search"))
        line = (f"{CHOICES} {self[CHOICES]} taps (<= {CHOICES_BUDGET}); organisation {ORGANISATION} "
                f"{self['organisation']} taps (<= {ORGANISATION_BUDGET}); other typing: {typed}; "
                f"all {self.total()} taps")
        for kind, count in sorted(self.by_kind.items()):
            request.node.user_properties.append((f"taps {kind}", count))
        request.node.user_properties.append(("figures", line))
        print(line)
        assert self[CHOICES] <= CHOICES_BUDGET, self.by_kind
        assert self["organisation"] <= ORGANISATION_BUDGET, self.by_kind
        # Not budgets of the issue, but what this journey takes: a change that costs the customer taps shows here.
        assert (self["contact"], self["phone"], self["search"]) == (9, len(PHONE), 8), self.by_kind


class CountedTouch(Touch):
    def __init__(self, pilot) -> None:
        super().__init__(pilot)
        self.tally = Tally()

    def typing(self, field: str):
        return self.tally.typing(field)

    async def tap(self, target) -> None:
        await super().tap(target)
        self.tally.count()

    async def tap_row(self, table: DataTable, index: int) -> None:
        """One tap on a row's first cell, which must be in sight without scrolling."""
        header = table.header_height if table.show_header else 0
        y = header + sum(row.height for row in list(table.rows.values())[:index]) - round(table.scroll_y)
        assert header <= y < table.region.height, f"row {index} of #{table.id} is out of sight"
        landed = await self.pilot.click(table, offset=(2, y))
        assert landed, f"the tap on row {index} of #{table.id} landed on another widget"
        self.taps += 1
        self.tally.count()
        await self.pilot.pause()


async def register_by_taps(pilot) -> CountedTouch:
    """Welcome to ticket, taps only. Each step checks what the customer sees before the next tap."""
    app = pilot.app
    touch = CountedTouch(pilot)
    await settle(pilot)  # the catalogue, then the dictionary (as a customer walks up)

    await touch.tap("#register")
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen)
    assert app.focused.id == "field-organisation" and touch.keyboard.layout_name == "pinyin"
    with touch.typing("organisation"):
        await touch.word("zys", "遵义市")  # initials, as the README says: gzs -> 贵州省
        await touch.word("zls", "自来水")
        await touch.word("gs", "公司")
    assert app.screen.query_one("#field-organisation").value == ORGANISATION

    await touch.tap("#field-contact")
    with touch.typing("contact"):
        await touch.word("wangfang", "王芳")  # a person's field: surname + given name offered as one word
    await touch.tap("#field-phone")
    assert touch.keyboard.layout_name == "digits"
    with touch.typing("phone"):
        await touch.letters(PHONE)
    assert (app.draft.organisation, app.draft.contact, app.draft.phone) == (ORGANISATION, CONTACT, PHONE)
    await touch.tap("#next")
    await settle(pilot)

    for letters, code, use in INSTRUMENTS:
        screen = app.screen
        assert isinstance(screen, InstrumentsScreen), letters
        assert touch.keyboard.layout_name == "latin" and not touch.keyboard.upper  # small letters: initials
        with touch.typing("search"):
            await touch.letters(letters)
        codes = [row.code for row in screen.hits]
        assert code in codes, (letters, codes)
        await touch.tap_row(screen.query_one("#hits", DataTable), codes.index(code))  # one tap opens it
        dialog = app.screen
        assert isinstance(dialog, LineEditor) and dialog.row.code == code
        if use:
            await touch.tap(f"#use-{use}")
        await touch.tap("#save")
        assert app.screen is screen and app.draft.lines[-1].code == code

    await touch.tap("#next")
    await settle(pilot)
    assert isinstance(app.screen, OptionsScreen)
    await touch.tap("#urgent-72h")  # the paid lines by 72 h: the free gauge is not charged for it
    assert app.draft.urgent == "72h"
    await touch.tap("#next")
    await settle(pilot)
    assert isinstance(app.screen, EstimateScreen)
    shown = screen_text(app)
    assert "强制检定免费（安全防护）" in shown
    total = app.screen.estimate.total_fen
    assert f"￥{total // 100:,}.{total % 100:02d}" in shown
    await touch.tap("#confirm")
    await settle(pilot)
    return touch


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_first_time_customer_registers_three_instruments_by_taps_alone(size, request):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        touch = await register_by_taps(pilot)

        assert isinstance(app.screen, TicketScreen)
        ticket = Ticket.get()
        assert ticket.number in screen_text(app) and "您的受理号" in screen_text(app)
        customer = ticket.customer
        assert (customer.organisation, customer.contact, customer.phone) == (ORGANISATION, CONTACT, PHONE)
        lines = list(ticket.lines.order_by(TicketLine.position))
        assert [(ln.code, ln.quantity, ln.use, ln.service) for ln in lines] == EXPECTED_LINES
        assert lines[0].free_reason == "compulsory_verification" and lines[0].amount_fen == 0
        assert ticket.urgent == "72h"

        assert touch.tally.total() == touch.taps
        touch.tally.check_and_report(request)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_at_80x24_the_line_dialog_shows_every_use_while_its_digit_pad_is_up(language):
    """A lab's balance is for 其他, the use already chosen: with the quantity's digit pad up, the body has
    nine rows, and 其他 was the one use out of sight (a customer saw four compulsory uses, none chosen)."""
    from kiosk.domain.catalog import USES

    app = make_app(language)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_instruments(pilot)
        touch = CountedTouch(pilot)
        await touch.letters("tp")
        screen = app.screen
        await touch.tap_row(screen.query_one("#hits", DataTable), 0)
        dialog = app.screen
        assert isinstance(dialog, LineEditor) and app.focused.id == "field-quantity"
        assert touch.keyboard.layout_name == "digits" and touch.keyboard.region.height
        body = dialog.query_one("#editor-body").region
        for use in USES:
            assert body.contains_region(dialog.query_one(f"#use-{use}").region), use
        assert dialog.query_one("#use-other").value


# ---- the same customer in a real terminal ------------------------------------------------------------------
# The real `kiosk run` in tmux (tests/test_terminal.py's Terminal, 100x30), taps sent as xterm SGR mouse
# reports (button 1 down, then up: ESC [ < 0 ; column ; row M, then m; 1-based), which tmux passes to the
# app as input, at the cell where the screen (capture-pane) shows the key, word, row or button; columns
# counted in display cells (a Chinese character takes two). Every tap waits for what it changes: never a
# guessed sleep.


def zh(key: str) -> str:
    return t(key, "zh")


KEY_ROWS = {  # the first keys of each layout's first row, as drawn
    PINYIN: ["q", "w", "e", "r"], LATIN: ["1", "2", "3", "4"], DIGITS: ["1", "2", "3", zh("keyboard.backspace")],
}


def tokens(line: str) -> list[tuple[int, str]]:
    """The runs of non-blank characters of a captured line, each with its first cell's column."""
    return [(cell_width(line[:m.start()]), m.group()) for m in re.finditer(r"\S+", line)]


def has_run(line: str, run: list[str]) -> bool:
    texts = [text for _, text in tokens(line)]
    return any(texts[i:i + len(run)] == run for i in range(len(texts)))


class MouseTerminal(Terminal):
    """The harness's terminal, tapped with the mouse, the taps counted."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.tally = Tally()

    def typing(self, field: str):
        return self.tally.typing(field)

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    # ---- tapping ---------------------------------------------------------------------------------

    def tap_cell(self, column: int, row: int) -> None:
        """A tap at a 0-based cell: button 1 pressed and released there."""
        x, y = column + 1, row + 1
        self.type(f"\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m")
        self.tally.count()

    def tap(self, column: int, row: int, what: str, *, escapes: bool = False) -> str:
        """Tap, then wait for the screen to change and hold still (a frame is not read half drawn);
        with escapes, a change of colour is a change (a radio button chosen)."""
        before = self.screen(escapes)
        self.tap_cell(column, row)
        return self.settled(lambda screen: screen != before, f"the screen to change after the tap on {what}",
                            escapes=escapes)

    def settled(self, condition, what: str, *, escapes: bool = False) -> str:
        """The screen once condition(screen) holds and two captures in a row agree."""
        last: list[str] = []

        def check() -> str | None:
            screen = self.screen(escapes)
            steady = bool(last) and last[-1] == screen
            last.append(screen)
            return screen if steady and condition(screen) else None

        return self.wait_until(check, what)

    def tap_text(self, text: str, *, containing: tuple[str, ...] = (), escapes: bool = False) -> str:
        """A tap on the first cell of `text` where it is drawn (on the bottom-most line that has it and
        every one of `containing`): a button's label, a result's row, a choice."""
        found = self.wait_until(lambda: self.find(text, containing), f"{text!r} on the screen")
        return self.tap(*found, what=text, escapes=escapes)

    def find(self, text: str, containing: tuple[str, ...] = ()) -> tuple[int, int] | None:
        for row, line in reversed(list(enumerate(self.lines()))):
            if text in line and all(part in line for part in containing):
                return cell_width(line[:line.index(text)]), row
        return None

    def tap_field(self, label: str) -> None:
        """A tap inside the text field labelled `label` (its label's row, past the field's left edge ▊)."""
        row = self.wait_until(lambda: next((r for r, line in enumerate(self.lines())
                                            if line.lstrip().startswith(label) and "▊" in line), None), label)
        line = self.lines()[row]
        self.tap_cell(cell_width(line[:line.index("▊")]) + 3, row)
        self.wait_input_focused(label)

    # ---- the on-screen keyboard -------------------------------------------------------------------

    def keyboard(self, layout: str) -> int:
        """The screen row of the layout's first key row, once it is drawn."""

        def top() -> int | None:
            lines = self.lines()
            for row in range(len(lines) - 1, -1, -1):
                if has_run(lines[row], KEY_ROWS[layout]):
                    latin_above = row > 0 and has_run(lines[row - 1], KEY_ROWS[LATIN])
                    if layout != PINYIN or not latin_above:  # the Latin layout's second row is q w e r too
                        return row
            return None

        return self.wait_until(top, f"the {layout} keyboard")

    def key(self, layout: str, name: str) -> str:
        """A tap on a key of the layout on show: a letter, a digit."""
        first = self.keyboard(layout)
        index = next(i for i, row in enumerate(LAYOUTS[layout]) if any(key == name for key, _ in row))
        row = first + index
        column = next((c for c, text in tokens(self.lines()[row]) if text == name), None)
        assert column is not None, f"no key {name!r} on row {row}:\n{self.screen()}"
        return self.tap(column, row, f"the key {name}")

    def letters(self, layout: str, text: str) -> None:
        for letter in text:
            self.key(layout, letter)

    def word(self, pinyin: str, word: str) -> None:
        """Spell `pinyin`, then tap `word` on the candidate bar (the row above the keys; › for more)."""
        self.letters(PINYIN, pinyin)

        def on_bar() -> tuple[int, int, str] | None:
            bar = self.keyboard(PINYIN) - 1
            drawn = tokens(self.lines()[bar])
            for column, text in drawn:
                if re.fullmatch(rf"\d{re.escape(word)}", text):
                    return column, bar, "word"
            return next(((column, bar, "next") for column, text in drawn if text == "›"), None)

        while True:
            column, row, found = self.wait_until(on_bar, f"{word} or › on the candidate bar")
            self.tap(column, row, word if found == "word" else "›")
            if found == "word":
                return


@pytest.fixture
def mouse_terminal(tmp_path):
    term = MouseTerminal(tmp_path)
    try:
        term.start()
        yield term
    finally:
        term.kill()


RESULT_ROWS = {  # what the search's result row shows of each variant (INSTRUMENTS)
    "L-001-001": ("一般压力表", ("检定", "(0~6)MPa 1.0级")),
    "Z-001-003": ("电子天平", ("检定", "≤1kg II级")),
    "R-001-004": ("玻璃液体温度计", ("校准", "含3个校准点")),
}


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.skipif(not KIOSK.exists(), reason="the kiosk console script is not installed")
def test_the_touch_only_customer_in_a_real_terminal(mouse_terminal, request):
    term = mouse_terminal
    term.wait_for(WELCOME)
    term.wait_for("力学  一般压力表")  # the catalogue has loaded
    # the app has asked for mouse reports, in SGR form
    assert term.pane("#{mouse_any_flag}") == "1" and term.pane("#{mouse_sgr_flag}") == "1"

    term.tap_text("送检登记")
    term.keyboard(PINYIN)
    term.wait_input_focused("送检单位")
    with term.typing("organisation"):
        term.word("zys", "遵义市")
        term.word("zls", "自来水")
        term.word("gs", "公司")
    term.wait_for(ORGANISATION)
    term.tap_field("联系人")
    with term.typing("contact"):
        term.word("wangfang", "王芳")
    term.wait_for(CONTACT)
    term.tap_field("联系电话")
    with term.typing("phone"):
        term.letters(DIGITS, PHONE)
    term.wait_for(PHONE)
    term.tap_text("下一步")

    for letters, code, use in INSTRUMENTS:
        term.wait_input_focused("输入仪器名称")  # the search, emptied, has focus
        with term.typing("search"):
            term.letters(LATIN, letters)
        name, shown = RESULT_ROWS[code]
        term.tap_text(name, containing=shown)  # one tap opens the line dialog
        term.wait_for(code)
        term.wait_input_focused("数量")
        if use:
            term.tap_text(zh(f"use.{use}"))
            # the choice has focus: the digit pad of the quantity goes
            term.settled(lambda screen: zh("keyboard.digits_hint") not in screen, "the digit pad to go")
        term.tap_text(zh("line.add"))
        term.wait_gone(code)
        term.wait_for(f"{name}")

    screen = term.screen()
    assert zh("use.safety") in screen  # the gauge's line, in 本次送检的仪器
    term.tap_text("下一步")
    term.wait_for("查看费用")
    term.tap_text("72小时", escapes=True)  # the focused choice: only its colours change
    term.tap_text("查看费用")
    screen = term.wait_for("确认登记")
    assert "强制检定免费（安全防护）" in screen and "加急72h加收30%" in screen
    term.tap_text("确认登记")
    term.wait_for("您的受理号")
    number = term.wait_until(lambda: TICKET_NUMBER.search(term.screen()), "a ticket number").group()

    stored = stored_ticket(term.database)
    assert stored["number"] == number and stored["urgent"] == "72h"
    assert stored["customer"] == (ORGANISATION, CONTACT, PHONE)
    assert stored["lines"] == EXPECTED_LINES
    assert stored["free"] == ["compulsory_verification", None, None]
    assert term.alive()
    term.tally.check_and_report(request)


def stored_ticket(path: Path) -> dict:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        (ticket_id, number, urgent, customer_id), = connection.execute(
            "SELECT id, number, urgent, customer_id FROM ticket").fetchall()
        lines = connection.execute("SELECT code, quantity, use, service, free_reason FROM ticket_line "
                                   "WHERE ticket_id = ? ORDER BY position", (ticket_id,)).fetchall()
        customer = connection.execute("SELECT organisation, contact, phone FROM customer WHERE id = ?",
                                      (customer_id,)).fetchone()
    finally:
        connection.close()
    return {"number": number, "urgent": urgent, "customer": customer,
            "lines": [line[:4] for line in lines], "free": [line[4] for line in lines]}
