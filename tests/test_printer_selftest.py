"""`kiosk doctor --print-test`: the self-test page's bytes read by the tests' own ESC/POS parser
(tests/escpos_stream.py), its QR codes decoded, and the command against a TCP printer peer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from kiosk.printing.selftest import SAMPLES, page_blocks
from printer.document import QR, Text
from printer.profiles import PROFILES
from printer.selftest import ImageQR, Sample, render_self_test

from .escpos_stream import commands, parse, qr_stores, raster_image
from .printer_peers import ALL_OK, TcpPrinter

NOW = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already 7 December at the institute (Shanghai)
# Each sample as the printer's own encoding has it: GB2312 in A1-F7 rows, 䶮 two GBK bytes, 𠮷 and ¥ four.
ENCODED = {
    "ascii": SAMPLES[0][1].encode("ascii"),
    "gb2312": "计量检定".encode("gb2312"),
    "gbk": b"\xfe\x9f",
    "gb18030": b"\x95\x34\xb2\x35",
    "money": b"\xa3\xa4 \x81\x30\x84\x36 \xa2\xe3",
}


def decode_image_qr(items) -> str:
    import zxingcpp
    from PIL import ImageOps

    qr = max((raster_image(c) for c in commands(items, "GS v 0")), key=lambda image: image.height)
    framed = ImageOps.expand(qr.convert("L"), border=40, fill=255)  # the quiet zone a scanner sees on paper
    (found,) = zxingcpp.read_barcodes(framed, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


@pytest.mark.parametrize("profile, lang, drawn", [("58mm", "en", 6), ("80mm-raster", "en", 6), ("58mm", "zh", 30)])
def test_the_page_sends_each_sample_in_the_printers_own_encoding(profile, lang, drawn):
    """Whatever the profile: the samples as text after FS &, the labels as pictures, the QR
    both as GS ( k and as an image, both carrying the same data."""
    data = render_self_test(page_blocks(PROFILES[profile], NOW, lang), PROFILES[profile])
    items = parse(data)
    assert data.startswith(b"\x1b@") and data.count(b"\x1b@") == 1 and commands(items, "FS &")
    runs = items.text_runs  # one a line
    assert all(encoded in runs for encoded in ENCODED.values())
    # Label lines go as text only when plain ASCII; what is not is drawn: the samples are the rest.
    assert [run for run in runs if not run.isascii()] == [ENCODED[g] for g, _ in SAMPLES if g != "ascii"]
    expected = f"KIOSK SELF-TEST {profile} 2026-12-07"
    assert qr_stores(items) == [expected.encode("ascii")]
    assert decode_image_qr(items) == expected
    assert len(commands(items, "GS v 0")) > drawn  # the label lines with Chinese (or ¥ €), and the image QR
    assert commands(items, "GS V")  # cut


@pytest.mark.parametrize("lang, says", [
    ("zh", ["如果这一行是方框或乱码，打印机没有中文字库：请用档位 58mm-raster", "如果下面没有出现方形二维码",
            "配置的打印机档位", "2026-12-07 07:30"]),
    ("en", ["If this line shows boxes or garbage, your printer has no Chinese font: use profile 58mm-raster",
            "if no square code appears here, your printer has no QR command: use profile 58mm-raster",
            "Configured profile", "48 mm printable, 384 dots, 32 columns", "2026-12-07 07:30"]),
])
def test_each_sample_is_labelled_with_what_the_reader_should_see(lang, says):
    blocks = page_blocks(PROFILES["58mm"], NOW, lang)
    text = "\n".join(" ".join(getattr(b, f, "") for f in ("key", "value", "text")) for b in blocks)
    for words in says:
        assert words in text
    for k, block in enumerate(blocks):
        if isinstance(block, Sample):  # the label right above says what it should read
            assert isinstance(blocks[k - 1], Text) and block.text in blocks[k - 1].text
    assert [type(b) for b in blocks if isinstance(b, QR | ImageQR)] == [QR, ImageQR]


def test_a_raster_printer_is_told_its_text_twin_and_the_512_dot_paper_the_nearest_raster():
    blocks = page_blocks(PROFILES["80mm-512"], NOW, "en")
    verdict = blocks[-3].text
    assert "use profile 80mm-512" in verdict and "use profile 80mm-raster" in verdict


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
    assert qr_stores(items)[0].startswith(b"KIOSK SELF-TEST 58mm ")
    assert ENCODED["gb18030"] in b"".join(items.text_runs)
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
