"""`kiosk doctor --print-test`: the self-test page's bytes read by the tests' own ESC/POS parser
(tests/escpos_stream.py), its QR codes decoded, and the command against a TCP printer peer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from kiosk.i18n import MESSAGES, t
from kiosk.printing.selftest import SAMPLES, USER_CHARS_SAMPLE, condition, page_blocks
from printer.document import QR
from printer.profiles import PROFILES, Profile
from printer.selftest import REPERTOIRES, Drawn, ImageQR, Sample, advice, render_self_test

from .escpos_stream import TextRun, commands, parse, qr_stores, raster_image, user_characters
from .printer_peers import ALL_OK, TcpPrinter

NOW = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already 7 December at the institute (Shanghai)
# Each sample as the printer's own encoding has it: GB2312 in A1-F7 rows, 镕 two GBK bytes, 䶮 two
# GB18030 bytes outside GBK and 𠮷 four, ￥ two bytes, ¥ four, € two outside GBK.
ENCODED = (
    SAMPLES[0].encode("ascii") + b" ",  # then USER_CHARS_SAMPLE as user-defined characters
    "计量检定".encode("gb2312"),
    b"\xe9\x46",
    b"\xfe\x9f \x95\x34\xb2\x35",
    b"\xa3\xa4 \x81\x30\x84\x36 \xa2\xe3",
)
PAGES = [(name, lang) for name in PROFILES for lang in ("zh", "en")]


def page(name: str, lang: str):
    return parse(render_self_test(page_blocks(PROFILES[name], NOW, lang), PROFILES[name]))


def decode_image_qr(items) -> str:
    import zxingcpp
    from PIL import ImageOps

    qr = max((raster_image(c) for c in commands(items, "GS v 0")), key=lambda image: image.height)
    framed = ImageOps.expand(qr.convert("L"), border=40, fill=255)  # the quiet zone a scanner sees on paper
    (found,) = zxingcpp.read_barcodes(framed, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


@pytest.mark.parametrize("profile, lang", [("58mm", "zh"), ("80mm-raster", "en"), ("58mm-ascii", "zh")])
def test_each_sample_goes_in_the_printers_own_encoding_under_its_picture(profile, lang):
    """Whatever the profile: each sample as text after FS &, right under a picture of it; the
    QR both as GS ( k and as an image, both carrying the same data."""
    items = page(profile, lang)
    assert items[0].name == "ESC @" and len(commands(items, "ESC @")) == 1 and commands(items, "FS &")
    samples = [k for k, item in enumerate(items) if isinstance(item, TextRun) and item.data[2:] in ENCODED]
    assert [items[k].data for k in samples] == [b"  " + encoded for encoded in ENCODED]
    for k in samples:  # since the text before it: the sample's picture, fed to a line's height
        between = items[max(j for j in range(k) if isinstance(items[j], TextRun) or items[j].name == "LF") + 1 : k]
        assert [c.name for c in between if c.name not in ("FS &", "ESC &")][-2:] == ["GS v 0", "ESC J"]
    first = samples[0]  # the ASCII sample, then its hanzi as user-defined characters, defined just before
    defined = commands(items[:first], "ESC &")
    assert defined and sum(len(user_characters(c)) for c in defined) == 2 * len(USER_CHARS_SAMPLE)
    (on, codes, off) = items[first + 1 : first + 4]
    assert (on.name, on.params, off.name, off.params) == ("ESC %", b"\x01", "ESC %", b"\x00")
    assert len(codes.data) == 2 * len(USER_CHARS_SAMPLE)
    expected = f"KIOSK {profile}"
    assert qr_stores(items) == [expected.encode("ascii")]
    assert decode_image_qr(items) == expected
    image_qr = max(commands(items, "GS v 0"), key=lambda c: c.params[3] + 256 * c.params[4])
    before = items[items.index(image_qr) - 1]
    assert (before.name, before.params) == ("ESC a", b"\x01")  # centred, as the image-QR profiles send theirs
    assert commands(items, "GS V")  # cut


def test_each_sample_is_drawn_right_above_itself():
    blocks = page_blocks(PROFILES["58mm"], NOW, "zh")
    samples = [k for k, block in enumerate(blocks) if isinstance(block, Sample)
               and block.text.strip().removesuffix(f" {USER_CHARS_SAMPLE}") in SAMPLES]
    assert [blocks[k].text.strip() for k in samples] == [f"{SAMPLES[0]} {USER_CHARS_SAMPLE}", *SAMPLES[1:]]
    for n, k in enumerate(samples, 1):
        assert blocks[k - 1] == Drawn(f"{n} {blocks[k].text.strip()}")
        assert blocks[k].user_chars == (n == 1)
    assert [type(b) for b in blocks if isinstance(b, QR | ImageQR)] == [QR, ImageQR]


def seen_on(font: str, native_qr: bool) -> tuple[set[int], bool]:
    """What a printer whose font prints `font` shows: the sample lines that come out wrong (by
    the rule the profiles print by), and whether its own QR scans."""
    printer = Profile("printer", 0, 0, repertoire=font, native_qr=native_qr)
    return {n for n, text in enumerate(SAMPLES, 1) if not printer.prints_as_text(text)}, native_qr


@pytest.mark.parametrize("paper", list(PROFILES))
@pytest.mark.parametrize("font", REPERTOIRES)
@pytest.mark.parametrize("native_qr", [True, False])
def test_the_first_row_that_fits_names_a_profile_of_this_width_that_prints_right(paper, font, native_qr):
    """Every printer, read as a clerk reads the page: the first row that fits what came out
    wrong names a profile of the configured paper (else the nearest narrower one) that sends
    the printer only what it prints right, and as much as it can as text."""
    wrong, scans = seen_on(font, native_qr)
    rows = advice(PROFILES[paper], SAMPLES)
    row = next(r for r in rows if (wrong & set(r.wrong) if r.wrong else not wrong)
               and r.qr_scans in (None, scans))
    chosen, dots = row.profile, PROFILES[paper].dots
    assert PROFILES[chosen.name] == chosen
    assert not (chosen.native_qr and not native_qr)
    assert all(not chosen.prints_as_text(text) for n, text in enumerate(SAMPLES, 1) if n in wrong)
    suits = [p for p in PROFILES.values() if p.repertoire == font and p.native_qr <= native_qr]
    same_width = [p for p in PROFILES.values() if p.dots == dots
                  and REPERTOIRES.index(p.repertoire) <= REPERTOIRES.index(font) and p.native_qr <= native_qr]
    if same_width:
        assert chosen.dots == dots
    else:  # 80mm-512 has no profile for a printer short of a GB18030 font with the QR command
        assert chosen.dots < dots and paper == "80mm-512"
    if any(p.dots == dots for p in suits):
        assert chosen.repertoire == font


def test_a_512_dot_printer_is_never_told_a_wider_profile():
    rows = advice(PROFILES["80mm-512"], SAMPLES)
    assert rows[-1].profile.name == "80mm-512"
    assert {r.profile.dots for r in rows[:-1]} == {PROFILES["58mm"].dots}


def test_fonts_that_lead_to_the_same_profiles_share_a_row():
    rows = advice(PROFILES["80mm"], SAMPLES)  # no 80mm-gb2312: a GB 2312 font takes 80mm-ascii
    said = [condition(row, "en") + ": " + row.profile.name for row in rows]
    assert "line 2 or 3 wrong, A scans: 80mm-ascii" in said
    assert said[-1] == "all right, A scans: 80mm" and said[0] == "line 1 wrong: 80mm-raster"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_advice_is_drawn_where_the_printers_font_may_not_print_it(lang):
    """Row 1 is read on a printer whose font prints nothing right: a picture. The last rows
    are read only where the samples showed the font prints them: text (a tenth of the bytes)."""
    items = page("58mm", lang)
    runs = [run.decode("gb18030") for run in items.text_runs]
    said = {"zh": ("第1行不对：58mm-raster", "都对，A能扫出：58mm"),
            "en": ("line 1 wrong: 58mm-raster", "all right, A scans: 58mm")}[lang]
    assert said[0] not in runs and said[1] in runs
    blocks = page_blocks(PROFILES["58mm"], NOW, lang)
    assert Drawn(said[0]) in blocks and Sample(said[1]) in blocks
    assert Drawn(t("selftest.advice", lang), bold=True) in blocks


def test_no_profile_name_is_written_in_the_wording():
    """Names come from PROFILES, for the paper configured: a renamed profile cannot go stale."""
    wording = [text for key, pair in MESSAGES.items() if key.startswith("selftest.") for text in pair]
    assert [name for name in PROFILES for text in wording if name in text] == []


@pytest.mark.parametrize("name, lang", PAGES)
def test_the_page_prints_in_ten_seconds_at_9600_baud(name, lang):
    """Only what must read right in any font is drawn, cut to its ink: the page was 52 to 56 KB
    in Chinese (a minute on a serial line)."""
    data = render_self_test(page_blocks(PROFILES[name], NOW, lang), PROFILES[name])
    assert len(data) <= 10_000
    assert all(image.width <= PROFILES[name].dots
               for image in map(raster_image, commands(parse(data), "GS v 0")))


def _config(tmp_path, monkeypatch, uri: str, profile: str = "58mm") -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[printer]\nuri = '{uri}'\nprofile = '{profile}'\n", "utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize("lang, says", [("zh", "自检页已打印"), ("en", "The self-test page printed")])
def test_kiosk_doctor_prints_the_page_on_a_network_printer(tmp_path, monkeypatch, capsys, lang, says):
    from kiosk.cli import main

    with TcpPrinter(answers=ALL_OK) as peer:
        _config(tmp_path, monkeypatch, peer.uri + "?timeout=2")
        status = main(["doctor", "--print-test", "--lang", lang])
        assert peer.done.wait(5)
    out = capsys.readouterr()
    assert status == 0 and says in out.out and peer.uri in out.out
    items = parse(bytes(peer.received))
    assert qr_stores(items) == [b"KIOSK 58mm"]
    assert b"  " + ENCODED[3] in items.text_runs
    assert not (tmp_path / "data" / "kiosk.sqlite3").exists()  # not through the customer queue


@pytest.mark.parametrize("lang, says", [
    ("zh", "自检页没有打印出来：打印机"), ("en", "The self-test page did not print: "),
])
def test_kiosk_doctor_says_clearly_when_there_is_no_printer(tmp_path, monkeypatch, capsys, lang, says):
    from kiosk.cli import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _config(tmp_path, monkeypatch, f"tcp://127.0.0.1:{port}?timeout=0.5")
    status = main(["doctor", "--print-test", "--lang", lang])
    err = capsys.readouterr().err
    assert status == 1 and says in err and f"127.0.0.1:{port}" in err


def test_a_printer_that_cannot_answer_leaves_the_page_unconfirmed(tmp_path, monkeypatch, capsys):
    from kiosk.cli import main

    with TcpPrinter() as peer:
        _config(tmp_path, monkeypatch, peer.uri + "?timeout=2&status=0")
        status = main(["doctor", "--print-test", "--lang", "en"])
        assert peer.done.wait(5)
    assert status == 1 and "did not confirm that it printed" in capsys.readouterr().err
    assert qr_stores(parse(bytes(peer.received)))
