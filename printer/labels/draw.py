"""Where everything goes on a label, in dots (203 dpi), and the label as an image.

The title (the ticket number) runs bold across the top, the first line across the whole width
under it, the other lines in a column beside the QR code, which sits in the bottom right corner
with room for its quiet zone. A line too long for its place wraps onto one more row, cut there
with "…". Text is drawn as the receipts' raster is (printer/raster.py: 12-dot columns, 24-dot
glyphs, each with the first font of the chain that has it, printer/fonts.py): label printers
rarely have a Chinese font, so every language prints as pixels, and the preview is what the
printer gets.

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
class LabelLayout:
    media: Media
    texts: tuple[Placed, ...]
    qr: QrPlace


def layout_label(label: Label, media: Media, fonts: FontChain) -> LabelLayout:
    """The label's pieces on `media`, drawn with `fonts` (printer.fonts.font_chain)."""
    slot = QR_MODULE * qr_modules(label.qr)
    qr = QrPlace(media.width - MARGIN - slot, media.height - MARGIN - slot, QR_MODULE, slot, label.qr)
    painter = raster.painter(fonts)
    full = media.width - 2 * MARGIN
    texts = [_row(painter, label.title, MARGIN, full, bold=True)]
    y = MARGIN + ROW
    for i, line in enumerate(label.lines):
        width = qr.x - QR_GAP - MARGIN if i > 0 or y + ROW > qr.y else full
        for part in _wrap(line, width // raster.COLUMN_DOTS):
            if y + ROW > media.height - MARGIN:
                break  # no room left on the label: the QR code and the lines above say enough
            texts.append(_row(painter, part, y, width))
            y += ROW
    return LabelLayout(media, tuple(t for t in texts if t is not None), qr)


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
