"""The middle profiles (issue 19 item 3): text in the printer's own font where it has the
characters, images only for the lines it lacks and for the QR; read back through the
independent ESC/POS parser (tests/escpos_stream.py), the QR decoded by zxing-cpp."""

import pytest

from printer.document import QR, Document, Feed, Row, Text
from printer.escpos_render import render_escpos
from printer.fonts import BUNDLED_ONLY
from printer.layout import TextLine, layout
from printer.profiles import PROFILES
from printer.width import columns_of
from tests.escpos_stream import commands, parse, raster_image, replay_lines, text_runs
from tests.test_printer_selftest import decode_image_qr

TICKET_CODE = "K1A-261124-0007.3F9QZ2XW7M4K8C1VJ6TB5NRH0GD2Y9PLA7E3SU8W4QX6F"
MIDDLE = ["58mm-imageqr", "80mm-imageqr", "58mm-gb2312"]  # the -ascii ones: tests/test_printer_user_chars.py
CODEC = {"gbk": "gbk", "gb2312": "gb2312", "ascii": "ascii"}

DOCUMENT = Document(
    (
        Text("某某市计量检定测试院", align="center", bold=True),
        Text("K1A-0007", align="center", bold=True, size=2),
        QR(TICKET_CODE),
        Row("Time", "2024-11-24 09:30"),
        Row("单位", "示范燃气（集团）有限公司"),
        Text("镕铸 GBK, not GB 2312"),
        Text("𠮷野家 four bytes"),
        Text("¥12 and €3"),
        Text("䶮 outside GBK"),
        Text("Phone 138****5678"),
        Feed(1),
    ),
    name="middle",
)


@pytest.mark.parametrize(("name", "text", "as_text"), [
    ("58mm-imageqr", "镕铸", True), ("58mm-gb2312", "镕铸", False), ("58mm-gb2312", "计量 é", True),
    *[(name, ch, False) for name in ("58mm-imageqr", "58mm-gb2312") for ch in ("𠮷", "¥", "䶮", "€")],
    ("58mm", "𠮷 ¥ 䶮 €", True), ("58mm-ascii", "Phone 138", True), ("58mm-ascii", "计量", False),
    ("58mm-ascii", "Café", False), ("58mm-raster", "Phone", False),
])
def test_what_a_font_prints_is_told_by_the_codec_of_its_repertoire(name, text, as_text):
    assert PROFILES[name].prints_as_text(text) is as_text


@pytest.mark.parametrize("name", MIDDLE)
def test_lines_the_font_has_go_as_text_the_others_as_images_in_their_place(name):
    profile = PROFILES[name]
    lines = [line for line in layout(DOCUMENT, profile) if isinstance(line, TextLine)]
    items = parse(render_escpos(DOCUMENT, profile, font=BUNDLED_ONLY))
    as_text = [line.text for line in lines if profile.prints_as_text(line.text)]
    drawn = [line for line in lines if not profile.prints_as_text(line.text)]
    assert drawn and len(as_text) >= 3
    assert replay_lines(items) == [text for text in as_text if text]
    for run in text_runs(items):
        run.decode(CODEC[profile.repertoire])  # strict: only bytes the printer's font has
    assert len(commands(items, "FS &")) == (profile.repertoire != "ascii")
    images = [raster_image(c) for c in commands(items, "GS v 0")]
    assert len(images) == len(drawn) + 1  # and the QR
    assert all(image.width <= profile.dots for image in images)
    assert all(columns_of(text) <= profile.columns for text in replay_lines(items))
    assert not commands(items, "GS ( k")
    assert decode_image_qr(items) == TICKET_CODE


@pytest.mark.parametrize("name", ["58mm-imageqr", "80mm-imageqr"])
def test_a_3_line_ticket_in_the_printers_font_with_an_image_qr_fits_16_kb_and_17_s_at_9600_baud(name):
    from bench.printing import BAUD, BITS_PER_BYTE, ticket

    size = len(render_escpos(ticket(3), PROFILES[name], font=BUNDLED_ONLY))
    assert size <= 16 * 1024 and size * BITS_PER_BYTE / BAUD <= 17
