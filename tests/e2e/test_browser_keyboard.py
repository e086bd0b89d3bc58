"""The on-screen keyboard under `kiosk serve`, in Chromium with a touch screen: a contact's name and
a phone typed with taps alone (no page.keyboard), as on the lobby's panel, which has neither a
keyboard nor an input method. Reads xterm.js's screen buffer as test_browser.py does."""

from __future__ import annotations

from playwright.sync_api import Page

from .test_browser import (  # served: the fixture, `kiosk serve` on a free port
    TIMEOUT_MS,
    kiosk_page,
    served,  # noqa: F401
    tap,
    where,
)

# Where a key is: the row of the on-screen keyboard holding `marker` (a word key of that row,
# unique on the screen), and in it `label` standing alone between blanks, as a key cap draws it.
KEY = """([marker, label]) => {
  const term = window.kioskTerminal;
  if (!term || !term.element) return null;
  const buffer = term.buffer.active;
  const box = term.element.querySelector(".xterm-screen").getBoundingClientRect();
  const cw = box.width / term.cols, ch = box.height / term.rows;
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    if (!line) continue;
    let row = "", starts = [];
    for (let x = 0; x < line.length; x++) {
      const cell = line.getCell(x);
      if (cell.getWidth() === 0) continue;
      const chars = cell.getChars() || " ";
      for (let i = 0; i < chars.length; i++) starts.push(x);
      row += chars;
    }
    if (row.indexOf(marker) < 0) continue;
    const at = row.indexOf(" " + label + " ");
    if (at < 0) return null;
    return {px: box.left + (starts[at + 1] + 0.5) * cw, py: box.top + (y + 0.5) * ch};
  }
  return null;
}"""
ROWS = {**dict.fromkeys("qwertyuiop", "删除"), **dict.fromkeys("asdfghjkl", "分词"),
        **dict.fromkeys("zxcvbnm", "、")}  # the pinyin layout's rows, by a word key on each


def tap_key(page: Page, marker: str, label: str) -> None:
    spot = page.wait_for_function(KEY, arg=[marker, label], timeout=TIMEOUT_MS).json_value()
    page.touchscreen.tap(spot["px"], spot["py"])


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
