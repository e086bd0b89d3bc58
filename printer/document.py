"""A receipt as plain data: blocks in print order, no knowledge of tickets or printers.

Widths are receipt columns, decided by the renderer's profile at layout time; text here
is never pre-padded. Every text may hold Chinese; the layout measures it in columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """A paragraph, wrapped at the receipt width. `size` 2 is double width and height
    (a ticket number), which halves the columns available."""

    text: str
    align: Align = "left"
    bold: bool = False
    size: Literal[1, 2] = 1


@dataclass(frozen=True)
class Row:
    """A key and its value on one line, the value flush right (wrapped under it if long)."""

    key: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Column:
    """A table column: `weight` shares the width left after every column's `min_width`."""

    title: str
    align: Align = "left"
    weight: int = 1
    min_width: int = 4


@dataclass(frozen=True)
class Table:
    """Rows of cells, one per column; a cell too long for its column wraps inside it."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    header: bool = True


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the receipt."""

    char: str = "-"


@dataclass(frozen=True)
class QR:
    """A QR code of `data` (error correction M), centred, with blank lines around it."""

    data: str


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """Feed past the tear bar and cut (a partial cut where the printer has one)."""


Block = Text | Row | Table | Rule | QR | Feed | Cut


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    name: str = "receipt"  # for preview files and logs; never personal data
