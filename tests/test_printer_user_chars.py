"""Printers without a Chinese font (profiles -ascii, issue 19 item 3): ASCII in their own font,
every other character drawn once as user-defined characters (ESC &) and then sent as text.

The job is read back by the independent parser (tests/escpos_stream.py) and printed again
as a printer would: ASCII from the text runs, each code between ESC % 1 and ESC % 0 from
the definition in force when its line printed. What comes out must be what the preview
draws, the definitions must never change a character waiting in the print buffer, and the
ticket must fit 16 KB / 17 s at 9600 baud."""

import pytest
from PIL import Image

from printer.document import Document, Text
from printer.escpos_render import render_escpos
from printer.fonts import BUNDLED_ONLY, font_chain
from printer.layout import TextLine, layout
from printer.profiles import PROFILES
from printer.raster import CELL_DOTS, COLUMN_DOTS, painter
from printer.user_chars import SLOTS
from tests.escpos_stream import (
    TextRun,
    commands,
    parse,
    position,
    qr_stores,
    user_character_image,
    user_characters,
)
from tests.test_printer_profiles import DOCUMENT, TICKET_CODE
from tests.test_printer_selftest import decode_image_qr

ASCII_PROFILES = ["58mm-ascii", "80mm-ascii", "58mm-ascii-imageqr", "80mm-ascii-imageqr"]


def replay(data: bytes, dots: int):
    """The job printed again from its bytes: one (line image, size) per LF that ends a line
    with something on it; images 24 dots high, `dots` wide, at size 1 (a size-2 line's
    columns are counted at 24 dots). Fails on an undefined code, on ESC & while the print
    buffer holds a line, and on an unbalanced ESC %."""
    items = parse(data)
    cells: dict[int, Image.Image] = {}
    glyphs = painter(font_chain(BUNDLED_ONLY))
    lines, image, x, user, size, pending = [], None, 0, False, 1, False

    def new_line():
        return Image.new("1", (dots * 2, CELL_DOTS), 0)

    image = new_line()
    for item in items:
        if isinstance(item, TextRun):
            for byte in item.data:
                if user:
                    assert byte in cells, f"code {byte:#04x} printed before it was defined"
                    image.paste(cells[byte].resize((COLUMN_DOTS * size, CELL_DOTS)), (x, 0))
                else:
                    glyph = glyphs.glyph(chr(byte), 1)
                    if glyph is not None:
                        image.paste(1, (x, 0), glyph.crop((0, 0, COLUMN_DOTS, CELL_DOTS)).resize(
                            (COLUMN_DOTS * size, CELL_DOTS)))
                x += COLUMN_DOTS * size
            pending = True
        elif item.name == "ESC &":
            assert not pending, "a definition sent while a line waits to print"
            assert item.params[0] == 3, "font A cells are 3 bytes (24 dots) high"
            for code, (width, bits) in user_characters(item).items():
                assert width == COLUMN_DOTS
                cells[code] = user_character_image(width, bits)
        elif item.name == "ESC %":
            user = bool(item.params[0] & 1)
        elif item.name == "ESC $":
            x = position(item)
        elif item.name == "GS !":
            size = (item.params[0] >> 4 & 0x07) + 1
        elif item.name in ("LF", "ESC d", "GS V", "GS v 0", "GS ( k"):
            assert not user, "the user-defined set left on past a line"
            if pending:
                lines.append((image.crop((0, 0, dots, CELL_DOTS)), size))
            image, x, pending = new_line(), 0, False
    return lines


@pytest.mark.parametrize("name", ASCII_PROFILES)
def test_the_job_prints_what_the_preview_draws_hanzi_and_ascii_in_place(name):
    profile = PROFILES[name]
    data = render_escpos(DOCUMENT, profile, font=BUNDLED_ONLY)
    items = parse(data)
    assert not commands(items, "FS &")  # no Chinese mode: the printer has no Chinese font
    assert len(commands(items, "GS v 0")) == (not profile.native_qr)  # no line drawn: the QR at most
    expected = [line for line in layout(DOCUMENT, profile) if isinstance(line, TextLine) and line.text.strip()]
    printed = replay(data, profile.dots)
    assert len(printed) == len(expected)
    glyphs = painter(font_chain(BUNDLED_ONLY))
    for (image, size), line in zip(printed, expected, strict=True):
        assert size == line.size
        if size == 1:
            drawn = glyphs.line_image(TextLine(line.text), profile.dots).crop((0, 0, profile.dots, CELL_DOTS))
            assert image.tobytes() == drawn.tobytes(), line.text
    if profile.native_qr:
        assert qr_stores(items) == [TICKET_CODE.encode()]
    else:
        assert decode_image_qr(items) == TICKET_CODE


@pytest.mark.parametrize("name", ASCII_PROFILES)
def test_a_3_line_ticket_without_a_chinese_font_fits_16_kb_and_17_s_at_9600_baud(name):
    from bench.printing import BAUD, BITS_PER_BYTE, ticket

    document = ticket(3)
    data = render_escpos(document, PROFILES[name], font=BUNDLED_ONLY)
    assert len(data) <= 16 * 1024 and len(data) * BITS_PER_BYTE / BAUD <= 17
    assert len(data) < len(render_escpos(document, PROFILES[name.replace("ascii", "raster").removesuffix("-imageqr")],
                                         font=BUNDLED_ONLY)) / 3
    assert replay(data, PROFILES[name].dots)  # and it reads back


def test_a_character_is_defined_once_while_it_keeps_its_slot():
    text = "计量" * 8
    document = Document(tuple(Text(text) for _ in range(5)), name="repeat")
    items = parse(render_escpos(document, PROFILES["58mm-ascii"], font=BUNDLED_ONLY))
    (definition,) = commands(items, "ESC &")
    assert len(user_characters(definition)) == 4  # two hanzi, two halves each
    assert items.text_runs.count(bytes(items.text_runs[0])) == 5  # the same codes on every line


def test_more_characters_than_slots_reuse_slots_between_lines_and_still_print_right():
    """A receipt with 200 different hanzi: 400 cells for 95 slots, redefined between lines;
    the first line printed again at the end keeps its slots (needed again, unlike the others)."""
    hanzi = [chr(0x4E00 + 37 * i) for i in range(200)]
    lines = ["".join(hanzi[i : i + 14]) for i in range(0, 200, 14)] + ["".join(hanzi[:14])]
    document = Document(tuple(Text(line) for line in lines), name="many")
    profile = PROFILES["58mm-ascii"]
    data = render_escpos(document, profile, font=BUNDLED_ONLY)
    defined = sum(len(user_characters(c)) for c in commands(parse(data), "ESC &"))
    assert defined == 2 * 200  # each once
    glyphs = painter(font_chain(BUNDLED_ONLY))
    for (image, _), text in zip(replay(data, profile.dots), lines, strict=True):
        assert image.tobytes() == glyphs.line_image(TextLine(text), profile.dots).crop(
            (0, 0, profile.dots, CELL_DOTS)).tobytes()


def test_a_line_needing_more_cells_than_the_printer_has_is_refused_clearly():
    """Laid out, no line is that wide (48 columns at most: 95 slots hold any); a caller that
    gets past the layout is told why, instead of slots being reused inside one line."""
    from printer.user_chars import UserChars

    widest = max(p.columns for p in PROFILES.values())
    assert widest <= len(SLOTS)
    too_wide = "".join(chr(0x4E00 + i) for i in range(len(SLOTS) // 2 + 1))  # 96 cells
    chars = UserChars(painter(font_chain(BUNDLED_ONLY)), [too_wide])
    with pytest.raises(ValueError, match="95"):
        chars.define(too_wide)
