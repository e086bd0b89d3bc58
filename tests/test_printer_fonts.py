"""Raster receipts on a machine whose only Chinese font has no ASCII: the font is chosen per glyph.

The machine is built for real: fontconfig reads a generated fonts.conf (`FONTCONFIG_FILE`) whose
only font folder holds one CJK font without ASCII: Droid Sans Fallback (Debian's
fonts-droid-fallback, pulled in with cups) when it is installed, and always a subset of the
bundled font made with fontTools' subsetter that keeps the hanzi and drops ASCII. The known
paths are that font alone. Digits are read back from the rendered image by tesseract.
"""

import logging
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest

from printer import fonts
from printer.document import Document, Row, Text
from printer.fonts import BUNDLED_FONT, FontChain, coverage, font_chain
from printer.layout import TextLine
from printer.preview import render_png
from printer.profiles import PROFILES
from printer.raster import COLUMN_DOTS, painter

DROID_PATHS = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts-droid-fallback/truetype/DroidSansFallbackFull.ttf"),
)
RECEIPT = Document((
    Text("某某市计量检定测试院", align="center"),
    Text("K1A-0042", size=2),
    Row("时间", "2026-12-06 16:30"),
    Row("电话", "13812345678"),
    Row("合计", "￥1234.50"),
))
DIGITS_READ = ("K1A-0042", "2026-12-06", "16:30", "13812345678", "1234.50")


def _droid() -> Path | None:
    return next((p for p in DROID_PATHS if p.is_file()), None)


def _ascii_free_subset(folder: Path) -> Path:
    """The bundled font without a single ASCII glyph: the hanzi and fullwidth forms these tests
    draw (all of GB 2312 would take the subsetter 20 s a test)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(BUNDLED_FONT))
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    kept = {ord(ch) for block in RECEIPT.blocks for ch in str(block)} | {ord("国")}
    subsetter.populate(unicodes=[cp for cp in font.getBestCmap() if cp > 0x7F and cp in kept])
    subsetter.subset(font)
    for record in font["name"].names:  # another family, so that fontconfig does not take it for the original
        if record.nameID in (1, 3, 4, 6, 16):
            record.string = "ASCII-free CJK test font"
    out = folder / "AsciiFreeCJK.otf"
    font.save(str(out))
    return out


@pytest.fixture(scope="session")
def ascii_free_subset(tmp_path_factory) -> Path:
    """Made once a run (the subsetter takes a second): the tests only read it."""
    pytest.importorskip("fontTools.subset")
    return _ascii_free_subset(tmp_path_factory.mktemp("ascii-free-font"))


@pytest.fixture(params=["droid", "subset"])
def cjk_font_without_ascii(request) -> Path:
    if request.param == "droid":
        found = _droid()
        if found is None:
            pytest.skip("DroidSansFallbackFull.ttf is not installed (Debian: apt-get install fonts-droid-fallback)")
        return found
    return request.getfixturevalue("ascii_free_subset")


@pytest.fixture
def only_that_cjk_font(cjk_font_without_ascii, tmp_path, monkeypatch) -> Path:
    """This machine, with fontconfig seeing nothing but the ASCII-free CJK font."""
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig's fc-match is not installed")
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / cjk_font_without_ascii.name).symlink_to(cjk_font_without_ascii)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig>\n"
                    f"  <dir>{folder}</dir>\n  <cachedir>{tmp_path / 'fc-cache'}</cachedir>\n</fontconfig>\n")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", (str(cjk_font_without_ascii),))
    fonts._machine_fonts.cache_clear()
    yield cjk_font_without_ascii
    fonts._machine_fonts.cache_clear()


def _ocr(png: bytes) -> str:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    from PIL import Image, ImageOps

    image = Image.open(BytesIO(png)).convert("L")
    image = image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)
    image = ImageOps.expand(image, border=24, fill=255)  # tesseract misses text touching the edge
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "4", "-l", "eng"], input=buffer.getvalue(),
                          capture_output=True, timeout=60, check=True)
    return done.stdout.decode("utf-8", "replace")


def test_the_machine_really_has_only_that_font(only_that_cjk_font):
    found, _, langs = subprocess.run(["fc-match", "-f", "%{file}\n%{lang}", ":lang=zh-cn"], capture_output=True,
                                     text=True, check=True).stdout.partition("\n")
    assert Path(found).resolve() == only_that_cjk_font.resolve()
    # Neither is zh-cn to fontconfig (Droid claims ja|zh-tw; the subset is too small for any), so
    # no zh-cn font is found and the chain starts with the known paths: the case of the issue.
    assert "zh-cn" not in langs.split("|") and fonts._fc_match(":lang=zh-cn", "zh-cn") is None
    assert not set(range(0x21, 0x7F)) & coverage(only_that_cjk_font)  # a space at most


def test_digits_and_latin_come_from_a_font_that_has_them(only_that_cjk_font):
    chain = font_chain()
    assert chain.paths[0].resolve() == only_that_cjk_font.resolve()  # the known path leads
    assert chain.font_for("国").resolve() == only_that_cjk_font.resolve()
    for ch in "0123456789AKZaz-:.":
        assert chain.font_for(ch) == BUNDLED_FONT
    used = chain.used_for("合计 ￥1234.50")
    assert set(used[BUNDLED_FONT]) >= set("1234.50")


def test_the_receipt_prints_its_numbers_on_that_machine(only_that_cjk_font):
    text = _ocr(render_png(RECEIPT, PROFILES["58mm-raster"]))
    squeezed = text.replace(" ", "")
    for wanted in DIGITS_READ:
        assert wanted in squeezed, f"{wanted!r} not read from the receipt; tesseract read:\n{text}"


def test_that_font_alone_draws_no_digits(cjk_font_without_ascii):
    """What the receipt looked like before the chain: the check above would have caught it."""
    alone = painter(FontChain((cjk_font_without_ascii,)))
    image = alone.line_image(TextLine("13812345678"), PROFILES["58mm-raster"].dots)
    ink = image.crop((0, 0, 11 * COLUMN_DOTS, image.height)).getbbox()
    # Each digit is missing: drawn as a boxed "?" (the font has no "?" either: the frame alone), never a digit.
    assert ink is not None
    assert "1381" not in _ocr(_png(image)).replace(" ", "")


def _png(ink) -> bytes:
    from printer.raster import to_paper

    buffer = BytesIO()
    to_paper(ink).save(buffer, format="PNG")
    return buffer.getvalue()


NOBODY_HAS = ("\U0001D11E", "\ue000", "\U000F0000", "\U0001FB00")  # 𝄞, private use, a legacy-computing block


def test_a_character_no_font_has_is_drawn_boxed_and_logged(caplog):
    chain = font_chain()
    missing = next((ch for ch in NOBODY_HAS if chain.font_for(ch) is None), None)
    if missing is None:
        pytest.skip("every candidate character has a font on this machine")
    line = f"A{missing}B"
    with caplog.at_level(logging.WARNING, logger="printer.raster"):
        image = painter(chain).line_image(TextLine(line), PROFILES["58mm-raster"].dots)
    cell = image.crop((COLUMN_DOTS, 0, 3 * COLUMN_DOTS, 24))  # its two columns, after "A"
    box = cell.getbbox()
    assert box is not None and box[2] - box[0] >= COLUMN_DOTS and box[3] - box[1] >= 16  # a frame, not a speck
    assert image.crop((0, 0, COLUMN_DOTS, 24)).getbbox()  # "A" still drawn
    assert image.crop((3 * COLUMN_DOTS, 0, 4 * COLUMN_DOTS, 24)).getbbox()  # and "B"
    assert f"U+{ord(missing):04X}" in caplog.text
    assert line not in caplog.text and missing not in caplog.text  # the code point, never the text


def test_a_glyph_wider_than_its_column_is_narrowed_to_it():
    latin = next((p for p in font_chain().paths if p != BUNDLED_FONT and "W" in map(chr, coverage(p))), None)
    if latin is None:
        pytest.skip("no font besides the bundled one draws W on this machine")
    image = painter(FontChain((latin,))).line_image(TextLine("WWW", size=1), 3 * COLUMN_DOTS + 40)
    box = image.getbbox()
    assert box is not None and box[2] <= 3 * COLUMN_DOTS


def test_a_configured_font_without_ascii_still_prints_digits(ascii_free_subset):
    configured = ascii_free_subset
    chain = font_chain(configured)
    assert chain.paths[0] == configured and chain.font_for("7") != configured
    text = _ocr(render_png(RECEIPT, PROFILES["58mm-raster"], font=configured))
    assert "13812345678" in text.replace(" ", ""), text


# ---- kiosk doctor: which fonts draw raster receipts, and what none can ----------------------------


def _fonts_line(**settings):
    from dataclasses import replace

    from kiosk.ops.doctor import fonts_check
    from kiosk.settings.config import load_config

    return fonts_check(replace(load_config(), **settings))


def test_doctor_names_the_fonts_on_a_machine_whose_cjk_font_lacks_ascii(only_that_cjk_font):
    check = _fonts_line(printer_profile="58mm-raster", printer_uri="tcp://127.0.0.1:9100")
    assert check.level == "ok"
    assert check.data["profiles"] == ["58mm-imageqr", "80mm-imageqr", "58mm-gb2312", "58mm-ascii", "80mm-ascii",
                                      "58mm-ascii-imageqr", "80mm-ascii-imageqr", "58mm-raster", "80mm-raster"]
    drawers = {Path(f["file"]).name: f["draws"] for f in check.data["fonts"]}
    assert "ascii" not in drawers[only_that_cjk_font.name] and "gb2312" in drawers[only_that_cjk_font.name]
    assert "ascii" in drawers[BUNDLED_FONT.name]
    zh, en = check.message.text("zh"), check.message.text("en")
    assert f"{only_that_cjk_font.name}（常用汉字" in zh and f"{BUNDLED_FONT.name}（数字和英文字母" in zh
    assert f"{BUNDLED_FONT.name} (digits and Latin letters" in en and "58mm-raster, 80mm-raster" in en


def test_doctor_says_what_no_font_draws(monkeypatch):
    """Only the bundled GB 2312 font: the GBK, four-byte and currency samples have no font."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no fc-match
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    fonts._machine_fonts.cache_clear()
    try:
        check = _fonts_line()
    finally:
        fonts._machine_fonts.cache_clear()
    assert check.level == "ok"  # receipts read fine; a rare name prints a boxed ?
    assert {"䶮", "𠮷", "¥", "€"} <= set(check.data["missing"]) and "￥" not in check.data["missing"]
    assert "没有字体能画" in check.message.text("zh") and "䶮" in check.message.text("zh")
    assert "no font draws" in check.message.text("en") and "boxed ?" in check.message.text("en")


def test_doctor_fails_on_a_configured_font_that_is_not_there(tmp_path):
    missing = tmp_path / "gone.ttf"
    raster = _fonts_line(printer_profile="58mm-raster", printer_uri="tcp://127.0.0.1:9100", printer_font=missing)
    assert raster.level == "fail" and "gone.ttf" in raster.message.text("zh")
    assert "printer.font" in raster.message.text("en")
    text = _fonts_line(printer_profile="58mm", printer_uri="tcp://127.0.0.1:9100", printer_font=missing)
    assert text.level == "warn"  # the printer's own font prints; the setting is wrong all the same
    preview = _fonts_line(printer_profile="58mm", printer_uri="preview://receipts", printer_font=missing)
    assert preview.level == "fail"  # the preview PNG is drawn


def test_doctor_fails_when_digits_have_no_font(monkeypatch, cjk_font_without_ascii):
    monkeypatch.setattr(fonts, "_machine_fonts", lambda: (cjk_font_without_ascii,))
    check = _fonts_line(printer_profile="58mm-raster", printer_uri="tcp://127.0.0.1:9100")
    assert check.level == "fail" and set("0123456789") <= set(check.data["missing"])
    assert "fonts-noto-cjk" in check.message.text("zh") and "cannot be read" in check.message.text("en")
