"""Where everything goes on a label, in dots (203 dpi), and the label as an image.

The QR code sits in the bottom right corner with room for its quiet zone; above it, in the same
column from the top, one row per box: its caption and a box for the lab to tick by hand (待检 在检
已检: ISO/IEC 17025 §7.4.2 wants the item's state known while the lab holds it). The boxes are
filled rectangles (`Bar`), drawn as each printer's own graphics, so no font can turn them into
something else. The title (the ticket number) runs bold across the top, the lines under it, each
row as wide as the boxes or the QR code beside it leave. A line too long for its place wraps
onto one more row, cut there with "…". Text is drawn as the receipts' raster is
(printer/raster.py: 12-dot columns, 24-dot glyphs, each with the first font of the chain that
has it, printer/fonts.py): label printers rarely have a Chinese font, so every language prints
as pixels, and the preview is what the printer gets.

Images are ink images (mode "1", 1 = black dot), as in printer/raster.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import raster
from ..layout import TextLine
from ..width import columns_of, sanitize, truncate, wrap
from .document import Label, Media

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ..fonts import FontChain

MARGIN = 12  # dots kept clear at every edge (1.5 mm): label printers do not print to the edge
ROW = raster.line_dots()  # dots of label per row of text (30)
QR_MODULE = 4  # dots per module: 0.5 mm, read by any scanner
QR_GAP = 12  # dots between the text column and the QR code (with the margins: its quiet zone)
ROWS_PER_LINE = 2  # a long line (an instrument's name) wraps onto one more row at most
BOX = 20  # dots a side of a box to tick (2.5 mm: room for a pen's tick)
BOX_LINE = 2  # dots of its outline
CAPTION_GAP = 8  # dots between a box's caption and the box


@dataclass(frozen=True)
class Placed:
    """An ink image at (x, y) on the label."""

    x: int
    y: int
    image: PILImage.Image


@dataclass(frozen=True)
class QrPlace:
    """The QR code of `data`, its top-left module at (x, y), `module` dots a module, in a square
    of `slot` dots (the largest symbol a printer's own QR command may choose for it)."""

    x: int
    y: int
    module: int
    slot: int
    data: str


@dataclass(frozen=True)
class Bar:
    """A filled rectangle of ink: a box's outline is four, a ticked box one."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class LabelLayout:
    media: Media
    texts: tuple[Placed, ...]
    qr: QrPlace
    bars: tuple[Bar, ...] = ()


def layout_label(label: Label, media: Media, fonts: FontChain) -> LabelLayout:
    """The label's pieces on `media`, drawn with `fonts` (printer.fonts.font_chain). Raises
    ValueError when its boxes do not fit above the QR code."""
    slot = QR_MODULE * qr_modules(label.qr)
    qr = QrPlace(media.width - MARGIN - slot, media.height - MARGIN - slot, QR_MODULE, slot, label.qr)
    painter = raster.painter(fonts)
    captions, bars = _boxes(painter, label, media, qr)
    # What stands right of the text, as (where the text must end, from y, to y): the boxes' rows
    # (their captions' left edge), the QR code with its quiet zone.
    beside = [(qr.x - QR_GAP, qr.y - QR_GAP, qr.y + slot)]
    if bars:
        left = min([c.x for c in captions] + [b.x for b in bars])
        beside.append((left - QR_GAP, MARGIN, MARGIN + len(label.boxes) * ROW))

    def room(y: int) -> int:
        """Dots across a row of text at `y`, up to what stands beside it."""
        ends = [end for end, top, bottom in beside if top < y + ROW and y < bottom]
        return min(ends, default=media.width - MARGIN) - MARGIN

    texts = [_row(painter, label.title, MARGIN, room(MARGIN), bold=True)]
    y = MARGIN + ROW
    for line in label.lines:
        parts = _wrap(line, room(y) // raster.COLUMN_DOTS)
        if len(parts) > 1:  # as narrow as the narrowest row it takes
            width = min(room(y + k * ROW) for k in range(ROWS_PER_LINE))
            parts = _wrap(line, width // raster.COLUMN_DOTS)
        for part in parts:
            if y + ROW > media.height - MARGIN:
                break  # no room left on the label: the QR code and the lines above say enough
            texts.append(_row(painter, part, y, room(y)))
            y += ROW
    return LabelLayout(media, tuple(t for t in [*texts, *captions] if t is not None), qr, tuple(bars))


def _boxes(painter: raster.Painter, label: Label, media: Media, qr: QrPlace) -> tuple[list[Placed], list[Bar]]:
    """One row per box, from the top, in the QR code's column: the caption, then the box flush
    with the QR code's right edge, level with the text rows beside it."""
    if MARGIN + len(label.boxes) * ROW + QR_GAP > qr.y:
        raise ValueError(f"{len(label.boxes)} boxes do not fit above the QR code on {media.name}")
    x = media.width - MARGIN - BOX
    captions: list[Placed] = []
    bars: list[Bar] = []
    for i, caption in enumerate(label.boxes):
        y = MARGIN + i * ROW
        top = y + (raster.CELL_DOTS - BOX) // 2  # level with the caption's glyphs
        image = painter.line_image(TextLine(sanitize(caption)), qr.slot - BOX - CAPTION_GAP)
        placed = _flush_right(image, x - CAPTION_GAP, y)
        if placed is not None:
            captions.append(placed)
        if i == label.ticked:
            bars.append(Bar(x, top, BOX, BOX))
        else:
            bars += [Bar(x, top, BOX, BOX_LINE), Bar(x, top + BOX - BOX_LINE, BOX, BOX_LINE),
                     Bar(x, top + BOX_LINE, BOX_LINE, BOX - 2 * BOX_LINE),
                     Bar(x + BOX - BOX_LINE, top + BOX_LINE, BOX_LINE, BOX - 2 * BOX_LINE)]
    return captions, bars


def _flush_right(image: PILImage.Image, right: int, y: int) -> Placed | None:
    """A row drawn at `y`, cut to its ink (whole bytes wide, paper on the left), ending at `right`;
    None: no ink."""
    box = image.getbbox()
    if box is None:
        return None
    left, top, ink_right, bottom = box
    width = -(-(ink_right - left) // 8) * 8
    return Placed(right - width, y + top, image.crop((ink_right - width, top, ink_right, bottom)))


def qr_modules(data: str) -> int:
    """Modules across the QR code of `data` at level M, as large as a printer's own QR command
    may make it (byte mode; ours would choose alphanumeric, never larger)."""
    return 17 + 4 * raster._byte_mode_version(len(data.encode("utf-8")))


def qr_image(data: str, module: int = QR_MODULE) -> PILImage.Image:
    """The QR code of `data` as an ink image, without its quiet zone (the label's blank is)."""
    from PIL import Image

    matrix = raster.qr_matrix(data)
    q = raster.QUIET_ZONE
    inner = [row[q:len(row) - q] for row in matrix[q:len(matrix) - q]]
    m = len(inner)
    small = Image.new("1", (m, m), 0)
    small.putdata([255 if dark else 0 for row in inner for dark in row])
    code = small.resize((m * module, m * module), Image.Resampling.NEAREST)
    padded = Image.new("1", (-(-code.width // 8) * 8, code.height), 0)  # whole bytes, for a bitmap
    padded.paste(code, (0, 0))
    return padded


def label_image(placed: LabelLayout) -> PILImage.Image:
    """The whole label as an ink image, QR code included (the preview; a printer's own QR
    command draws the same symbol, perhaps one version larger, from the same corner)."""
    from PIL import Image

    page = Image.new("1", (placed.media.width, placed.media.height), 0)
    for piece in placed.texts:
        page.paste(piece.image, (piece.x, piece.y))
    for bar in placed.bars:
        page.paste(1, (bar.x, bar.y, bar.x + bar.width, bar.y + bar.height))
    page.paste(qr_image(placed.qr.data, placed.qr.module), (placed.qr.x, placed.qr.y))
    return page


def _wrap(text: str, columns: int) -> list[str]:
    """`text` in rows of at most `columns`, at most ROWS_PER_LINE of them, the last cut with "…"."""
    rows = [row.rstrip(" ") for row in wrap(sanitize(text), columns)]
    if len(rows) > ROWS_PER_LINE:
        last = truncate(rows[ROWS_PER_LINE - 1], columns - columns_of("…")).rstrip(" ")
        rows = [*rows[:ROWS_PER_LINE - 1], last + "…"]
    return rows


def _row(painter: raster.Painter, text: str, y: int, width: int, *, bold: bool = False) -> Placed | None:
    """One row of text at `y`, as an ink image cut to its ink (whole bytes wide); None: no ink."""
    image = painter.line_image(TextLine(text, bold=bold), width)
    box = image.getbbox()
    if box is None:
        return None
    return Placed(MARGIN, y + box[1], raster.trim_right(image.crop((0, box[1], image.width, box[3]))))
