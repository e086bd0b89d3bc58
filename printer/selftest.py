"""The printer self-test page as ESC/POS bytes: what this printer can do, on paper.

A receipt is rendered for its profile; this page is not, since it is there to find the
profile. What a person reads (titles, labels, what each line should show) is drawn as
raster images, which every ESC/POS printer prints (a line of plain ASCII is sent as text,
which every one prints too); each `Sample` is sent as text in the printer's own font
(GB18030 bytes after `FS &`, exactly as the text profiles send receipts); `QR` is always
the native `GS ( k` and `ImageQR` the same code as an image. Where the printer lacks a
font or the QR command, the sample line or the square is what goes wrong, right under the
label that says what should be there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .document import QR, Block, Document, Text
from .escpos_render import ESC_INIT, render_lines
from .layout import Line, TextLine, layout
from .profiles import Profile

if TYPE_CHECKING:
    from .fonts import FontChain


@dataclass(frozen=True)
class Sample:
    """A line in the printer's own font, whatever the profile."""

    text: str


@dataclass(frozen=True)
class ImageQR:
    """A QR code drawn as an image, whatever the profile."""

    data: str


PageBlock = Block | Sample | ImageQR


def render_self_test(blocks: tuple[PageBlock, ...], profile: Profile, *,
                     font: Path | FontChain | None = None) -> bytes:
    """The page's bytes for a printer of `profile`'s width. Laid out line by line, and runs of
    lines that go the same way rendered by the receipt renderer as a profile that sends them
    that way (its own initialisation dropped: the page has one). A label line of plain ASCII
    is sent as text, which every ESC/POS printer prints, at a twentieth of a drawn line's
    bytes. Raises `fonts.FontNotFound` as the receipt renderer does."""
    drawn = replace(profile, repertoire="none", native_qr=False)
    own = replace(profile, repertoire="gb18030", native_qr=True)
    runs: list[tuple[Profile, list[Line]]] = []
    for block in blocks:
        way, block = ((own, Text(block.text)) if isinstance(block, Sample)
                      else (own, block) if isinstance(block, QR)
                      else (drawn, QR(block.data)) if isinstance(block, ImageQR)
                      else (drawn, block))
        for line in layout(Document((block,)), way):
            line_way = own if isinstance(line, TextLine) and line.text.isascii() else way
            if runs and runs[-1][0] is line_way:
                runs[-1][1].append(line)
            else:
                runs.append((line_way, [line]))
    parts = [render_lines(lines, way, font=font if way is drawn else None) for way, lines in runs]
    return ESC_INIT + b"".join(part.removeprefix(ESC_INIT) for part in parts)


def preview_document(blocks: tuple[PageBlock, ...], name: str) -> Document:
    """The page as a plain document, for the preview printer's picture (and the job's log name)."""
    return Document(tuple(Text(b.text) if isinstance(b, Sample) else QR(b.data) if isinstance(b, ImageQR) else b
                          for b in blocks), name=name)
