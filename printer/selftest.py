"""The printer self-test page as ESC/POS bytes: what this printer can do, on paper, and which
profile that makes it.

A receipt is rendered for its profile; this page is not, since it is there to find the
profile. Each `Sample` is sent as text in the printer's own font (GB18030 bytes after
`FS &`, exactly as the text profiles send receipts) and `QR` as the native `GS ( k`: where
the printer lacks a font or the QR command, that line or code is what goes wrong. What a
person must be able to read whatever the printer's font (what a sample should look like,
the advice) is a `Drawn` line, always an image; other lines of plain ASCII are sent as
text, which every ESC/POS printer prints, and the rest drawn. `ImageQR` is the same code
as an image.

The page is kept small for a 9600 baud line (a kilobyte a second): the advice is drawn
only where the printer's font may not print it (`advice_block`), images are cut to their
ink (right of it, and under it: the rest of the line's height is fed with `ESC J`), and
the image QR is sent as the image-QR profiles send theirs (the symbol alone, centred by
`ESC a`), at the smallest module any of them sends: where it scans, theirs do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .document import QR, Block, Document, Text
from .escpos_render import ESC_INIT, render_lines
from .layout import Line, TextLine, layout
from .profiles import PROFILES, Profile

if TYPE_CHECKING:
    from .fonts import FontChain

# The fonts a printer may have, from the least to the most: each prints all the one before
# it does (`Profile.repertoire`).
REPERTOIRES = ("none", "ascii", "gb2312", "gbk", "gb18030")
ESC_FEED = b"\x1bJ"  # + n: print and feed n motion units (dots on 203 dpi printers)


@dataclass(frozen=True)
class Sample:
    """A line in the printer's own font, whatever the profile: a sample, or words the page has
    shown it prints by the time they are read (`advice_block`). `user_chars`: sent as to a
    printer without a Chinese font, ASCII in its font and the rest as user-defined characters
    (`ESC &`): where it prints right, so do the `-ascii` profiles."""

    text: str
    user_chars: bool = False


@dataclass(frozen=True)
class Drawn:
    """A line drawn as an image, whatever the profile and even if plain ASCII: it must read
    right on a printer whose font does not."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class ImageQR:
    """A QR code drawn as an image, whatever the profile."""

    data: str


PageBlock = Block | Sample | Drawn | ImageQR


def repertoire_needed(text: str) -> str:
    """The least font that prints `text` as it is, as the profiles decide it
    (`Profile.prints_as_text`): the line of the page that tells that font from the one before."""
    return next(r for r in REPERTOIRES if Profile("", 0, 0, repertoire=r, native_qr=False).prints_as_text(text))


def advised(paper: Profile, repertoire: str, native_qr: bool) -> Profile:
    """The profile for a printer of `paper`'s printable width whose own font prints
    `repertoire` and which has (`native_qr`) or lacks the QR command: of the profiles that
    send it nothing else as text (nor a `GS ( k` it ignores), the one of the nearest width
    not wider than its paper (a wider one's lines break and its images are cut), then the
    one that sends the most as text (the fewest bytes)."""
    rank = REPERTOIRES.index
    fitting = [p for p in PROFILES.values() if rank(p.repertoire) <= rank(repertoire) and native_qr >= p.native_qr]
    return min(fitting, key=lambda p: (p.dots > paper.dots, abs(p.dots - paper.dots), -rank(p.repertoire),
                                       not p.native_qr, p.name))


@dataclass(frozen=True)
class Advice:
    """One row of the page's advice, read from the top, the first that fits: the sample lines
    (numbered from 1) of which any wrong makes it fit (none: all right), whether the native QR
    must have failed (False) or scanned (True) too, or either (None), and the profile. Whoever
    reads it has seen the lines of the rows above right: the printer's font prints `repertoire`."""

    wrong: tuple[int, ...]
    qr_scans: bool | None
    profile: Profile
    repertoire: str


def advice(paper: Profile, samples: tuple[str, ...]) -> tuple[Advice, ...]:
    """The rows for a printer of `paper`'s width, worst first: a printer whose font has only
    `repertoire` gets a line needing the next one wrong, and all right with the last. Fonts
    that lead to the same profiles share a row ("line 2 or 3 wrong"), but all right has its own."""
    groups: list[tuple[tuple[int, ...], str, Profile, Profile]] = []
    for k, repertoire in enumerate(REPERTOIRES):
        following = REPERTOIRES[k + 1 : k + 2]
        wrong = tuple(n for n, text in enumerate(samples, 1) if repertoire_needed(text) in following)
        without, with_qr = advised(paper, repertoire, False), advised(paper, repertoire, True)
        if wrong and groups and groups[-1][2:] == (without, with_qr):
            before, repertoire = groups.pop()[:2]  # read knowing only the lesser font
            wrong = before + wrong
        groups.append((wrong, repertoire, without, with_qr))
    rows: list[Advice] = []
    for wrong, repertoire, without, with_qr in groups:
        rows += ([Advice(wrong, None, without, repertoire)] if without == with_qr
                 else [Advice(wrong, False, without, repertoire), Advice(wrong, True, with_qr, repertoire)])
    return tuple(rows)


def advice_block(row: Advice, words: str) -> Sample | Drawn:
    """`words` saying `row`: in the printer's own font when it prints them wherever the row is
    read (about a tenth of the bytes), else drawn. Only the rows that fit a printer without
    the font need drawing: the first says "line 1 wrong", in any font."""
    needed = REPERTOIRES.index(repertoire_needed(words))
    return Sample(words) if needed <= REPERTOIRES.index(row.repertoire) else Drawn(words)


def render_self_test(blocks: tuple[PageBlock, ...], profile: Profile, *,
                     font: Path | FontChain | None = None) -> bytes:
    """The page's bytes for a printer of `profile`'s width. Laid out line by line; runs of
    lines sent as text (or native QR) rendered by the receipt renderer as a GB18030 profile
    with native QR, the image QR as one without (each its own initialisation dropped: the page
    has one); drawn lines here, cut to their ink. Raises `fonts.FontNotFound` as the receipt
    renderer does."""
    own = replace(profile, repertoire="gb18030", native_qr=True)
    sent_as = {"own": own, "image_qr": replace(own, native_qr=False,
                                               image_qr_module=min(p.image_qr_module for p in PROFILES.values())),
               "user_chars": replace(own, repertoire="ascii", lacking="user_chars")}
    runs: list[tuple[str, list[Line]]] = []
    for block in blocks:
        way, laid = (("drawn", Text(block.text, bold=block.bold)) if isinstance(block, Drawn)
                     else ("user_chars" if block.user_chars else "own", Text(block.text)) if isinstance(block, Sample)
                     else ("image_qr", QR(block.data)) if isinstance(block, ImageQR)
                     else (None, block))  # by line: plain ASCII text and commands sent, the rest drawn
        for line in layout(Document((laid,)), profile):
            line_way = way or ("drawn" if isinstance(line, TextLine) and not line.text.isascii() else "own")
            if runs and runs[-1][0] == line_way:
                runs[-1][1].append(line)
            else:
                runs.append((line_way, [line]))
    painter = None
    parts = [ESC_INIT]
    for way, run in runs:
        if way in sent_as:
            parts.append(render_lines(run, sent_as[way]).removeprefix(ESC_INIT))
            continue
        if painter is None:  # the font is looked up only when a line needs drawing
            from . import raster
            from .fonts import font_chain

            painter = raster.painter(font_chain(font))
        for line in run:
            # Drawn runs hold text only: a Drawn block is laid out from a Text, and a line of
            # another block is drawn only when it is a TextLine.
            if not isinstance(line, TextLine):
                raise TypeError(f"not a text line to draw: {line!r}")
            parts.append(_drawn_line(painter, line, profile.dots))
    return b"".join(parts)


def _drawn_line(painter, line: TextLine, dots: int) -> bytes:
    """A text line as an image as high as its lowest dot, and the line's height fed after it."""
    from . import raster

    image = raster.trim_right(painter.line_image(line, dots))
    box = image.getbbox()
    if box is None:
        return _feed(raster.line_dots(line.size))
    return raster.escpos_raster(image.crop((0, 0, image.width, box[3]))) + _feed(raster.line_dots(line.size) - box[3])


def _feed(dots: int) -> bytes:
    return ESC_FEED + bytes((dots,)) if dots > 0 else b""


def preview_document(blocks: tuple[PageBlock, ...], name: str) -> Document:
    """The page as a plain document, for the preview printer's picture (and the job's log name)."""
    return Document(tuple(Text(b.text) if isinstance(b, Sample) else Text(b.text, bold=b.bold) if isinstance(b, Drawn)
                          else QR(b.data) if isinstance(b, ImageQR) else b for b in blocks), name=name)
