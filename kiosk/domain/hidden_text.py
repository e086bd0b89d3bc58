"""Hidden characters (controls, invisible format characters) in text this system keeps, apart from
the rest of kiosk/domain/validation.py (which re-exports them): the institute's file is checked with
them before the kiosk's first frame, and validation's patterns are compiled as its module is imported
(some 5 M instructions of the cold start, bench/startup.py), not needed until a customer types.

Pure: no database, no Textual."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable


def hidden(ch: str) -> bool:
    """A control or invisible format character (ESC, U+202E RIGHT-TO-LEFT OVERRIDE, a zero-width
    space...): never in a text this system keeps, whoever typed it."""
    return unicodedata.category(ch) in ("Cc", "Cf")


def hidden_at(value: object, where: str, refused: Callable[[str], bool] = hidden) -> str | None:
    """Where in JSON-like data (strings, in dicts, keys too, and lists) the first character
    `refused` finds is, as a path from `where` (payload.lines[0].model), else None: text another
    node wrote, checked as this node checks what is typed (every refused character is one
    `str.isprintable` is false for: most texts pass at C speed)."""
    if isinstance(value, str):
        return where if not value.isprintable() and any(map(refused, value)) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and not key.isprintable() and any(map(refused, key)):
            return f"{where}.{key!r}"
        found = hidden_at(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}", refused)
        if found:
            return found
    return None
