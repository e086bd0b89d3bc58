"""A document laid out in receipt columns: the lines every renderer prints the same way.

`layout(document, profile)` wraps and aligns everything by receipt columns (`width.py`:
ASCII 1, anything else 2), so the ESC/POS bytes, the raster image, the preview PNG and
the plain text show the same lines, cut at the same places.

* A `TextLine` holds what prints on one line, in the line's own columns: `profile.columns`
  for size 1, half of it for size 2 (double width). Alignment is already done with
  leading spaces; trailing spaces are stripped (they would only cost bytes). Text is
  sanitized (`width.sanitize`): what the line holds is exactly what prints.
* A `Rule` becomes a `TextLine` of its character across the width.
* A `Row` is key and value on one line, the value flush right; a long value wraps into
  the space right of the key, each part flush right, or (key too long) under the key.
* A `Table`: column widths from `min_width` plus a `weight` share of what is left
  (one space between columns); a cell wraps inside its column; columns align by columns.
* `QRLine`, `FeedLine`, `CutLine` pass through; each renderer draws them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from .document import QR, Align, Cut, Document, Feed, Row, Rule, Table, Text
from .profiles import Profile
from .width import columns_of, fix_surrogates, pad, sanitize, truncate, wrap


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str  # sanitized, aligned with leading spaces, no trailing spaces
    bold: bool = False
    size: int = 1  # 2: double width and height; `text` is then at most columns // 2 wide
    align: Align = "left"  # how `text` was aligned (the plain-text renderer re-aligns size 2)

    @property
    def dots_columns(self) -> int:
        """Columns of font A this line covers on paper (size 2 counts double)."""
        return columns_of(self.text) * self.size


@dataclass(frozen=True, slots=True)
class QRLine:
    data: str


@dataclass(frozen=True, slots=True)
class FeedLine:
    lines: int


@dataclass(frozen=True, slots=True)
class CutLine:
    pass


Line = TextLine | QRLine | FeedLine | CutLine

MIN_COLUMN = 2  # a table column holds at least one Chinese character


def layout(document: Document, profile: Profile) -> list[Line]:
    width = profile.columns
    out: list[Line] = []
    for block in document.blocks:
        if isinstance(block, Text):
            out += _text(block, width)
        elif isinstance(block, Row):
            out += _row(block, width)
        elif isinstance(block, Table):
            out += _table(block, width)
        elif isinstance(block, Rule):
            char = sanitize(block.char).replace("\n", "") or "-"
            out.append(TextLine(truncate(char * width, width).rstrip(" ")))
        elif isinstance(block, QR):
            if block.data:
                out.append(QRLine(fix_surrogates(block.data)))  # else exactly the data
        elif isinstance(block, Feed):
            if block.lines > 0:
                out.append(FeedLine(block.lines))
        elif isinstance(block, Cut):
            out.append(CutLine())
        else:
            raise TypeError(f"not a receipt block: {block!r}")
    return out


def paragraph_lines(text: str, width: int) -> list[str]:
    """Sanitized `text` wrapped into display lines (no trailing spaces) of at most `width`.
    A paragraph's indent (leading spaces, up to half the width) is kept on every line."""
    lines: list[str] = []
    for paragraph in sanitize(text).split("\n"):
        body = paragraph.lstrip(" ")
        indent = len(paragraph) - len(body)
        if indent and indent <= width // 2 and columns_of(paragraph) > width:
            lines += [" " * indent + part.rstrip(" ") for part in wrap(body, width - indent)]
        else:
            lines += [part.rstrip(" ") for part in wrap(paragraph, width)]
    return lines


def _text(block: Text, width: int) -> list[TextLine]:
    size = 2 if block.size == 2 else 1
    own = width // size
    out = []
    for line in paragraph_lines(block.text, own):
        if block.align != "left":
            line = pad(line.lstrip(" "), own, block.align).rstrip(" ")
        out.append(TextLine(line, block.bold, size, block.align))
    return out


def _row(block: Row, width: int) -> list[TextLine]:
    key = sanitize(block.key).replace("\n", " ").strip(" ")
    value = sanitize(block.value).replace("\n", " ").strip(" ")
    kw, vw = columns_of(key), columns_of(value)
    bold = block.bold
    if kw + 1 + vw <= width:
        return [TextLine((key + " " * (width - kw - vw) + value).rstrip(" "), bold)]
    room = width - kw - 1
    if kw <= width // 2 and room >= 2:  # the value wraps right of the key, flush right
        parts = paragraph_lines(value, room)
        out = [TextLine(key + pad(parts[0], width - kw, "right"), bold)]
        out += [TextLine(pad(p, width, "right"), bold) for p in parts[1:]]
        return out
    out = [TextLine(k, bold) for k in paragraph_lines(key, width)]
    if value:
        out += [TextLine(pad(p, width, "right"), bold) for p in paragraph_lines(value, width)]
    return out


def column_widths(table: Table, width: int) -> list[int]:
    """Each column's width: its `min_width` (at least 2), then what is left shared by `weight`;
    all weights 0: the rest goes to the first column. Columns too wide together shrink,
    widest first, down to 2 columns each."""
    n = len(table.columns)
    if n == 0:
        return []
    avail = width - (n - 1)  # one space between columns
    if avail < MIN_COLUMN * n:
        raise ValueError(f"{n} table columns do not fit in {width} receipt columns")
    widths = [max(MIN_COLUMN, c.min_width) for c in table.columns]
    while sum(widths) > avail:
        widest = max(range(n), key=lambda i: widths[i])
        widths[widest] -= 1
    extra = avail - sum(widths)
    weights = [max(0, c.weight) for c in table.columns]
    total = sum(weights)
    if extra and total == 0:
        widths[0] += extra
    elif extra:
        shares = [extra * w // total for w in weights]
        left = extra - sum(shares)
        for i in range(n):  # the remainder, one column each, to the weighted columns in order
            if left and weights[i]:
                shares[i] += 1
                left -= 1
        widths = [w + s for w, s in zip(widths, shares)]
    return widths


def _table(table: Table, width: int) -> list[TextLine]:
    widths = column_widths(table, width)
    aligns = [c.align for c in table.columns]
    out: list[TextLine] = []
    if table.header:
        out += _table_row([c.title for c in table.columns], widths, aligns, bold=True)
    for row in table.rows:
        cells = list(row[: len(widths)]) + [""] * (len(widths) - len(row))
        out += _table_row(cells, widths, aligns, bold=False)
    return out


def _table_row(cells: list[str], widths: list[int], aligns: list[Align], bold: bool) -> list[TextLine]:
    wrapped = []
    for cell, w, align in zip(cells, widths, aligns):
        lines = paragraph_lines(cell, w)
        if align != "left":
            lines = [line.lstrip(" ") for line in lines]
        wrapped.append(lines)
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = [pad(lines[i] if i < len(lines) else "", w, align)
                 for lines, w, align in zip(wrapped, widths, aligns)]
        out.append(TextLine(" ".join(parts).rstrip(" "), bold))
    return out
