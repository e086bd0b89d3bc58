"""The preview renderers: a PNG of the paper and the plain text, from the same layout.

Golden text files: tests/golden/printer/<profile>.txt, rewritten only with UPDATE_GOLDEN=1
(see tests/test_printer_escpos.py). The PNG is checked by what it must show, not by bytes.
"""

from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printer.document import QR, Cut, Document, Feed, Row, Text
from printer.escpos_render import render_escpos
from printer.fonts import BUNDLED_ONLY
from printer.layout import TextLine, layout
from printer.preview import render_png, render_text
from printer.profiles import PROFILES
from printer.width import columns_of
from tests.escpos_stream import parse, replay_lines
from tests.test_printer_escpos import GOLDEN, SAMPLE, TICKET_CODE, check_golden, decode_qr


def png(document, name):
    from PIL import Image

    image = Image.open(BytesIO(render_png(document, PROFILES[name], font=BUNDLED_ONLY)))
    image.load()
    return image


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_png_is_the_paper_width_black_on_white(name):
    image = png(SAMPLE, name)
    assert image.format == "PNG" and image.mode == "1"
    assert image.width == PROFILES[name].dots
    assert image.height > 600
    gray = image.convert("L")
    assert gray.getpixel((image.width - 1, 0)) == 255  # paper
    histogram = gray.histogram()
    assert histogram[255] > histogram[0] > 1000  # mostly paper, plenty of ink


@pytest.mark.parametrize("name", ["58mm", "80mm-512", "58mm-raster"])
def test_the_qr_in_the_png_decodes_to_the_data(name):
    assert decode_qr(png(SAMPLE, name)) == [TICKET_CODE]


def test_the_qr_has_its_quiet_zone_and_four_pixels_per_module():
    from PIL import ImageOps

    image = png(Document((QR("K1A-261124-0007"),)), "58mm")
    ink = ImageOps.invert(image.convert("L")).getbbox()
    left, top, right, bottom = ink
    module = (right - left) // 21  # version 1
    assert module >= 4 and (right - left) == 21 * module
    assert left >= 4 * module and image.width - right >= 4 * module
    assert top >= 4 * module and image.height - bottom >= 4 * module


@pytest.mark.parametrize("name", ["58mm", "80mm", "80mm-512", "58mm-raster"])
def test_golden_text(name):
    check_golden(GOLDEN / f"{name}.txt", render_text(SAMPLE, PROFILES[name]).encode("utf-8"))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_text_lines_fit_the_columns(name):
    text = render_text(SAMPLE, PROFILES[name])
    assert all(columns_of(line) <= PROFILES[name].columns for line in text.splitlines())
    assert f"[QR: {TICKET_CODE[:10]}" in text and "[cut]" in text


@pytest.mark.parametrize("name", ["58mm", "80mm"])
def test_text_shows_the_lines_the_printer_prints(name):
    profile = PROFILES[name]
    printed = replay_lines(parse(render_escpos(SAMPLE, profile)))
    plain = render_text(SAMPLE, profile).splitlines()
    single = [line.text for line in layout(SAMPLE, profile) if isinstance(line, TextLine) and line.size == 1]
    assert [p for p in printed if p in single] == [p for p in plain if p in single] == [s for s in single if s]


def test_a_double_size_line_keeps_its_alignment_in_text():
    text = render_text(Document((Text("K1A-0007", align="center", size=2),)), PROFILES["58mm"])
    assert text == " " * 12 + "K1A-0007\n"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=50), min_size=1, max_size=4), st.text(min_size=1, max_size=80),
       st.sampled_from(sorted(PROFILES)))
def test_text_never_wider_than_the_paper(paragraphs, data, name):
    document = Document((*(Text(p, size=2, align="right") for p in paragraphs), Row(paragraphs[0], data),
                         QR(data), Feed(1), Cut()))
    for line in render_text(document, PROFILES[name]).splitlines():
        assert columns_of(line) <= PROFILES[name].columns
