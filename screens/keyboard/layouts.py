"""The keys of each layout, and which field gets which layout. Plain data: the widgets
(screens/keyboard/widgets.py) draw it, tests read it.

A key is named by what it types (a letter, a digit, a punctuation mark) or by what it does
(backspace, space, enter, ...); its weight is its share of the row's width. Rows are drawn one
cell tall at 80x24 and taller on a tall screen (keyboard.tcss)."""

from __future__ import annotations

from dataclasses import dataclass

PINYIN, LATIN, DIGITS = "pinyin", "latin", "digits"

# What a key does when it is not a character to type.
BACKSPACE, SPACE, ENTER = "backspace", "space", "enter"
MODE = "mode"  # 中/英: pinyin letters compose, or go into the field as they are
SYMBOLS = "symbols"  # 123: from pinyin to the Latin layout (digits, capitals, - / .)
TO_PINYIN = "to_pinyin"  # back from there
SHIFT = "shift"  # capitals or small letters on the Latin layout
SPLIT = "'"  # 分词: where one syllable ends (xi'an, not xian)
ACTIONS = (BACKSPACE, SPACE, ENTER, MODE, SYMBOLS, TO_PINYIN, SHIFT)

Row = tuple[tuple[str, int], ...]


def _keys(chars: str, weight: int = 2) -> Row:
    return tuple((ch, weight) for ch in chars)


def _gap(weight: int) -> Row:
    """Blank room at a row's ends: every row is 24 parts wide, so keys line up in size."""
    return ((GAP, weight),)


GAP = ""
LAYOUTS: dict[str, tuple[Row, ...]] = {
    PINYIN: (
        _keys("qwertyuiop") + ((BACKSPACE, 4),),
        _gap(1) + _keys("asdfghjkl") + ((SPLIT, 4),) + _gap(1),
        # Full-width brackets: registered names write 示范燃气（集团）有限公司 so.
        _gap(2) + _keys("zxcvbnm") + _keys("（）、") + _gap(2),
        ((SYMBOLS, 4), (MODE, 4), (SPACE, 10), (ENTER, 6)),
    ),
    LATIN: (
        _keys("1234567890") + ((BACKSPACE, 4),),
        _gap(1) + _keys("qwertyuiop") + _keys("-") + _gap(1),
        _gap(1) + _keys("asdfghjkl") + _keys("/.") + _gap(1),
        _gap(3) + _keys("zxcvbnm") + _keys("()") + _gap(3),
        ((TO_PINYIN, 4), (SHIFT, 4), (SPACE, 10), (ENTER, 6)),
    ),
    DIGITS: (
        _keys("123") + ((BACKSPACE, 2),),
        _keys("456-"),
        _keys("789."),
        _keys("0", 4) + ((ENTER, 4),),
    ),
}
OPTIONAL = frozenset("-.")  # on the digit pad only where the field takes them (FieldKeyboard.extras)


@dataclass(frozen=True)
class FieldKeyboard:
    """The keyboard a field gets: its layout, capitals first (codes, serial numbers) or small
    letters (a search that reads pinyin initials), which optional keys the digit pad shows, and
    whether it asks for a person's name (the candidates offer surname + given name: 王芳)."""

    layout: str
    upper: bool = True
    extras: str = ""
    person: bool = False


_TEXT = FieldKeyboard(PINYIN)
_CODE = FieldKeyboard(LATIN)
_SEARCH = FieldKeyboard(LATIN, upper=False)
_COUNT = FieldKeyboard(DIGITS)

# By the input's id. A field not listed gets no keyboard (the clerk desk's, say).
KEYBOARD_FOR: dict[str, FieldKeyboard] = {
    # the customer (screens/customer.py)
    "field-organisation": _TEXT, "field-contact": FieldKeyboard(PINYIN, person=True), "field-address": _TEXT,
    "field-credit_code": _CODE, "field-phone": FieldKeyboard(DIGITS, extras="-"),
    # the instruments (screens/instruments.py), the fee lookup: the search reads pinyin and initials
    "search": _SEARCH, "query": _SEARCH,
    # one instrument line (screens/line_editor.py)
    "field-quantity": _COUNT, "field-points": _COUNT, "field-ranges": _COUNT,
    "field-metres": FieldKeyboard(DIGITS, extras="."),
    "field-model": _CODE, "field-serial_number": _CODE, "field-manufacturer": _TEXT, "field-requirements": _TEXT,
    # the options (screens/options.py)
    "field-certificates": _COUNT, "field-certificate_name": _TEXT,
    # progress and feedback: a ticket number (or a scanner's code); the phone's last four digits
    "field-scan": _CODE, "field-digits": _COUNT,
    "field-reason_text": _TEXT, "field-comment": _TEXT,
    # the maintenance exit (screens/maintenance.py)
    "pin": _COUNT,
}

# The message keys of the keys that are words, not characters.
LABELS = {
    BACKSPACE: "keyboard.backspace", SPACE: "keyboard.space", SYMBOLS: "keyboard.symbols",
    TO_PINYIN: "keyboard.pinyin", SPLIT: "keyboard.split",
}

# A key's id (`#key-q`, `#key-backspace`) where its character cannot be one.
_ID_NAMES = {"'": "split", "-": "minus", ".": "dot", "/": "slash", "(": "lparen", ")": "rparen",
             "（": "lparen", "）": "rparen", "、": "comma"}


def key_id(name: str) -> str:
    return "key-" + _ID_NAMES.get(name, name)
