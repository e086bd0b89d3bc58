"""A document as the ESC/POS bytes of one print job, built with python-escpos' `Dummy`.

Printer with a GB18030 font (`profile.chinese_font`):

* `ESC @` (init), then `FS &` (Chinese mode) once; no code page is ever selected
  (no `ESC t`, `ESC R`, `FS .`).
* Every laid-out line is sent by us as strict GB18030 bytes plus LF, never through
  python-escpos' `text()`: it picks an encoding per call, so a line without Han characters
  goes through a single-byte code page, where `¥` or `é` corrupt the bytes that follow on
  a printer in Chinese mode and a punctuation-only line (`——`) prints `?`. Money is
  written `￥` or `元` by whoever composes the document; nothing is translated here.
* Characters GB18030 cannot encode (only lone surrogates: it covers all of Unicode) were
  already replaced by `?` in the layout (`width.sanitize`), on purpose, so every
  renderer shows the same `?`. A printer whose font has only GBK or GB 2312 gets the
  lines with other characters drawn (below).
* Bold is `ESC E n`, size 2 is `GS ! 0x11` (double width and height, Chinese included).
  Alignment is the layout's spaces (by columns), but a run of 4 or more spaces (leading or
  inside a line) is sent as `ESC $ nL nH` (set absolute print position) to the column
  after the run, and trailing spaces are never sent, so no `ESC a` for text and no space
  runs on the wire (4 bytes instead of 4 to ~30). The position is in the horizontal
  motion unit (`GS P`), which defaults to the printer's dot pitch on the models whose
  manuals we checked (Epson TM-T88: 1/180 in on a 180 dpi head; Citizen CT-S300, Cino,
  HPRT, Woosim: 1/203 in or 0.125 mm on 203 dpi heads), the same dots font A is 12 wide
  in, so a column is 12 units (24 in a size-2 line: `ESC $` is not scaled by `GS !`).
  We never send `GS P`: a fixed `GS P 203 ...` would be wrong on a 180 dpi printer, and
  `ESC @` already restores the default.

A line with a character the printer's font lacks (`Profile.prints_as_text`: outside its
GBK or GB 2312 repertoire, or not ASCII on a printer without a Chinese font, which is not
put in Chinese mode) is drawn glyph by glyph, each with the first font that has it
(`raster.py`, `fonts.py`). By `Profile.lacking`: "raster", the line is sent as a `GS v 0`
raster image, trimmed right of its ink, in its place among the text lines; "user_chars"
(printers without a Chinese font), each character it lacks becomes user-defined characters
and the line goes as text (`user_chars.py`). Profile repertoire "none": every line is drawn
(blank lines as a one-byte-wide empty image, so the paper advances exactly as in the preview).

QR: the native `GS ( k` (model 2, error correction M, data as UTF-8) where the profile
has it, module size chosen so that the largest version the printer could pick plus 4
modules of quiet zone fit the paper (`raster.native_module_size`, 4 to 6 dots). Else an
image of the symbol alone from the `qrcode` library (`raster.qr_symbol`, at the profile's
`image_qr_module`), sent as `GS v 0`. Either centred with `ESC a 1` (which centres a
raster image by its whole width, as it does text), a blank line before and after: the
paper around is its quiet zone, and no byte is spent on white.

Feed is `ESC d n`; Cut feeds `CUT_FEED_LINES` past the tear bar (`ESC d`, so a printer
without a cutter can be torn off) and cuts partially (`GS V 1`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .document import Document
from .escpos_import import import_escpos
from .layout import CutLine, FeedLine, Line, QRLine, TextLine, layout
from .profiles import Profile
from .width import columns_of

ESC_INIT = b"\x1b@"
FS_CHINESE = b"\x1c&"
LF = b"\n"
ALIGN_LEFT = b"\x1ba\x00"
ALIGN_CENTER = b"\x1ba\x01"
PARTIAL_CUT = b"\x1dV\x01"
CUT_FEED_LINES = 4  # from the print line past the tear bar / cutter of common 58/80 mm printers
_BOLD = {False: b"\x1bE\x00", True: b"\x1bE\x01"}
_SIZE = {1: b"\x1d!\x00", 2: b"\x1d!\x11"}
ESC_POSITION = b"\x1b$"  # + nL nH: absolute print position from the left margin, in dots
DOTS_PER_COLUMN = 12  # font A; a size-2 line's column is twice as wide
MIN_SPACE_RUN = 4  # shorter runs are sent as spaces: ESC $ nL nH is 4 bytes itself
_SPACE_RUN = re.compile(f" {{{MIN_SPACE_RUN},}}")

if TYPE_CHECKING:
    from .fonts import FontChain


def render_escpos(document: Document, profile: Profile, *, font: Path | FontChain | None = None) -> bytes:
    """The print job's bytes. `font` (for drawn lines) is the configured CJK font, first
    of the chain (`fonts.font_chain`); raises `fonts.FontNotFound` when it is set but unusable."""
    return render_lines(layout(document, profile), profile, font=font)


def render_lines(lines: list[Line], profile: Profile, *, font: Path | FontChain | None = None) -> bytes:
    import_escpos()
    # python-escpos ships no type information (no py.typed, no stubs in typeshed)
    from escpos.constants import QR_ECLEVEL_M  # type: ignore[import-untyped]
    from escpos.printer import Dummy  # type: ignore[import-untyped]

    from . import raster

    printer = Dummy()
    raw = printer._raw
    raw(ESC_INIT)
    if profile.chinese_font:
        raw(FS_CHINESE)
    painter = None

    def drawn(line: TextLine) -> bytes:
        nonlocal painter
        if painter is None:  # the font is looked up only when a line needs drawing
            from .fonts import font_chain

            painter = raster.painter(font_chain(font))
        return _raster_line(painter, line, profile.dots)

    user_chars = None
    drawn_texts = [line.text for line in lines if isinstance(line, TextLine) and not profile.prints_as_text(line.text)]

    def lacking(text: str) -> Callable[[str], bytes]:
        """Define what `text` needs as user-defined characters; how to encode its pieces."""
        nonlocal user_chars
        if user_chars is None:
            from .fonts import font_chain
            from .user_chars import UserChars

            user_chars = UserChars(raster.painter(font_chain(font)), drawn_texts)
        raw(user_chars.define(text))
        return user_chars.encode

    bold, size = False, 1
    for line in lines:
        if isinstance(line, TextLine):
            encode: Callable[[str], bytes] = _gb18030
            if not profile.prints_as_text(line.text):
                if profile.lacking != "user_chars":
                    raw(drawn(line))
                    continue
                encode = lacking(line.text)
            if line.bold != bold:
                bold = line.bold
                raw(_BOLD[bold])
            if line.size != size:
                size = line.size
                raw(_SIZE[size])
            raw(text_bytes(line.text, line.size, encode) + LF)
            continue
        if bold:  # plain, normal size for what is not text: blank lines keep their height
            bold = False
            raw(_BOLD[False])
        if size != 1:
            size = 1
            raw(_SIZE[1])
        if isinstance(line, QRLine):
            blank = drawn(TextLine("")) if profile.repertoire == "none" else LF
            raw(blank)
            if profile.native_qr:
                module = raster.native_module_size(line.data, profile.dots)
                raw(ALIGN_CENTER)
                printer.qr(line.data, ec=QR_ECLEVEL_M, size=module, native=True)
                raw(ALIGN_LEFT)
            else:
                raw(ALIGN_CENTER)
                raw(raster.escpos_raster(raster.qr_symbol(line.data, profile.dots, profile.image_qr_module)))
                raw(ALIGN_LEFT)
            raw(blank)
        elif isinstance(line, FeedLine):
            for chunk in range(0, line.lines, 255):
                printer.print_and_feed(min(255, line.lines - chunk))
        elif isinstance(line, CutLine):
            printer.print_and_feed(CUT_FEED_LINES)
            raw(PARTIAL_CUT)
    if bold:
        raw(_BOLD[False])
    if size != 1:
        raw(_SIZE[1])
    return printer.output


def text_bytes(text: str, size: int = 1, encode: Callable[[str], bytes] | None = None) -> bytes:
    """One laid-out line without its trailing spaces, each run of `MIN_SPACE_RUN`+ spaces
    replaced by `ESC $` to the column that follows it; the pieces between in GB18030, or
    by `encode` (user-defined characters)."""
    encode = encode or _gb18030
    text = text.rstrip(" ")
    unit = DOTS_PER_COLUMN * size
    out = []
    start = 0
    for run in _SPACE_RUN.finditer(text):
        out.append(encode(text[start : run.start()]))
        out.append(ESC_POSITION + (columns_of(text[: run.end()]) * unit).to_bytes(2, "little"))
        start = run.end()
    out.append(encode(text[start:]))
    return b"".join(out)


def _gb18030(text: str) -> bytes:
    return text.encode("gb18030", errors="replace")


def _raster_line(painter, line: TextLine, dots: int) -> bytes:
    from . import raster

    return raster.escpos_raster(raster.trim_right(painter.line_image(line, dots)))
