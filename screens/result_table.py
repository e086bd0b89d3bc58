"""A list of results a customer taps on a small screen: one tap chooses a row, and every column
fits the table's width, measured in display cells (a hanzi is two).

One tap: Textual's DataTable chooses a row (RowSelected) only when the row tapped already has
the cursor; the first tap on any other row only highlights it, and in a row table even a tap on
another column of the highlighted row counts as a move. A finger does not know that. Here the
press moves the cursor to the cell under it, so the click that follows is on the cursor and
chooses. Keys work as in any DataTable (arrows highlight, Enter chooses).

Widths: columns of kind KEEP (a code, a service, a price, a quantity) are never narrower than
their widest cell; the NAME and the WRAP (the spec) columns share what is left and, where that
is not enough for one line, wrap onto more lines of their row: nothing is cut, at 80x24 either.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from kiosk.i18n.textwidth import cell_width

KEEP, NAME, WRAP = "keep", "name", "wrap"
CELL_PADDING = 2  # DataTable's, one cell each side of every column
NAME_FLOOR = 10  # five hanzi, or "Multimeter"
WRAP_FLOOR = 8


def wrapped_lines(text: str, width: int) -> int:
    """The lines `text` takes in `width` cells, wrapped at spaces as Rich wraps it; a word too
    long for a line (Chinese has no spaces) is folded glyph by glyph from a line of its own."""
    lines, used = 0, 0
    for word in text.split():
        cells = cell_width(word)
        if lines and used + 1 + cells <= width:
            used += 1 + cells
        elif cells <= width:
            lines, used = lines + 1, cells
        else:
            lines, used = lines + 1, 0
            for glyph in word:
                if used + cell_width(glyph) > width:
                    lines, used = lines + 1, 0
                used += cell_width(glyph)
    return max(lines, 1)


def fit_widths(width: int, kinds: dict[str, str], rows: list[tuple[str, ...]],
               headers: dict[str, str]) -> dict[str, int]:
    """Each column's width in cells for a table `width` cells wide: KEEP columns as wide as their
    widest cell (header included); the NAME and WRAP columns share the rest so that the rows take
    the fewest lines."""
    keys = list(kinds)
    natural = {key: max([cell_width(headers.get(key, "")), *(cell_width(row[i]) for row in rows)])
               for i, key in enumerate(keys)}
    name, wrap = (keys.index(next(k for k in keys if kinds[k] == kind)) for kind in (NAME, WRAP))
    room = width - CELL_PADDING * len(keys) - sum(natural[k] for k in keys if kinds[k] == KEEP)
    if natural[keys[name]] + natural[keys[wrap]] <= room:
        return natural

    def lines(name_width: int) -> int:
        return sum(max(wrapped_lines(row[name], name_width), wrapped_lines(row[wrap], room - name_width))
                   for row in rows)

    choices = range(min(NAME_FLOOR, natural[keys[name]]), min(natural[keys[name]], room - WRAP_FLOOR) + 1)
    best = min(choices, key=lambda w: (lines(w), -w), default=min(NAME_FLOOR, natural[keys[name]]))
    return {**natural, keys[name]: best, keys[wrap]: max(room - best, WRAP_FLOOR)}


class ResultTable(DataTable):
    def __init__(self, columns: dict[str, str], **kwargs) -> None:
        """`columns`: each column's key and kind (KEEP, NAME, WRAP), in order."""
        super().__init__(cursor_type="row", **kwargs)
        self.kinds = columns
        self.headers: dict[str, str] = {}
        self.cells: list[tuple[str, ...]] = []
        self.fitted_width: int | None = None

    def show(self, headers: dict[str, str], rows: list[tuple[str, ...]]) -> None:
        """New headers (a language) or rows (a search): the cursor starts at the top."""
        self.headers, self.cells = headers, rows
        self.fit(cursor=0)

    def on_resize(self, event: events.Resize) -> None:
        if self.size.width != self.fitted_width:
            self.fit(cursor=self.cursor_row)

    def fit(self, cursor: int) -> None:
        self.fitted_width = self.size.width
        # The vertical scrollbar's cells are kept free: a list that grows past its height does
        # not push its last column out. Not laid out yet (0): fitted again at its first resize.
        widths = fit_widths(max(self.size.width - self.styles.scrollbar_size_vertical, 0), self.kinds, self.cells,
                            self.headers)
        self.clear(columns=True)
        for key in self.kinds:
            self.add_column(self.headers.get(key, ""), key=key, width=widths[key])
        for row in self.cells:
            tall = any(cell_width(cell) > widths[key] for key, cell in zip(self.kinds, row))
            # Text, not str: a catalogue's "[...]" is not markup
            self.add_row(*(Text(cell) for cell in row), height=None if tall else 1)
        if self.cells:
            self.move_cursor(row=min(cursor, len(self.cells) - 1))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        meta = event.style.meta
        row, column = meta.get("row"), meta.get("column")
        if row is None or column is None or not 0 <= row < self.row_count or column < 0:
            return  # the header, or below the rows
        self.cursor_coordinate = Coordinate(row, column)
