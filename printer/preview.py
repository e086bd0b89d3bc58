"""The same receipt as a PNG (what the paper would look like) and as plain text.

Both come from `layout()`, like the ESC/POS bytes, so they break lines at the same places.

PNG: the profile's printable width in pixels (one pixel per printer dot), 1-bit, black on
white. Text lines are drawn as the raster printer draws them (`raster.py`: 12x24-dot
columns, a 30-dot line pitch); a QR code is drawn with its 4-module quiet zone at the
module size the printer gets (4 to 6 dots), with a blank line before and after; a feed is
that many blank lines; a cut is `CUT_FEED_LINES` blank lines and a dotted line.

Text: one line per laid-out line, never wider than the profile's columns. A size-2 line
keeps its alignment across the full width (its characters are not doubled); a QR code is
`[QR: <data>]`, wrapped if long, between blank lines; a cut is `----[cut]----`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from .document import Document
from .escpos_render import CUT_FEED_LINES
from .layout import CutLine, FeedLine, Line, QRLine, TextLine, layout
from .profiles import Profile
from .width import pad, sanitize, truncate

if TYPE_CHECKING:
    from .fonts import FontChain


def render_png(document: Document, profile: Profile, *, font: Path | FontChain | None = None) -> bytes:
    """The receipt as a PNG `profile.dots` wide; raises `fonts.FontNotFound` for a bad `font`."""
    buffer = io.BytesIO()
    render_image(layout(document, profile), profile, font=font).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_image(lines: list[Line], profile: Profile, *, font: Path | FontChain | None = None):
    """The receipt as a Pillow image (mode "1", white paper)."""
    from PIL import Image

    from . import raster
    from .fonts import font_chain

    painter = raster.painter(font_chain(font))
    width = profile.dots
    blank = raster.line_dots()
    parts: list = []  # ink images, or an int: that many blank dots; "cut": a dotted line
    for line in lines:
        if isinstance(line, TextLine):
            parts.append(painter.line_image(line, width))
        elif isinstance(line, QRLine):
            # The printer draws its native QR at the module size we asked for; an image QR
            # gets the size that fits its actual version. Either way, what prints.
            if profile.native_qr:
                code = raster.qr_image(line.data, width, raster.native_module_size(line.data, width))
            else:  # the symbol alone: the blank lines make its quiet zone, as on paper
                symbol = raster.qr_symbol(line.data, width, profile.image_qr_module)
                code = Image.new("1", (width, symbol.height), 0)
                sent = -(-symbol.width // 8) * 8  # as the printer centres it: whole bytes
                code.paste(symbol, ((width - sent) // 2, 0))
            parts += [blank, code, blank]
        elif isinstance(line, FeedLine):
            parts.append(blank * line.lines)
        elif isinstance(line, CutLine):
            parts += [blank * CUT_FEED_LINES, "cut"]
    height = sum(p if isinstance(p, int) else 1 if p == "cut" else p.height for p in parts) or 1
    page = Image.new("1", (width, height), 0)
    y = 0
    for part in parts:
        if isinstance(part, int):
            y += part
        elif part == "cut":
            for x in range(0, width, 8):
                page.paste(255, (x, y, min(width, x + 4), y + 1))
            y += 1
        else:
            page.paste(part, (0, y))
            y += part.height
    return raster.to_paper(page)


def render_text(document: Document, profile: Profile) -> str:
    """The receipt as plain text, lines at most `profile.columns` wide; ends with a newline."""
    width = profile.columns
    out: list[str] = []
    for line in layout(document, profile):
        if isinstance(line, TextLine):
            if line.size == 2 and line.align != "left":
                out.append(pad(line.text.strip(" "), width, line.align).rstrip(" "))
            else:
                out.append(line.text)
        elif isinstance(line, QRLine):
            out.append("")
            out += [pad(part, width, "center").rstrip(" ") for part in _chunks(f"[QR: {line.data}]", width)]
            out.append("")
        elif isinstance(line, FeedLine):
            out += [""] * line.lines
        elif isinstance(line, CutLine):
            out += [""] * CUT_FEED_LINES
            out.append(_cut_line(width))
    return "\n".join(out) + "\n"


def _cut_line(width: int) -> str:
    mark = "[cut]"
    if width < len(mark) + 2:
        return "-" * width
    side = (width - len(mark)) // 2
    return "-" * side + mark + "-" * (width - side - len(mark))


def _chunks(text: str, width: int) -> list[str]:
    """`text` (one line, sanitized) cut every `width` columns, between glyphs, no word breaking."""
    out = []
    for paragraph in sanitize(text).split("\n"):
        while True:
            part = truncate(paragraph, width) or paragraph[:1]
            out.append(part)
            paragraph = paragraph[len(part):]
            if not paragraph:
                break
    return out
