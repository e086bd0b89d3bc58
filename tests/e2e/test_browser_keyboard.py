"""The on-screen keyboard under `kiosk serve`, in Chromium with a touch screen: a contact's name and
a phone typed with taps alone (no page.keyboard), as on the lobby's panel, which has neither a
keyboard nor an input method. Reads xterm.js's screen buffer as test_browser.py does."""

from __future__ import annotations

from playwright.sync_api import Page

from .test_browser import (  # served: the fixture, `kiosk serve` on a free port
    kiosk_page,
    served,  # noqa: F401
    tap,
    where,
)

ROWS = {**dict.fromkeys("qwertyuiop", "删除"), **dict.fromkeys("asdfghjkl", "分词"),
        **dict.fromkeys("zxcvbnm", "、")}  # the pinyin layout's rows, by a word key on each


def tap_key(page: Page, marker: str, label: str) -> None:
    """A key of the on-screen keyboard: `label` standing alone between blanks, as a key cap draws
    it, on the row holding `marker` (a word key of that row, unique on the screen)."""
    tap(page, f" {label} ", marker=marker)


def test_a_name_and_a_phone_tapped_on_the_keyboard_in_chromium(chromium, served, tmp_path):  # noqa: F811
    with kiosk_page(chromium, served, tmp_path) as page:
        tap(page, "送检登记")
        tap(page, "联系人", cells_right=16)  # the contact's field: the pinyin keyboard
        where(page, "拼音输入")
        for letter in "wang":
            tap_key(page, ROWS[letter], letter)
        where(page, "wang")  # the composition, on the candidate bar
        tap(page, "王")  # the first word
        where(page, "点字母")  # the bar is back to its hint: the word went into the field
        name = where(page, "王")
        assert name["y"] == where(page, "联系人")["y"], "王 is not in the contact's field"

        tap(page, "手机或座机")  # the phone: the digit pad
        where(page, "数字键盘")
        for digit in "1321":  # the pad's first row: the one with 删除
            tap_key(page, "删除", digit)
        phone = where(page, "1321")
        assert phone["y"] == where(page, "联系电话")["y"]
