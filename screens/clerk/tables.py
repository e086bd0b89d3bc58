"""Lists at the clerk desk (follow-ups, the work list): a DataTable whose columns fit the
screen, measured in display cells, the first cell of a flagged row in the theme's error
colour. Customer text goes in as rich Text, never as markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from kiosk.textwidth import cell_width, truncate


def fit_columns(natural: list[int], shrinkable: dict[int, int], room: int) -> list[int]:
    """Column widths in cells: the natural ones, narrowed to fit `room` by cutting the
    `shrinkable` columns ({column: narrowest}) in that order, each down to its narrowest
    before the next one."""
    widths = list(natural)
    excess = sum(widths) - room
    for column, least in shrinkable.items():
        if excess <= 0:
            break
        cut = min(excess, max(0, widths[column] - least))
        widths[column] -= cut
        excess -= cut
    return widths


def fill_table(table: DataTable, headers: list[str], rows: list[list[str]], keys: list[str], *,
               shrinkable: dict[int, int], width: int, visible_rows: int, flagged: Sequence[bool],
               danger: str) -> None:
    """Columns and rows, from scratch. `width`: the screen's; `visible_rows`: about how many
    lines the table gets (a scroll bar takes room when the rows need more)."""
    table.clear(columns=True)
    natural = [max(cell_width(h), *(cell_width(r[i]) for r in rows)) for i, h in enumerate(headers)]
    # The screen less the body's padding (one cell either side), the scroll bar, and each
    # cell's padding (one either side).
    bar = 2 if len(rows) + 1 > visible_rows else 0
    widths = fit_columns(natural, shrinkable, max(40, width - 2 - bar - 2 * len(headers)))
    for header, w in zip(headers, widths, strict=True):
        table.add_column(truncate(header, w), width=w)
    for cells, key, flag in zip(rows, keys, flagged, strict=True):
        shown = [Text(truncate(c, w)) for c, w in zip(cells, widths, strict=True)]
        if flag:
            shown[0].stylize(danger)
        table.add_row(*shown, key=key)
