"""Characters the printer's font lacks, drawn once as user-defined characters (`ESC &`) and
then printed as text: how a printer without a Chinese font (Epson TM-T20III and its kind,
profiles `-ascii`) prints Chinese.

Why not draw the line: a line with one hanzi sent as a `GS v 0` image costs its whole width
in dots times its height (~1.2 KB on 58 mm paper), and a 3-line ticket is ~35 lines with
hanzi: 48 KB, 50 s at 9600 baud. A hanzi as user-defined characters costs 74 B the first
time it is needed (two 12x24-dot cells, 37 B each) and 2 B every time after, and the ASCII
around it stays in the printer's font: the same ticket is 11.5 KB, 12 s (bench/printing.py).

Slots: the 95 codes 0x20-0x7E of font A (12x24 dots, `ESC & 3`: y = 3 bytes a column,
32 <= c1 <= c2 <= 126, x <= 12, as Epson's TM manuals and the clones' give it; definitions
last until `ESC @`, `ESC ?` or power-off, the job's `ESC @` starts it clean). A character of two
columns takes two cells, its left and right half. Before a line, every cell it needs that
is not defined is defined, in a free slot or else the one whose cell is needed again
latest, or never, by the lines still to print (the job is known whole: the fewest
definitions: the bench's 3-line ticket defines each of its 260 cells once, where the
slot used longest ago would define 283). Definitions go out only between lines (after the
LF that printed the previous one, so the print buffer is empty): a redefinition never
changes a character still waiting to print.
In the line, each run of such cells is sent between `ESC % 1` and `ESC % 0` (user-defined
set on, off), so every other character is the resident font's.

The glyphs are the raster painter's (`raster.Painter`: the same fonts, fallback and boxed
"?" as drawn lines and the preview), the top 24 of its 30-dot line: the cell's height.
Bold and size 2 are the printer's own (`ESC E`, `GS !`), as for its resident characters.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .raster import CELL_DOTS, COLUMN_DOTS
from .width import clusters, columns_of

if TYPE_CHECKING:
    from .raster import Painter

SLOTS = range(0x20, 0x7F)
BYTES_DOWN = CELL_DOTS // 8  # ESC & y: bytes per column of a 24-dot cell
ESC_DEFINE = b"\x1b&" + bytes((BYTES_DOWN,))  # + c1 c2, then per code: x, x * y bytes
USER_SET = {True: b"\x1b%\x01", False: b"\x1b%\x00"}
Cell = tuple[str, int]  # a cluster and which of its columns


class UserChars:
    """The user-defined characters of one print job: which cell each slot holds."""

    def __init__(self, painter: Painter, texts: Iterable[str]) -> None:
        """`texts`: the lines that will be `define`d, in order."""
        self.painter = painter
        self._lines = [_needed(text) for text in texts]
        self._uses: dict[Cell, deque[int]] = {}  # the lines still to print that need each cell
        for number, needed in enumerate(self._lines):
            for cell in needed:
                self._uses.setdefault(cell, deque()).append(number)
        self._line = 0
        self._slots: dict[Cell, int] = {}
        self._free = list(reversed(SLOTS))

    def define(self, text: str) -> bytes:
        """`ESC &` for the cells of `text` (the next of `texts`) not defined yet; send it before the line."""
        needed = self._lines[self._line]
        assert needed == _needed(text), "lines defined in another order than announced"
        if len(needed) > len(SLOTS):
            raise ValueError(f"a line needs {len(needed)} user-defined characters; the printer has {len(SLOTS)}")
        for cell in needed:
            self._uses[cell].popleft()
        self._line += 1
        new: dict[int, Cell] = {}
        for cell in needed:
            if cell not in self._slots:
                code = self._free.pop() if self._free else self._evict(needed)
                self._slots[cell] = code
                new[code] = cell
        return b"".join(self._definition(run, new) for run in _runs(sorted(new)))

    def encode(self, segment: str) -> bytes:
        """A piece of a line whose cells `define` has sent: ASCII as itself, the rest as codes."""
        out, user = [], False
        for cluster in clusters(segment):
            if cluster.isascii() == user:
                out.append(USER_SET[not user])
                user = not user
            out.append(cluster.encode("ascii") if not user else bytes(self._slots[c] for c in _cells(cluster)))
        if user:
            out.append(USER_SET[False])
        return b"".join(out)

    def _evict(self, needed: dict[Cell, None]) -> int:
        """The slot of the cell needed again latest, or never; never one of this line's."""
        never = len(self._lines)
        cell = max((c for c in self._slots if c not in needed),
                   key=lambda c: self._uses[c][0] if self._uses[c] else never)
        return self._slots.pop(cell)

    def _definition(self, codes: list[int], new: dict[int, Cell]) -> bytes:
        body = b"".join(bytes((COLUMN_DOTS,)) + self._bitmap(new[code]) for code in codes)
        return ESC_DEFINE + bytes((codes[0], codes[-1])) + body

    def _bitmap(self, cell: Cell) -> bytes:
        """The cell's 12 columns, each 3 bytes from top to bottom, the top dot the high bit."""
        from PIL import Image

        cluster, column = cell
        cols = columns_of(cluster)
        glyph = self.painter.glyph(cluster, cols)
        if glyph is None:
            return bytes(COLUMN_DOTS * BYTES_DOWN)
        left = column * COLUMN_DOTS
        piece = glyph.crop((left, 0, left + COLUMN_DOTS, CELL_DOTS))
        return piece.transpose(Image.Transpose.TRANSPOSE).tobytes()  # a row per column, packed MSB first


def _needed(text: str) -> dict[Cell, None]:
    """The cells a line needs, in order, once each."""
    return dict.fromkeys(cell for cluster in clusters(text) if not cluster.isascii() for cell in _cells(cluster))


def _cells(cluster: str) -> list[Cell]:
    return [(cluster, i) for i in range(columns_of(cluster))]


def _runs(codes: list[int]) -> list[list[int]]:
    """Consecutive codes together: one `ESC &` header for each run."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][-1] == code - 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return runs
