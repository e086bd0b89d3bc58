"""The on-screen keyboard (screens/keyboard/): a customer at a touch panel with no keyboard and no
input method types Chinese, digits and Latin letters with taps alone, and a physical keyboard
composes pinyin through it. Taps are mouse clicks on the keys (tests/touch.py)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from screens.customer import CustomerScreen
from screens.keyboard.composer import Composer
from screens.keyboard.dictionary import PinyinLoaded
from screens.line_editor import LineEditor

from .kiosk_pilot import make_app, screen_text, settle, to_instruments
from .touch import Touch


async def at_customer(pilot) -> Touch:
    touch = Touch(pilot)
    await settle(pilot)  # the catalogue, then the dictionary
    await touch.tap("#register")
    await settle(pilot)
    return touch


def field(app, name: str) -> Input:
    return app.screen.query_one(f"#field-{name}", Input)


def keyboard(app):
    return app.screen.query_one("#keyboard")


def shown(widget) -> bool:
    """Drawn on the screen: displayed, visible, and with room."""
    return widget.display and widget.visible and bool(widget.region.area)


# ---- Chinese by taps ----------------------------------------------------------------------------


async def test_guizhou_is_typed_by_tapping_its_pinyin_then_the_word():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        organisation = field(app, "organisation")
        assert app.focused is organisation and shown(keyboard(app))
        assert keyboard(app).layout_name == "pinyin"
        for letter in "guizhou":
            await touch.key(letter)
        assert organisation.value == ""  # letters compose; they are not typed into the field
        assert "gui'zhou" in screen_text(app)  # the composition, spelled
        first = app.screen.query_one("#kb-cand-0")
        assert shown(first) and "贵州" in str(first.render())
        await touch.tap(first)
        assert organisation.value == "贵州" and app.focused is organisation
        assert keyboard(app).composer.letters == ""
        assert touch.taps == 1 + 7 + 1  # 送检登记, seven letters, the word


async def test_a_word_takes_its_letters_and_leaves_the_rest_to_choose():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        await touch.word("guizhou", "贵州")
        for letter in "ranqi":
            await touch.key(letter)
        await touch.word("", "燃气")
        await touch.word("youxiangongsi", "有限公司")
        assert field(app, "organisation").value == "贵州燃气有限公司"
        assert app.draft.organisation == "贵州燃气有限公司"  # the screen keeps every keystroke in the draft


async def test_backspace_edits_the_composition_first_then_the_field():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        organisation = field(app, "organisation")
        await touch.word("guizhou", "贵州")
        await touch.key("s")
        await touch.key("h")
        await touch.key("backspace")
        assert keyboard(app).composer.letters == "s" and organisation.value == "贵州"
        await touch.key("backspace")
        assert keyboard(app).composer.letters == "" and organisation.value == "贵州"
        await touch.key("backspace")
        assert organisation.value == "贵"


async def test_the_letters_themselves_by_a_tap_on_the_composition_or_in_english_mode():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        organisation = field(app, "organisation")
        for letter in "abb":
            await touch.key(letter)
        await touch.tap("#kb-composition")
        assert organisation.value == "abb"
        await touch.key("mode")  # 中/英
        for letter in "co":
            await touch.key(letter)
        assert organisation.value == "abbco" and keyboard(app).composer.letters == ""
        assert "英文输入" in screen_text(app)
        await touch.key("symbols")  # 123: digits and capitals
        assert keyboard(app).layout_name == "latin"
        await touch.letters("3M")
        await touch.key("to_pinyin")
        assert keyboard(app).layout_name == "pinyin" and organisation.value == "abbco3M"


async def test_until_the_dictionary_has_loaded_the_letters_compose_and_the_bar_says_so():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        dictionary, app.pinyin = app.pinyin, None  # as in the first moments after start
        for letter in "guizhou":
            await touch.key(letter)
        assert "词库加载中" in screen_text(app) and not shown(app.screen.query_one("#kb-cand-0"))
        app.post_message(PinyinLoaded(dictionary))
        await pilot.pause()
        assert "贵州" in str(app.screen.query_one("#kb-cand-0").render())


async def test_more_words_on_the_next_page():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        await touch.key("s")
        composer = keyboard(app).composer
        first_page = [c.text for c in composer.page]
        assert 1 < len(first_page) <= 9 and composer.has_next
        await touch.tap("#kb-next")
        assert composer.page[0].text not in first_page
        await touch.tap("#kb-previous")
        assert [c.text for c in composer.page] == first_page


# ---- digits and Latin -------------------------------------------------------------------------------


async def test_a_phone_on_the_digit_pad():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        await touch.tap("#field-phone")
        pad = keyboard(app)
        assert pad.layout_name == "digits" and shown(app.screen.query_one("#kb-digits #key-minus"))
        assert not shown(app.screen.query_one("#kb-digits #key-dot"))  # metres only
        await touch.letters("0851-85551234")
        assert field(app, "phone").value == "0851-85551234" == app.draft.phone
        assert touch.taps == 1 + 1 + 13


async def test_a_field_takes_no_more_than_its_length():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        await touch.tap("#field-phone")
        await touch.letters("1" * 32)
        assert field(app, "phone").value == "1" * 30


async def test_a_serial_number_on_the_latin_layout():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"ylb", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LineEditor)
        touch = Touch(pilot)
        serial = app.screen.query_one("#field-serial_number", Input)
        serial.focus()  # below the fold at 80x24: brought into view as it takes focus
        await pilot.pause()
        assert keyboard(app).layout_name == "latin" and keyboard(app).upper
        await touch.letters("SN-2024/07a")
        assert serial.value == "SN-2024/07a"


async def test_next_moves_to_the_next_field_and_done_is_the_fields_enter():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        await touch.key("enter")  # 下一项
        assert app.focused is field(app, "credit_code") and keyboard(app).layout_name == "latin"
        await touch.tap("#field-address")
        assert "完成" in str(app.screen.query_one("#kb-pinyin #key-enter").render())
        await touch.key("enter")  # the address is the last field: Enter, which moves on to the pickup choice
        assert app.focused is app.screen.query_one("#pickup")


async def test_the_keys_speak_the_language_of_the_screen():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await at_customer(pilot)
        space = app.screen.query_one("#kb-pinyin #key-space")
        assert str(space.render()) == "空格"
        await pilot.press("f2")
        assert str(space.render()) == "Space"
        assert str(app.screen.query_one("#kb-pinyin #key-enter").render()) == "Next field"


# ---- a physical keyboard ---------------------------------------------------------------------------------


async def test_a_physical_keyboard_composes_pinyin_in_a_chinese_field():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await at_customer(pilot)
        organisation = field(app, "organisation")
        await pilot.press(*"guizhou")
        assert organisation.value == "" and keyboard(app).composer.letters == "guizhou"
        await pilot.press("1")  # the first word on show
        assert organisation.value == "贵州"
        await pilot.press(*"ranqi", "space")  # space: the first word
        assert organisation.value == "贵州燃气"
        await pilot.press(*"gongs", "backspace", "backspace", "escape")  # Esc drops the letters, not the screen
        assert isinstance(app.screen, CustomerScreen) and organisation.value == "贵州燃气"
        await pilot.press(*"abc", "enter")  # Enter: the letters as they are
        assert organisation.value == "贵州燃气abc"
        await pilot.press("backspace")  # nothing composed: the field's
        assert organisation.value == "贵州燃气ab"


async def test_capitals_digits_utf8_and_a_scan_go_straight_into_the_field():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await at_customer(pilot)
        await pilot.press(*"示范燃气集团")  # an input method's text, sent as UTF-8
        await pilot.press(*"ABB", "space", *"2")
        assert field(app, "organisation").value == "示范燃气集团ABB 2"
        await pilot.press("tab", "tab")
        contact = field(app, "contact")
        assert app.focused is contact
        await pilot.press(*"Li", "space", *"Gong")  # a capital starts a Latin word: its small letters follow it
        assert contact.value == "Li Gong" and keyboard(app).composer.letters == ""
        await pilot.press("space", *"li")  # after the space, pinyin again
        assert keyboard(app).composer.letters == "li"


async def test_the_search_takes_small_letters_straight():
    """The instrument search reads pinyin and initials itself: its keyboard is the Latin one."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_instruments(pilot)
        assert keyboard(app).layout_name == "latin" and not keyboard(app).upper
        touch = Touch(pilot)
        await touch.letters("ylb")
        assert app.screen.query_one("#search", Input).value == "ylb"
        assert "一般压力表" in screen_text(app)


# ---- where it is, and when ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_focused_field_and_the_buttons_stay_in_sight_above_the_keyboard(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        touch = await at_customer(pilot)
        board = keyboard(app)
        body = app.screen.query_one(".body")
        for name in ("organisation", "credit_code", "contact", "phone", "address"):
            if app.focused is not field(app, name):
                await touch.key("enter")  # 下一项
            await pilot.pause()
            shown_field = field(app, name)
            assert shown(board) and app.focused is shown_field
            assert body.region.contains_region(shown_field.region), name
            assert not shown_field.region.overlaps(board.region), name
            for button in ("#back", "#next"):
                region = app.screen.query_one(button).region
                assert app.screen.region.contains_region(region) and not region.overlaps(board.region)
        assert board.region.height == (5 if size == (80, 24) else 10)


async def test_the_line_dialogs_last_field_stays_in_sight_above_the_keyboard():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"ylb", "enter", "enter")
        await pilot.pause()
        requirements = app.screen.query_one("#field-requirements", Input)
        requirements.focus()
        await pilot.pause()
        board = keyboard(app)
        assert shown(board) and board.layout_name == "pinyin"
        assert app.screen.query_one("#editor-body").region.contains_region(requirements.region)
        assert not requirements.region.overlaps(board.region)
        save = app.screen.query_one("#save").region
        assert app.screen.region.contains_region(save) and not save.overlaps(board.region)


async def test_the_keyboard_hides_when_no_text_field_has_focus():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        touch = await at_customer(pilot)
        board = keyboard(app)
        await touch.tap("#field-address")
        assert shown(board)
        app.screen.query_one(".body").scroll_end(animate=False)  # a swipe: the choices below come into sight
        await pilot.pause()
        # The tap moves the focus off the field; were the keyboard's rows given back at once, the body
        # (scrolled to its end) would move down under the finger and the tap would land elsewhere.
        await touch.tap("#pickup-post")
        assert app.draft.pickup == "post"
        assert not board.visible  # out of sight at once...
        for _ in range(50):  # ...and its rows back to the body once the tap has ended (COLLAPSE_AFTER)
            if not board.display:
                break
            await pilot.pause(0.05)
        assert not board.display
        await pilot.pause()  # the body laid out again without the keyboard's rows, before the next tap is aimed
        await touch.tap("#field-contact")
        assert shown(board)


async def test_no_keyboard_on_the_welcome_screen_a_digit_pad_for_the_pin():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.screen.query("#keyboard")
        await pilot.press("f12")  # the maintenance PIN: a digit pad in its box
        await pilot.pause()
        assert keyboard(app).layout_name == "digits"


# ---- the composition, without a screen ------------------------------------------------------------------


class Words:
    """A dictionary of three words."""

    def candidates(self, composition: str, limit: int = 30, person: bool = False):
        from kiosk.ime import Candidate

        table = {"guizhou": [Candidate("贵州", 7), Candidate("贵", 3)], "zhou": [Candidate("州", 4)]}
        return table.get(composition, [])[:limit]

    def spelled(self, composition: str) -> str:
        return composition


def test_a_chosen_word_takes_its_letters_off_the_composition():
    composer = Composer()
    for letter in "guizhou":
        composer.add(letter, Words())
    assert [c.text for c in composer.page] == ["贵州", "贵"]
    assert composer.choose(1, Words()) == "贵" and composer.letters == "zhou"
    assert composer.choose(0, Words()) == "州" and composer.letters == ""


def test_the_split_mark_is_never_first_nor_doubled():
    composer = Composer()
    assert not composer.add("'", None)
    composer.add("x", None)
    assert composer.add("'", None) and not composer.add("'", None)
    assert composer.letters == "x'"


def test_a_page_holds_what_fits():
    composer = Composer()
    composer.candidates = [type("C", (), {"text": "词" * 2, "letters": 1})() for _ in range(20)]
    composer.fit(room=40, overhead=3)  # "1词词": 5 cells + 3
    assert composer.shown == 5
    composer.next_page()
    assert composer.start == 5


async def test_screens_left_take_their_keyboards_along():
    """A kiosk runs for months: a keyboard must not keep its screen alive (an app-level watcher would)."""
    import gc

    from screens.keyboard import Keyboard

    def alive(kind) -> int:
        gc.collect()
        return sum(isinstance(o, kind) for o in gc.get_objects())

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await app.push_screen(CustomerScreen())
            await pilot.pause()
            assert shown(keyboard(app))
            await pilot.press(*"gui")
            await pilot.press("f2")  # the language, both ways: labels follow it
            await pilot.press("f2")
            await app.pop_screen()
            await pilot.pause()
        assert alive(Keyboard) == 0 and alive(CustomerScreen) == 0


# ---- how it looks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_customer_screen_with_the_keyboard(snap_compare, size):
    """贵州 chosen, "ranq" being spelled: the words for it on the bar, the field above the keys."""

    async def run_before(pilot):
        touch = await at_customer(pilot)
        await touch.word("guizhou", "贵州")
        for letter in "ranq":
            await touch.key(letter)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
