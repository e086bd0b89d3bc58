"""Laid-out lines drawn as 1-bit images: for printers without a Chinese font, and the preview.

Geometry is the printer's font A: a column is 12 dots wide and a glyph cell 24 dots high,
so an ASCII character gets 12 dots and any other character 24; size 2 doubles both. A
line takes `PITCH` (30) dots of paper per size, as text lines do on the printer (24-dot
characters at its default 1/6-inch line spacing): the 6 dots under the cell give room for
descenders. Bold is simulated by drawing each glyph twice, one dot apart.

Images here are "ink" images: mode "1", 1 = black dot, 0 = paper, which is the bit order
of ESC/POS raster data (`GS v 0`); `to_paper` turns one into black-on-white for a PNG.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, cast

from .layout import TextLine
from .width import clusters, columns_of

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from .fonts import FontChain

log = logging.getLogger(__name__)

COLUMN_DOTS = 12
CELL_DOTS = 24
PITCH = 30  # dots of paper per text line at size 1
QUIET_ZONE = 4  # modules of light margin around a QR code
MIN_MODULE = 4  # dots per QR module, at least: thinner modules scan poorly on thermal paper
MAX_MODULE = 6  # and at most: 4 modules of quiet zone (24 dots) fit in one blank line
GS_V0 = b"\x1dv0"
# Glyphs a painter keeps drawn, the least recently used dropped first: every character of every
# name and address ever printed would otherwise stay for the life of the kiosk (3,000 hanzi:
# 3.5 MB at size 1, 12.6 MB at size 2). A receipt's own wording, digits and the names being
# printed fit many times over.
GLYPHS_KEPT = 2048

_INVERT = bytes(255 - i for i in range(256))


def line_dots(size: int = 1) -> int:
    return PITCH * size


@dataclass
class Painter:
    """Draws text lines with a chain of fonts (`fonts.FontChain`): each glyph with the first
    font that has it, drawn once and reused while among the GLYPHS_KEPT last used. A glyph
    wider than its cell (a Latin font's `W`, `€`) is narrowed to the cell; a cluster no font
    has is a boxed "?" the width of its columns, logged by code point when drawn (never the
    text around it: it may be personal)."""

    fonts: FontChain
    _glyphs: OrderedDict = field(default_factory=OrderedDict, repr=False)  # at most GLYPHS_KEPT
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def line_image(self, line: TextLine, width: int) -> PILImage.Image:
        """The line across `width` dots, `line_dots(size)` high; ink beyond `width` is cut."""
        from PIL import Image

        size = line.size
        img = Image.new("1", (width, line_dots(size)), 0)
        x = 0
        step = COLUMN_DOTS * size
        for cluster in clusters(line.text):
            cols = columns_of(cluster)
            if cluster != " ":
                glyph = self.glyph(cluster, cols, size, line.bold)
                if glyph is not None and x < width:
                    img.paste(255, (x, 0), glyph)
            x += cols * step
        return img

    def glyph(self, cluster: str, cols: int, size: int = 1, bold: bool = False):
        """The ink of `cluster` in its cell (`cols` columns, `line_dots(size)` high), None if blank."""
        key = (cluster, size, bold)
        glyphs = self._glyphs
        with self._lock:  # one painter per font chain, shared by the print and label workers
            if key in glyphs:
                glyphs.move_to_end(key)
                return glyphs[key]
            glyph = glyphs[key] = self._draw_glyph(cluster, cols, size, bold)
            while len(glyphs) > GLYPHS_KEPT:
                glyphs.popitem(last=False)
            return glyph

    def _draw_glyph(self, cluster: str, cols: int, size: int, bold: bool):
        from PIL import Image, ImageDraw

        from .fonts import load_font

        cell_w = cols * COLUMN_DOTS * size
        if cell_w == 0:
            return None
        path = self.fonts.font_for(cluster)
        if path is None:
            if cluster.isspace():
                return None  # a space nobody has still prints as a space
            log.warning("no receipt font has %s: printed as a boxed ?",
                        " ".join(f"U+{ord(ch):04X}" for ch in cluster))
            return self._replacement(cell_w, size)
        font = load_font(path, CELL_DOTS * size)
        advance = font.getlength(cluster)
        canvas_w = max(cell_w, int(advance) + 2 * size + 1)  # room for a glyph wider than its cell
        cell = Image.new("L", (canvas_w, line_dots(size)), 0)
        draw = ImageDraw.Draw(cell)
        x = max(0.0, (cell_w - advance) / 2)  # centred: proportional fonts, odd glyphs
        y = _baseline(self.fonts, size)
        draw.text((x, y), cluster, fill=255, font=font, anchor="ls")
        plain = cell.getbbox()
        if bold:
            draw.text((x + size, y), cluster, fill=255, font=font, anchor="ls")
        if plain is None:
            return None
        if plain[2] <= cell_w:  # it fits (bold's extra dot past the cell is cut, as the printer does)
            cell = cell.crop((0, 0, cell_w, cell.height))
        else:  # too wide: its ink, narrowed to the cell
            box = cell.getbbox()
            assert box is not None  # `plain` had ink, and the bold stroke only added to it
            ink = cell.crop((box[0], 0, box[2], cell.height))
            cell = ink.resize((min(cell_w, ink.width), cell.height), Image.Resampling.LANCZOS)
            if cell.width < cell_w:
                wide = Image.new("L", (cell_w, cell.height), 0)
                wide.paste(cell, ((cell_w - cell.width) // 2, 0))
                cell = wide
        mask = cell.point(lambda v: 255 if v >= 128 else 0, mode="1")
        return mask if mask.getbbox() else None

    def _replacement(self, cell_w: int, size: int):
        """A "?" in a frame filling the glyph cell: visibly not the character asked for."""
        from PIL import Image, ImageDraw

        from .fonts import load_font

        cell = Image.new("1", (cell_w, line_dots(size)), 0)
        draw = ImageDraw.Draw(cell)
        draw.rectangle((size, size, cell_w - 1 - size, CELL_DOTS * size - 1), outline=255, width=size)
        mark = self.fonts.font_for("?")
        if mark is not None:
            font = load_font(mark, (CELL_DOTS - 6) * size)
            draw.text((cell_w / 2, _baseline(self.fonts, size) - 2 * size), "?", fill=255, font=font, anchor="ms")
        return cell


@lru_cache(maxsize=8)
def _baseline(fonts: FontChain, size: int) -> int:
    """Where the baseline goes, the same for every font of the chain so that they line up:
    a hanzi of the font drawing hanzi fills the 24-dot cell, its ink box centred."""
    from .fonts import load_font

    path = fonts.font_for("国")
    if path is None:
        return round(CELL_DOTS * size * 0.88)  # the ideographic em box of most CJK fonts
    font = load_font(path, CELL_DOTS * size)
    top, bottom = font.getbbox("国", anchor="ls")[1::2]
    if bottom - top <= 0 or bottom - top > CELL_DOTS * size:
        return round(CELL_DOTS * size * 0.88)
    return (CELL_DOTS * size - (bottom - top) + 1) // 2 - top


@lru_cache(maxsize=4)
def painter(fonts: FontChain) -> Painter:
    return Painter(fonts)


# --- QR codes ------------------------------------------------------------------------------


def module_size(modules: int, width: int) -> int:
    """Dots per module so that the code and its quiet zone fit `width`: the largest up to
    `MAX_MODULE`, at least `MIN_MODULE` (else ValueError: too much data for this paper)."""
    n = min(MAX_MODULE, width // (modules + 2 * QUIET_ZONE))
    if n < MIN_MODULE:
        raise ValueError(f"a QR code of {modules} modules does not fit {width} dots at {MIN_MODULE} dots per module")
    return n


def native_module_size(data: str, width: int) -> int:
    """Module size for the printer's own QR (`GS ( k`). The printer chooses the version;
    we size for the largest it could choose (byte mode, error correction M)."""
    return module_size(17 + 4 * _byte_mode_version(len(data.encode("utf-8"))), width)


@lru_cache(maxsize=256)
def _byte_mode_version(length: int) -> int:
    """The smallest QR version holding `length` bytes in byte mode at level M (it depends
    on the length only, hence the cache)."""
    import qrcode
    from qrcode.exceptions import DataOverflowError
    from qrcode.util import MODE_8BIT_BYTE, QRData

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    # The cast is true (MODE_8BIT_BYTE is 4): types-qrcode declares it a plain int, while its own
    # QRData(mode=) asks for the mode's Literal (as central/public/prepare.py ALPHA_NUM).
    code.add_data(QRData(b"\0" * length, mode=cast(Literal[4], MODE_8BIT_BYTE)))
    try:
        return code.best_fit()
    except (DataOverflowError, ValueError):  # qrcode 8.2 says "Invalid version (was 41 ...)"
        raise ValueError(f"{length} bytes are more than a QR code holds") from None


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR modules of `data` (error correction M), quiet zone included."""
    import qrcode
    from qrcode.exceptions import DataOverflowError

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(data)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError):  # qrcode 8.2 says "Invalid version (was 41 ...)"
        raise ValueError(f"{len(data)} characters are more than a QR code holds") from None
    return code.get_matrix()


def qr_image(data: str, width: int, module: int | None = None) -> PILImage.Image:
    """An ink image of the QR code with its quiet zone, as wide as `width` (centred);
    `module` dots per module, by default `MIN_MODULE`. Raises ValueError when it does not fit."""
    from PIL import Image

    symbol = qr_symbol(data, width, module)
    margin = QUIET_ZONE * (module or MIN_MODULE)
    img = Image.new("1", (width, symbol.height + 2 * margin), 0)
    img.paste(symbol, ((width - symbol.width) // 2, margin))
    return img


def qr_symbol(data: str, width: int, module: int | None = None) -> PILImage.Image:
    """The QR code alone, no quiet zone, `module` dots per module (by default `MIN_MODULE`):
    what a printer gets as an image, centred on paper whose blank lines above and below
    (30 dots, at least 4 modules) and sides make the quiet zone. Its bytes grow with the
    square of the module (a 236-character ticket code: 3.2 KB at 3 dots, 5.6 KB at 4, 12.6 KB
    at 6), and on a 9600 baud line every KB is a second. Raises ValueError when the code and
    its quiet zone do not fit `width`."""
    from PIL import Image

    matrix = qr_matrix(data)
    m = len(matrix) - 2 * QUIET_ZONE
    n = module or MIN_MODULE
    if module is None:
        module_size(m, width)  # raises when even MIN_MODULE does not fit
    elif (m + 2 * QUIET_ZONE) * n > width:
        raise ValueError(f"a QR code of {m} modules does not fit {width} dots at {n} dots per module")
    small = Image.new("1", (m, m), 0)
    small.putdata([255 if dark else 0 for row in matrix[QUIET_ZONE:-QUIET_ZONE]
                   for dark in row[QUIET_ZONE:-QUIET_ZONE]])
    return small.resize((m * n, m * n), Image.Resampling.NEAREST)


# --- Images to ESC/POS and to paper ----------------------------------------------------------


def trim_right(img: PILImage.Image) -> PILImage.Image:
    """The image without the paper right of its ink (width a multiple of 8, at least 8)."""
    box = img.getbbox()
    right = box[2] if box else 0
    keep = max(8, -(-right // 8) * 8)
    return img.crop((0, 0, keep, img.height)) if keep != img.width else img


def escpos_raster(img: PILImage.Image) -> bytes:
    """`GS v 0` (normal density) for an ink image; the width is padded to whole bytes."""
    from PIL import Image

    if img.width % 8:
        padded = Image.new("1", (-(-img.width // 8) * 8, img.height), 0)
        padded.paste(img, (0, 0))
        img = padded
    wbytes = img.width // 8
    if not (1 <= wbytes <= 0xFFFF and 1 <= img.height <= 0xFFFF):
        raise ValueError(f"raster image {img.width}x{img.height} out of range")
    header = GS_V0 + bytes((0, wbytes & 0xFF, wbytes >> 8, img.height & 0xFF, img.height >> 8))
    return header + img.tobytes()


def to_paper(img: PILImage.Image) -> PILImage.Image:
    """Black ink on white paper, for a PNG."""
    from PIL import Image

    return Image.frombytes("1", img.size, img.tobytes().translate(_INVERT))
