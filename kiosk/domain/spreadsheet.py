"""Rows for a CSV a person opens in a spreadsheet. A text cell that begins with = + - @, a tab or
a carriage return is read there as a formula (`=HYPERLINK(...)` in an organisation's name sends
whatever it is given elsewhere when clicked), and so is ＝ ＋ － ＠ (as a Chinese input method
types them) by a spreadsheet that folds full-width forms: OWASP's advice, a ' before it, which
the spreadsheet shows as text. Numbers stay numbers: -3.5 in an amount column is written -3.5.

Every CSV of tickets, ratings and due instruments (the desk's, `kiosk ...` and central's) is
written through `safe_row`; the fee catalogue's CSV is not: it is read back by programs, exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value):
    """`value` as a spreadsheet must take it: a text that could start a formula, quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    return [safe_cell(v) for v in values]
