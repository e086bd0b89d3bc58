"""`kiosk doctor` on the label printer (`[labels]`, issue 19 item 5): reachable, asked its status once
in its own language (TSPL <ESC>!?, ZPL ~HS), never DLE EOT, which it does not speak, and its label
stock said; none configured is said, and is no fault. The printers are at the other end of real
loopback sockets (tests/printer_peers.py): one that answers ready, one out of labels or with its
head open, one that never answers, and none at all."""

from __future__ import annotations

import json
import socket
import time

import pytest

from kiosk.ops.doctor import labels_check
from kiosk.settings.config import load_config

from .printer_peers import TSPL_STATUS, ZPL_STATUS, TcpPrinter, zpl_host_status

QUERY = {"tspl": TSPL_STATUS, "zpl": ZPL_STATUS}
READY = {"tspl": b"\x00", "zpl": zpl_host_status()}


def _config(tmp_path, labels: str = ""):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nlanguage = 'zh'\n" + (f"[labels]\n{labels}\n" if labels else ""), "utf-8")
    return load_config(str(path))


def _label_printer(language: str, answer: bytes | None) -> TcpPrinter:
    """A label printer speaking `language` that answers its status query with `answer` (None: never)."""
    return TcpPrinter(status={"answers": None, "labels": {QUERY[language]: [answer]} if answer else None})


def test_none_configured_is_said_and_is_no_fault(tmp_path, capsys):
    from kiosk.cli import main

    line = labels_check(_config(tmp_path), timeout=0.5)
    assert line.level == "ok" and line.data == {"configured": False}
    assert line.line("en") == ("ok    label printer: none configured ([labels]): labels print on the receipt "
                               "printer, one per cut")
    assert line.line("zh") == "ok    标签打印机：未配置（[labels]），标签打在小票打印机上，一张一切"
    main(["--config", str(tmp_path / "kiosk.toml"), "doctor", "--json"])
    (said,) = [c for c in json.loads(capsys.readouterr().out)["checks"] if c["name"] == "labels"]
    assert said["level"] == "ok"


@pytest.mark.parametrize(("language", "size"), [("tspl", "40x30"), ("zpl", "50x30")])
def test_a_label_printer_that_answers_ready_is_ok_with_its_stock(tmp_path, capsys, language, size):
    """Through `kiosk doctor`: its one line, both languages side by side as every check's."""
    from kiosk.cli import main

    with _label_printer(language, READY[language]) as printer:
        _config(tmp_path, f'uri = "{printer.uri}?timeout=1"\nlanguage = "{language}"\nsize = "{size}"')
        main(["--config", str(tmp_path / "kiosk.toml"), "doctor"])
        assert printer.done.wait(5)
    where, name, mm = f"tcp 127.0.0.1:{printer.port}", language.upper(), size.replace("x", "×")
    assert (f"ok    标签打印机：正常（{where}）；{name}，{mm} mm 标签  |  "
            f"label printer: ok ({where}); {name}, {mm} mm labels") in capsys.readouterr().out.splitlines()
    assert bytes(printer.received) == QUERY[language]  # asked once, in its own language
    assert printer.answerer.queries == []  # never DLE EOT


@pytest.mark.parametrize(("language", "answer", "reason", "detail"), [
    ("tspl", b"\x04", "The printer is out of paper", "out of labels"),
    ("tspl", b"\x01", "The printer cover is open", "the print head is open"),
    ("zpl", zpl_host_status(paper_out=True), "The printer is out of paper", "out of labels"),
    ("zpl", zpl_host_status(head_up=True), "The printer cover is open", "the print head is open"),
])
def test_a_label_printer_out_of_labels_or_with_its_head_open_fails(tmp_path, language, answer, reason, detail):
    with _label_printer(language, answer) as printer:
        config = _config(tmp_path, f'uri = "{printer.uri}"\nlanguage = "{language}"')
        line = labels_check(config, timeout=1)
    assert line.level == "fail"
    assert line.message.text("en").startswith(f"{reason} (tcp 127.0.0.1:{printer.port}): ")
    said = line.message.text("en")
    assert detail in said and said.endswith(f"{language.upper()}, 40×30 mm labels")
    assert line.message.text("zh").startswith(("打印机缺纸", "打印机盖未合上"))


def test_a_label_printer_still_printing_is_reachable_and_says_so(tmp_path):
    with _label_printer("tspl", b"\x20") as printer:
        line = labels_check(_config(tmp_path, f'uri = "{printer.uri}"'), timeout=1)
    assert line.level == "ok" and line.message.text("en").startswith("printing (tcp 127.0.0.1:")
    assert line.message.text("zh").startswith("正在打印（")


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_label_printer_that_never_answers_fails_within_the_timeout(tmp_path, language):
    """Connected, takes the query, says nothing: off-line, or not the language configured."""
    with _label_printer(language, None) as printer:
        config = _config(tmp_path, f'uri = "{printer.uri}?timeout=5"\nlanguage = "{language}"')
        started = time.monotonic()
        line = labels_check(config, timeout=0.5)  # the doctor's bound, under the URI's
        took = time.monotonic() - started
    assert bytes(printer.received) == QUERY[language]
    assert line.level == "fail" and line.data["kind"] == "offline"
    assert line.message.text("en").startswith(f"The printer is off or not connected (tcp 127.0.0.1:{printer.port}): ")
    assert f"not a {language.upper()} printer" in line.message.text("en")
    assert line.message.text("zh").startswith("打印机未开机或未连接")
    assert took < 2


def test_a_label_printer_that_is_not_there_fails(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = labels_check(_config(tmp_path, f'uri = "tcp://127.0.0.1:{port}"'), timeout=0.5)
    assert line.level == "fail" and line.message.text("zh").startswith("打印机未开机或未连接")


def test_a_label_printer_without_status_is_only_reached(tmp_path):
    with TcpPrinter() as printer:
        line = labels_check(_config(tmp_path, f'uri = "{printer.uri}?status=0"'), timeout=0.5)
        assert printer.accepted.wait(2)
    assert line.level == "ok" and bytes(printer.received) == b""
    assert line.message.text("en").startswith("reachable; it does not report its status")


def test_a_preview_label_printer_is_checked_as_its_folder(tmp_path):
    line = labels_check(_config(tmp_path, 'uri = "preview://labels"'), timeout=0.5)
    assert line.level == "ok" and line.name == "labels"
    assert line.message.text("en").startswith("preview printer, its folder is writable")
