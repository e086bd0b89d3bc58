"""ESC/POS bytes per printer profile: golden files, strict GB18030, native and image QR.

Golden files live in tests/golden/printer/: `<profile>.bin` (the exact bytes) and
`<profile>.dump.txt` (the same stream, one command or text run per line, for reviewing a
diff). They are compared, never written, unless the environment says so:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_printer_escpos.py tests/test_printer_preview.py

then review `git diff tests/golden/printer/` before committing. The raster profile's bytes
depend on the glyphs Pillow draws: the tests always use the bundled font alone (`BUNDLED_ONLY`),
never the machine's, so they hold on a machine with no CJK font installed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printer.document import QR, Column, Cut, Document, Feed, Row, Rule, Table, Text
from printer.escpos_render import render_escpos
from printer.fonts import BUNDLED_FONT, BUNDLED_ONLY, FontNotFound, font_chain
from printer.layout import TextLine, layout
from printer.profiles import PROFILES
from tests.escpos_stream import (
    TextRun,
    UnknownCommand,
    commands,
    dump,
    parse,
    position,
    qr_module_sizes,
    qr_stores,
    raster_image,
    replay_lines,
    text_runs,
)

GOLDEN = Path(__file__).parent / "golden" / "printer"
TICKET_CODE = "K1A-261124-0007.3F9QZ2XW7M4K8C1VJ6TB5NRH0GD2Y9PLA7E3SU8W4QX6F"

SAMPLE = Document(
    (
        Text("某某市计量检定测试院", align="center", bold=True),
        Text("送检回执 Reception receipt", align="center"),
        Rule(),
        Text("取号 Ticket", align="center"),
        Text("K1A-0007", align="center", bold=True, size=2),
        QR(TICKET_CODE),
        Row("时间", "2024-11-24 09:30"),
        Row("单位", "某某精密仪器有限公司第二分公司计量室"),
        Row("电话", "138****5678"),
        Rule("="),
        Table(
            (Column("项目"), Column("数量", align="right", weight=0, min_width=6),
             Column("金额", align="right", weight=0, min_width=10)),
            (
                ("1. 精密压力表（0-1.6MPa，0.4级）检定", "2台", "￥160.00"),
                ("   JJG 49-2013 Precision gauge", "", ""),
                ("2. 电子天平", "1台", "免费"),
                ("   首次强制检定，免收费用", "", ""),
            ),
        ),
        Rule(),
        Row("合计", "￥160.00", bold=True),
        Text("——"),
        Text("Café · 加急 × 1 · 约 3 个工作日"),
        Text("￥ and 元 only: no ¥ code page"),
        Feed(2),
        Cut(),
    ),
    name="sample",
)

CHINESE_PROFILES = ["58mm", "80mm", "80mm-512"]
GOLDEN_PROFILES = [*CHINESE_PROFILES, "58mm-raster"]


def render(name: str, document: Document = SAMPLE) -> bytes:
    return render_escpos(document, PROFILES[name], font=BUNDLED_ONLY)


def check_golden(path: Path, actual: bytes) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path.name} missing: run with UPDATE_GOLDEN=1 and review the diff"
    assert actual == path.read_bytes(), f"{path.name} changed: rerun with UPDATE_GOLDEN=1 if on purpose"


@pytest.mark.parametrize("name", GOLDEN_PROFILES)
def test_golden_bytes(name):
    data = render(name)
    check_golden(GOLDEN / f"{name}.dump.txt", dump(parse(data)).encode("utf-8"))
    check_golden(GOLDEN / f"{name}.bin", data)


@pytest.mark.parametrize("name", CHINESE_PROFILES)
def test_chinese_stream_is_strict_gb18030_with_one_chinese_mode_and_no_code_page(name):
    items = parse(render(name))
    cmds = commands(items)
    assert [c.name for c in cmds[:2]] == ["ESC @", "FS &"]
    assert len(commands(items, "FS &")) == 1 and len(commands(items, "ESC @")) == 1
    assert not [c for c in cmds if c.name in ("ESC t", "ESC R", "FS .", "ESC !", "FS !")]
    decoded = [run.decode("gb18030") for run in text_runs(items)]  # strict
    text = "\n".join(decoded)
    for needle in ("某某市计量检定测试院", "——", "Café", "￥160.00", "138****5678", "免费", "K1A-0007"):
        assert needle in text
    assert "¥" not in text.replace("no ¥ code", "")  # only the sample's own mention


@pytest.mark.parametrize("name", CHINESE_PROFILES)
def test_what_prints_is_exactly_the_laid_out_lines(name):
    profile = PROFILES[name]
    lines = [line.text for line in layout(SAMPLE, profile) if isinstance(line, TextLine) and line.text]
    assert replay_lines(parse(render(name))) == lines


def bench_ticket() -> Document:
    from bench.printing import ticket

    return ticket()


@pytest.mark.parametrize("name", CHINESE_PROFILES)
@pytest.mark.parametrize("document", [SAMPLE, bench_ticket()], ids=["sample", "ticket"])
def test_alignment_is_esc_dollar_never_a_run_of_spaces(name, document):
    """Runs of 4+ spaces and trailing spaces are never sent: each run is `ESC $` to the
    column after it (12 dots a column, 24 on a size-2 line), and replaying the text runs
    at those positions gives the laid-out lines exactly: what prints is unchanged."""
    data = render(name, document)
    items = parse(data)
    for run in text_runs(items):
        assert b"    " not in run and not run.endswith(b" "), run
    laid_out = [line for line in layout(document, PROFILES[name]) if isinstance(line, TextLine)]
    assert replay_lines(items) == [line.text for line in laid_out if line.text]
    positions = [position(c) for c in commands(items, "ESC $")]
    assert positions and max(positions) < PROFILES[name].dots
    spaces = sum(line.text.count(" ") for line in laid_out)
    assert data.count(b" ") < spaces  # the space runs are gone from the wire


def test_esc_dollar_on_a_size_two_line_counts_double_width_columns():
    document = Document((Text("右", align="right", size=2), Text("A", align="center")))
    items = parse(render("58mm", document))
    assert [position(c) for c in commands(items, "ESC $")] == [14 * 24, 15 * 12]
    assert replay_lines(items) == [" " * 14 + "右", " " * 15 + "A"]


def test_bold_and_double_size_are_esc_e_and_gs_bang():
    items = parse(render("58mm"))
    sizes = [c.params for c in commands(items, "GS !")]
    assert sizes[0] == b"\x11" and set(sizes) <= {b"\x00", b"\x11"}
    assert b"\x01" in [c.params for c in commands(items, "ESC E")]
    number = next(i for i, t in enumerate(items) if isinstance(t, TextRun) and t.data.strip() == b"K1A-0007")
    assert [c for c in commands(items[:number], "GS !")][-1].params == b"\x11"  # the number prints double


def test_the_stream_ends_with_a_feed_past_the_tear_bar_and_a_partial_cut():
    cmds = commands(parse(render("58mm")))
    assert [c.name for c in cmds[-3:]] == ["ESC d", "ESC d", "GS V"]
    assert cmds[-1].params == b"\x01" and cmds[-2].params[0] >= 3


@pytest.mark.parametrize("name", CHINESE_PROFILES)
def test_native_qr_stores_the_ticket_code_byte_for_byte_at_four_dots_or_more(name):
    items = parse(render(name))
    assert qr_stores(items) == [TICKET_CODE.encode("ascii")]
    [module] = qr_module_sizes(items)
    assert module >= 4
    ec = [c.data for c in commands(items, "GS ( k") if c.params == b"1E"]
    assert ec == [b"1"]  # error correction M
    # the largest version the printer might pick (byte mode) plus 4 modules each side fits
    import qrcode
    from qrcode.util import MODE_8BIT_BYTE, QRData

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(TICKET_CODE.encode(), mode=MODE_8BIT_BYTE))
    assert (17 + 4 * code.best_fit() + 8) * module <= PROFILES[name].dots
    names = [c.name for c in commands(items)]
    first = names.index("GS ( k")
    assert names[first - 2 : first] == ["LF", "ESC a"]  # a blank line, then centred
    assert names[first + 5 : first + 7] == ["ESC a", "LF"]  # back to the left, a blank line


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_native_qr_keeps_any_data_as_utf8(data):
    data = data.encode("utf-8", "replace").decode("utf-8")
    try:
        out = render("80mm", Document((QR(data),)))
    except ValueError:
        assert len(data.encode()) > 100  # too much for 80 mm at 4 dots per module
        return
    assert qr_stores(parse(out)) == [data.encode("utf-8")]


def decode_qr(image) -> list[str]:
    import zxingcpp
    from PIL import ImageOps

    framed = ImageOps.expand(image.convert("L"), border=40, fill=255)
    return [r.text for r in zxingcpp.read_barcodes(framed, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_raster_profile_sends_no_text_at_all():
    items = parse(render("58mm-raster"))
    assert not commands(items, "FS &")
    assert all(run.strip() == b"" for run in text_runs(items))
    assert not [c for c in commands(items) if c.name in ("ESC t", "ESC R", "FS .", "GS ( k", "ESC E", "GS !")]
    assert len(commands(items, "GS v 0")) > 20


@pytest.mark.parametrize("name", ["58mm-raster", "80mm-raster"])
def test_image_qr_decodes_back_to_the_ticket_code(name):
    images = [raster_image(c) for c in commands(parse(render(name)), "GS v 0")]
    qr = max(images, key=lambda im: im.height)
    assert qr.height >= (21 + 8) * 4
    assert decode_qr(qr) == [TICKET_CODE]


def test_raster_lines_are_the_preview_lines():
    """The raster job, replayed onto paper, is the preview PNG down to the cut."""
    from io import BytesIO

    from PIL import Image

    from printer.preview import render_png
    from printer.raster import PITCH

    profile = PROFILES["58mm-raster"]
    paper = []
    centred = False
    for item in parse(render("58mm-raster")):
        name = getattr(item, "name", None)
        if name == "ESC a":
            centred = item.params == b"\x01"
        elif name == "GS v 0":
            image = raster_image(item)
            if centred:  # as the printer does: the image's whole width in the middle
                wide = Image.new("1", (profile.dots, image.height), 1)
                wide.paste(image, ((profile.dots - image.width) // 2, 0))
                image = wide
            paper.append(image)
        elif name == "ESC d":
            paper.append(Image.new("1", (8, PITCH * item.params[0]), 1))
        elif name == "LF":
            paper.append(Image.new("1", (8, PITCH), 1))
        elif name == "GS V":
            break
    page = Image.new("1", (profile.dots, sum(p.height for p in paper)), 1)
    y = 0
    for part in paper:
        page.paste(part.crop((0, 0, min(part.width, profile.dots), part.height)), (0, y))
        y += part.height
    preview = Image.open(BytesIO(render_png(SAMPLE, profile, font=BUNDLED_ONLY))).convert("1")
    assert preview.height == page.height + 1  # + the dotted cut line
    assert preview.crop((0, 0, profile.dots, page.height)).tobytes() == page.tobytes()


def test_never_through_python_escpos_text(monkeypatch):
    from escpos.escpos import Escpos

    def refuse(*args, **kwargs):
        raise AssertionError("python-escpos text()/set() code-page magic used")

    for method in ("text", "textln", "set", "set_with_default", "charcode", "block_text"):
        monkeypatch.setattr(Escpos, method, refuse)
    for name in PROFILES:
        render(name)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_any_text_prints_as_strict_gb18030_and_nothing_else(paragraphs):
    document = Document(tuple(Text(p) for p in paragraphs) + (Row(paragraphs[0], "￥1"),))
    items = parse(render("58mm", document))  # an unknown command (a smuggled ESC) would raise
    lines = [line.text for line in layout(document, PROFILES["58mm"]) if line.text]
    assert replay_lines(items) == lines
    assert not [run for run in text_runs(items) if b"    " in run or run.endswith(b" ")]


def test_the_parser_refuses_what_it_does_not_know():
    with pytest.raises(UnknownCommand):
        parse(b"\x1b@abc\x1bZ\x00")
    with pytest.raises(UnknownCommand):
        parse(b"\x07")
    with pytest.raises(UnknownCommand):
        parse(b"\x1d(k\x10\x00\x31")
    with pytest.raises(UnknownCommand):
        parse(b"\x1d(k\x10")
    with pytest.raises(UnknownCommand):
        parse(b"\x1dv0\x00\x02\x00\x01\x00\xff")  # 2 bytes announced, 1 sent


def test_a_configured_font_that_is_missing_or_not_a_font_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.ttf"
    with pytest.raises(FontNotFound, match="nope.ttf"):
        render_escpos(SAMPLE, PROFILES["58mm-raster"], font=missing)
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    with pytest.raises(FontNotFound, match="junk.ttf"):
        font_chain(junk)
    assert font_chain(BUNDLED_FONT).paths[0] == BUNDLED_FONT
    render_escpos(SAMPLE, PROFILES["58mm"], font=missing)  # a Chinese-font printer needs no font


def test_without_system_fonts_the_bundled_font_is_found(monkeypatch):
    from printer import fonts

    fonts._machine_fonts.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    try:
        assert font_chain().paths == (BUNDLED_FONT,)
        assert font_chain("").paths == (BUNDLED_FONT,)
    finally:
        fonts._machine_fonts.cache_clear()


def test_python_escpos_pickles_its_capabilities_into_our_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    code = ("from printer.document import Document, Text\nfrom printer.escpos_render import render_escpos\n"
            "from printer.profiles import PROFILES\nrender_escpos(Document((Text('x'),)), PROFILES['58mm'])")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path(__file__).parent.parent)
    assert list((tmp_path / "cache" / "metrology-kiosk" / "escpos").glob("*.capabilities.pickle"))
    # python-escpos 3.1 still creates an empty temp directory (`environ.get(..., mkdtemp())`
    # evaluates its default eagerly), but the pickle is not written there.
    assert list((tmp_path / "tmp").rglob("*.pickle")) == []


@pytest.mark.parametrize("damage", [b"", b"\x80\x02}q\x00(X"], ids=["empty", "cut off"])
def test_a_capabilities_pickle_left_empty_or_cut_off_does_not_stop_printing(tmp_path, damage):
    """python-escpos truncates its pickle, then fills it ~100 ms later: a kill (or a power cut)
    in between left an empty file that every later import failed on, so no receipt printed
    again; a second process importing meanwhile failed the same way (CI saw it)."""
    import platform

    cache = tmp_path / "cache" / "metrology-kiosk" / "escpos"
    cache.mkdir(parents=True)
    pickle_file = cache / f"{platform.python_version()}.capabilities.pickle"
    pickle_file.write_bytes(damage)
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    code = ("from printer.document import Document, Text\nfrom printer.escpos_render import render_escpos\n"
            "from printer.profiles import PROFILES\n"
            "print(len(render_escpos(Document((Text('x'),)), PROFILES['58mm'])))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0 and int(done.stdout) > 0, done.stderr
    assert pickle_file.stat().st_size > 10_000  # written again, whole
    assert list(cache.glob(".capabilities-*")) == []  # no temp file left
