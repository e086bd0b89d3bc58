"""A label sheet as a PNG (each label at its size, one pixel a dot, black on white, a dotted line
where one label ends) and as plain text, like printer/preview.py does for receipts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from .. import raster
from .document import LabelSheet, Media, box_row
from .draw import label_image, layout_label

if TYPE_CHECKING:
    from ..fonts import FontChain


def render_png(sheet: LabelSheet, media: Media, *, font: Path | FontChain | None = None) -> bytes:
    """Raises printer.fonts.FontNotFound for a bad `font` (None: found as for receipts)."""
    from PIL import Image

    from ..fonts import font_chain

    fonts = font_chain(font)
    images = [label_image(layout_label(label, media, fonts)) for label in sheet.labels]
    step = media.height + 1
    page = Image.new("1", (media.width, max(1, step * len(images) - 1)), 0)
    for i, image in enumerate(images):
        page.paste(image, (0, i * step))
        if i < len(images) - 1:
            for x in range(0, media.width, 8):
                page.paste(255, (x, i * step + media.height, min(media.width, x + 4), i * step + media.height + 1))
    buffer = io.BytesIO()
    raster.to_paper(page).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_text(sheet: LabelSheet) -> str:
    out: list[str] = []
    for label in sheet.labels:
        out += [label.title, *label.lines, *([box_row(label)] if label.boxes else []), f"[QR: {label.qr}]",
                "----[label]----"]
    return "\n".join(out) + "\n"
