"""Display width in terminal cells / receipt columns: a Chinese character takes two.

Unicode "ambiguous" characters (“ ” · — ×) count as one cell, as Textual counts them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def truncate(text: str, width: int, ellipsis: str = "…") -> str:
    """Cut to at most `width` cells, never through a double-width glyph."""
    if cell_width(text) <= width:
        return text
    room = width - cell_width(ellipsis)
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + (ellipsis if room >= 0 else "")


def pad(text: str, width: int, align: str = "<") -> str:
    """Truncate and pad to exactly `width` cells."""
    text = truncate(text, width)
    gap = " " * (width - cell_width(text))
    return gap + text if align == ">" else text + gap
