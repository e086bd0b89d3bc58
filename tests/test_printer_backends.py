"""Printer backends: the bytes reach real peers (a loopback socket, a pseudo terminal, a
file, a FIFO, an `lp` command), status queries are answered or not, and every failure
becomes a PrinterError of the right kind within the configured timeout.

No USB device here: USB is tested through pyusb's own `find` replaced by a fake device.
"""

from __future__ import annotations

import errno
import os
import pickle
import socket
import stat
import sys
import threading
import time
import types

import pytest

from printer.backends import (
    DEFAULT_TIMEOUT,
    CupsBackend,
    EscposBackend,
    FileBackend,
    Job,
    PreviewBackend,
    PrinterError,
    PrinterSpec,
    open_backend,
    parse_printer_uri,
    usb_endpoints,
)
from printer.document import Cut, Document, Text
from printer.profiles import PROFILES

from .printer_peers import OK, PtyPrinter, TcpPrinter

escpos_printer = pytest.importorskip("escpos.printer")
Dummy = escpos_printer.Dummy

DOCUMENT = Document((Text("A0001", size=2), Cut()), name="A0001")
PROFILE = PROFILES["58mm"]
QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


def job(data: bytes = bytes(range(256)) * 40, name: str = "A0001-1") -> Job:
    return Job(name, data, DOCUMENT, PROFILE)


def big_job() -> Job:
    """Far more than loopback socket, pty and pipe buffers hold (~4 MB at most)."""
    return job(b"\x1b@" + bytes(32 * 1024 * 1024))


class Clock:
    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.start


def raises_kind(kind: str):
    """pytest.raises(PrinterError), and of this kind."""
    return _Kind(kind)


class _Kind:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __enter__(self):
        self._ctx = pytest.raises(PrinterError)
        self.info = self._ctx.__enter__()
        return self.info

    def __exit__(self, *exc):
        suppressed = self._ctx.__exit__(*exc)
        assert self.info.value.kind == self.kind, f"{self.info.value.kind}: {self.info.value}"
        return suppressed


# --------------------------------------------------------------------------- URIs


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("usb://0416:5011?in_ep=0x81&out_ep=0x03&interface=0&timeout=5",
         {"scheme": "usb", "vendor_id": 0x0416, "product_id": 0x5011, "in_ep": 0x81, "out_ep": 0x03, "interface": 0,
              "timeout": 5.0, "status": True}),
        ("USB://04B8:0E15",
         {"scheme": "usb", "target": "04b8:0e15", "in_ep": None, "out_ep": None, "timeout": DEFAULT_TIMEOUT}),
        ("usb://0x0416:0x5011?in_ep=129&status=0", {"in_ep": 0x81, "status": False}),
        ("serial:///dev/ttyUSB0?baudrate=9600&timeout=5",
         {"scheme": "serial", "target": "/dev/ttyUSB0", "baudrate": 9600, "timeout": 5.0, "status": True,
          "parity": "N"}),
        ("serial:///dev/ttyS1?baudrate=115200&bytesize=7&parity=even&stopbits=1.5&rtscts=1&dsrdtr=0&xonxoff=no",
         {"baudrate": 115200, "bytesize": 7, "parity": "E", "stopbits": 1.5, "rtscts": True, "dsrdtr": False,
          "xonxoff": False}),
        ("tcp://192.168.1.50", {"scheme": "tcp", "target": "192.168.1.50", "port": 9100, "status": True}),
        ("tcp://printer.local:9101/?timeout=2.5&status=0", {"target": "printer.local", "port": 9101, "timeout": 2.5,
                                                                "status": False}),
        ("file:///dev/usb/lp0", {"scheme": "file", "target": "/dev/usb/lp0", "status": False}),
        ("cups://receipts?timeout=10", {"scheme": "cups", "target": "receipts", "timeout": 10.0, "status": False}),
        ("preview://receipts", {"scheme": "preview", "target": "receipts", "status": False}),
        ("preview:///var/tmp/receipts?status=0", {"target": "/var/tmp/receipts"}),
        ("  preview://out%20dir  ", {"target": "out dir"}),
    ],
)
def test_printer_uris_parse(uri, expected):
    spec = parse_printer_uri(uri)
    assert isinstance(spec, PrinterSpec)
    assert {k: getattr(spec, k) for k in expected} == expected
    with pytest.raises(AttributeError):
        spec.timeout = 1  # frozen


@pytest.mark.parametrize(
    "uri, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/dev/usb/lp0", "no scheme"),
        ("lpt://1", "unknown printer URI scheme 'lpt://'"),
        ("usb://", "VENDOR:PRODUCT"),
        ("usb://0416", "VENDOR:PRODUCT"),
        ("usb://0416:50g1", "VENDOR:PRODUCT"),
        ("usb://12345:0001", "VENDOR:PRODUCT"),
        ("usb://0000:5011", "vendor id 0000"),
        ("usb://0416:5011?in_ep=0x01", "'in_ep' must be between 129 and 143"),
        ("usb://0416:5011?out_ep=0x81", "'out_ep' must be between 1 and 15"),
        ("usb://0416:5011?in_ep=x81", "'in_ep' must be a number"),
        ("usb://0416:5011?interface=-1", "'interface' must be between"),
        ("usb://0416:5011?timeout=0", "timeout must be more than 0"),
        ("usb://0416:5011?timeout=-1", "timeout must be more than 0"),
        ("usb://0416:5011?timeout=nan", "timeout must be more than 0"),
        ("usb://0416:5011?timeout=soon", "timeout must be a number of seconds"),
        ("usb://0416:5011?baudrate=9600", "unknown option 'baudrate' for usb://"),
        ("serial://", "needs a device"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "'baudrate' must be an integer"),
        ("serial:///dev/ttyUSB0?baudrate=0", "'baudrate' must be between"),
        ("serial:///dev/ttyUSB0?bytesize=9", "'bytesize' must be between 5 and 8"),
        ("serial:///dev/ttyUSB0?parity=X", "'parity' must be N, E, O, M or S"),
        ("serial:///dev/ttyUSB0?stopbits=3", "'stopbits' must be 1, 1.5 or 2"),
        ("serial:///dev/ttyUSB0?rtscts=maybe", "'rtscts' must be 0 or 1"),
        ("serial:///dev/ttyUSB0?baudrate", "should be NAME=VALUE"),
        ("serial:///dev/ttyUSB0?baudrate=", "'baudrate' has no value"),
        ("serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200", "given twice"),
        ("tcp://", "needs a host"),
        ("tcp://:9100", "needs a host"),
        ("tcp://printer:port", "'port' must be an integer"),
        ("tcp://printer:70000", "'port' must be between 1 and 65535"),
        ("tcp://printer:9100/queue", "without a path"),
        ("tcp://user:secret@printer", "no user name or password"),
        ("tcp://[::1]:9100", "IPv4 only"),
        ("tcp://printer?status=2", "'status' must be 0 or 1"),
        ("tcp://printer#frag", "fragment"),
        ("file://", "needs a path"),
        ("file:///dev/usb/lp0?status=1", "cannot read the printer's status"),
        ("cups://", "needs a queue name"),
        ("cups://my queue", "cannot hold spaces"),
        ("cups://q?status=1", "cannot read the printer's status"),
        ("preview://", "needs a path"),
        ("preview://x?baudrate=9600", "unknown option 'baudrate' for preview://"),
    ],
)
def test_malformed_printer_uris_say_what_is_wrong(uri, message):
    with pytest.raises(PrinterError) as info:
        parse_printer_uri(uri)
    assert info.value.kind == "config"
    assert message in str(info.value)
    with pytest.raises(PrinterError):  # open_backend parses the same way
        open_backend(uri)
    assert "secret" not in str(info.value)


def test_open_backend_takes_a_spec_and_resolves_relative_dirs(tmp_path):
    preview = open_backend(parse_printer_uri("preview://receipts"), base_dir=tmp_path)
    assert isinstance(preview, PreviewBackend) and preview.directory == tmp_path / "receipts"
    assert open_backend("preview:///abs/dir", base_dir=tmp_path).directory.as_posix() == "/abs/dir"
    file = open_backend("file://out/lp.bin", base_dir=tmp_path)
    assert isinstance(file, FileBackend) and file.path == tmp_path / "out" / "lp.bin"
    assert isinstance(open_backend("cups://receipts"), CupsBackend)
    assert open_backend("tcp://10.0.0.7").description == "tcp 10.0.0.7:9100"
    assert "serial /dev/ttyUSB0 at 19200 baud" == open_backend(
        "serial:///dev/ttyUSB0?baudrate=19200").description


def test_python_escpos_usb_never_gets_its_block_forever_timeout():
    spec = parse_printer_uri("usb://0416:5011")
    assert spec.timeout == DEFAULT_TIMEOUT > 0
    backend = open_backend(spec)
    assert backend.device.timeout == DEFAULT_TIMEOUT * 1000  # pyusb counts milliseconds
    assert open_backend("usb://0416:5011?timeout=0.0001").device.timeout == 1


def test_printer_error_kinds_and_pickling():
    error = PrinterError("out of paper", kind="paper_out")
    assert (str(error), error.kind) == ("out of paper", "paper_out")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.kind, again.delivered) == ("out of paper", "paper_out", False)
    after_the_job = pickle.loads(pickle.dumps(PrinterError("out of paper", kind="paper_out", delivered=True)))
    assert after_the_job.delivered
    assert PrinterError("x").kind == "error"
    with pytest.raises(ValueError):
        PrinterError("x", kind="on fire")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/b", ".hidden", "a..b", "x" * 200, "李 工"])
def test_job_names_are_safe_file_names(name):
    with pytest.raises(ValueError):
        job(name=name)


def test_job_names_may_be_ticket_numbers():
    assert job(name="J20250101-0001-17").name == "J20250101-0001-17"
    assert "data" not in repr(job())


# --------------------------------------------------------------------------- tcp


def test_tcp_printer_receives_the_exact_bytes_and_without_status_cannot_confirm_them():
    data = bytes(range(256)) * 100
    with TcpPrinter() as peer:
        with open_backend(peer.uri + "?status=0&timeout=1") as printer:
            printer.check()
            with raises_kind("unconfirmed") as info:
                printer.send(job(data))
            assert info.value.delivered
        assert peer.done.wait(2)
    assert bytes(peer.received) == data
    assert peer.answerer.queries == []


def test_tcp_printer_is_asked_its_status_before_printing_and_after():
    with TcpPrinter(answers={1: OK, 2: OK, 4: OK}) as peer:
        with open_backend(peer.uri + "?timeout=1") as printer:
            printer.check()
            printer.send(job(b"hello"))
            assert not printer.paper_near_end
        assert peer.done.wait(2)
    assert bytes(peer.received) == QUERIES + b"hello" + QUERIES
    assert peer.answerer.queries == [1, 2, 4, 1, 2, 4]


@pytest.mark.parametrize(
    "answers, kind",
    [
        ({1: 0x1A, 2: 0x32, 4: 0x7E}, "paper_out"),  # offline; paper-end stop; near end and end
        ({1: 0x12, 2: 0x12, 4: 0x72}, "paper_out"),  # the roll sensor alone
        ({1: 0x1A, 2: 0x16, 4: 0x12}, "cover_open"),
        ({1: 0x1A, 2: 0x12, 4: 0x12}, "offline"),  # offline, cause not given
        ({1: 0x1A, 2: 0x52, 4: 0x12}, "error"),  # bit 6: error (cutter, head temperature)
        ({1: 0x1A}, "offline"),  # offline, and nothing more to say
    ],
)
def test_tcp_printer_status_stops_the_job(answers, kind):
    with (TcpPrinter(answers=answers) as peer, open_backend(peer.uri + "?timeout=0.3") as printer,
          raises_kind(kind) as info):
        printer.check()
    assert "tcp 127.0.0.1" in str(info.value)


def test_tcp_paper_near_end_prints_and_says_so():
    with TcpPrinter(answers={1: OK, 2: OK, 4: 0x1E}) as peer, open_backend(peer.uri) as printer:
        printer.check()
        assert printer.paper_near_end


def test_a_silent_tcp_printer_is_offline_when_status_is_on():
    with (TcpPrinter(answers=None) as peer, open_backend(peer.uri + "?timeout=0.3") as printer,
          Clock() as clock, raises_kind("offline") as info):
        printer.check()
    assert 0.25 < clock.elapsed < 1.0
    assert "status=0" in str(info.value)


def test_a_silent_tcp_printer_prints_when_status_is_off():
    with TcpPrinter(answers=None) as peer:
        with open_backend(peer.uri + "?timeout=0.3&status=0") as printer:
            with Clock() as clock:
                printer.check()
            assert clock.elapsed < 0.1 and not peer.accepted.is_set()  # not even connected
            with raises_kind("unconfirmed"):
                printer.send(job(b"ticket"))
        assert peer.done.wait(2)
    assert bytes(peer.received) == b"ticket"


def test_a_tcp_printer_that_stops_reading_times_out():
    with TcpPrinter("stall") as peer, open_backend(peer.uri + "?timeout=0.3&status=0") as printer:
        with Clock() as clock, raises_kind("timeout") as info:
            printer.send(big_job())
        assert peer.accepted.is_set()
    assert clock.elapsed < 1.3
    assert "took no data for 0.3 s" in str(info.value)


def test_a_tcp_printer_that_hangs_up_mid_job_is_disconnected():
    with (TcpPrinter("hangup", hangup_after=1000) as peer, open_backend(peer.uri + "?timeout=1&status=0") as printer,
          Clock() as clock, raises_kind("disconnected")):
        printer.send(big_job())
    assert clock.elapsed < 1.5
    assert 1000 <= len(peer.received) < 32 * 1024 * 1024


def test_a_refused_tcp_connection_is_offline():
    with socket.socket() as closed:  # bound, not listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        uri = f"tcp://127.0.0.1:{closed.getsockname()[1]}?timeout=1"
        with open_backend(uri) as printer:
            with raises_kind("offline") as info:
                printer.check()
            with raises_kind("offline"):
                printer.send(job())
    assert "refused" in str(info.value)


def test_a_tcp_backend_connects_again_after_a_failure():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        printer = open_backend(f"tcp://127.0.0.1:{port}?timeout=1&status=0")
        with raises_kind("offline"):
            printer.send(job())
        closed.listen(1)  # the printer is switched on
        with raises_kind("unconfirmed"):
            printer.send(job(b"second try"))
        printer.close()
        conn, _ = closed.accept()
        with conn:
            conn.settimeout(2)
            received = b""
            while chunk := conn.recv(100):
                received += chunk
    assert received == b"second try"


# --------------------------------------------------------------------------- serial


def test_serial_printer_answers_status_and_receives_the_bytes():
    data = bytes(range(256)) * 20
    with PtyPrinter(answers={1: OK, 2: OK, 4: OK}) as peer:
        with open_backend(peer.uri(timeout=1)) as printer:
            printer.check()
            printer.send(job(data))
        assert peer.wait_for(2 * len(QUERIES) + len(data)) == QUERIES + data + QUERIES
    assert peer.answerer.queries == [1, 2, 4, 1, 2, 4]


def test_serial_printer_out_of_paper():
    with (PtyPrinter(answers={1: 0x1A, 2: 0x32, 4: 0x7E}) as peer, open_backend(peer.uri(timeout=1)) as printer,
          raises_kind("paper_out")):
        printer.check()


def test_a_silent_serial_printer_is_offline():
    with (PtyPrinter(answers=None) as peer, open_backend(peer.uri(timeout=0.2)) as printer,
          Clock() as clock, raises_kind("offline")):
        printer.check()
    assert clock.elapsed < 1.0


def test_a_serial_printer_that_stops_reading_times_out():
    with (PtyPrinter("stall") as peer, open_backend(peer.uri(timeout=0.3, status=0)) as printer,
          Clock() as clock, raises_kind("timeout")):
        printer.send(big_job())
    assert clock.elapsed < 1.3


def test_a_serial_printer_unplugged_mid_job_is_disconnected():
    with PtyPrinter("unplug", unplug_after=1000) as peer, open_backend(peer.uri(timeout=1, status=0)) as printer:
        with raises_kind("disconnected"):
            printer.send(big_job())
        assert peer.unplugged.wait(2)


def test_a_missing_serial_device_is_offline(tmp_path):
    with open_backend(f"serial://{tmp_path}/ttyUSB9?timeout=0.5") as printer, raises_kind("offline") as info:
        printer.check()
    assert "ttyUSB9" in str(info.value) and "not found" in str(info.value)


# --------------------------------------------------------------------------- file


def test_file_printer_appends_each_job(tmp_path):
    path = tmp_path / "lp0"
    with open_backend(f"file://{path}") as printer:
        printer.check()
        printer.send(job(b"first"))
        printer.send(job(b"second"))
    assert path.read_bytes() == b"firstsecond"


def test_file_printer_errors(tmp_path):
    with raises_kind("offline") as info:
        open_backend(f"file://{tmp_path}/no-such-dir/lp0").send(job())
    assert "no-such-dir" in str(info.value)
    with raises_kind("config"):
        open_backend(f"file://{tmp_path}").send(job())  # a directory


def test_a_printer_device_file_cannot_confirm():
    with raises_kind("unconfirmed") as info:
        open_backend("file:///dev/null").send(job())  # a character device, as /dev/usb/lp0
    assert info.value.delivered


def test_file_printer_never_makes_a_file_in_dev():
    path = "/dev/kiosk-test-no-such-printer"
    with raises_kind("offline"):
        open_backend(f"file://{path}").send(job())
    assert not os.path.exists(path)


def test_file_printer_that_stops_reading_times_out(tmp_path):
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # there, but never reads
    try:
        with Clock() as clock, raises_kind("timeout"):
            open_backend(f"file://{fifo}?timeout=0.3").send(big_job())
    finally:
        os.close(reader)
    assert clock.elapsed < 1.3
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_file_printer_with_nobody_there_is_offline(tmp_path):
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)  # no reader: like a device node whose printer is gone (ENXIO)
    with raises_kind("offline"):
        open_backend(f"file://{fifo}").send(job())


# --------------------------------------------------------------------------- cups


def fake_lp(directory, body: str):
    lp = directory / "lp"
    lp.write_text("#!/bin/sh\n" + body)
    lp.chmod(0o755)
    return lp


def test_cups_without_lp_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with raises_kind("config") as info:
        open_backend("cups://receipts").send(job())
    assert "`lp` is not installed" in str(info.value)


def test_cups_sends_the_raw_bytes_through_lp(tmp_path, monkeypatch):
    out = tmp_path / "job.bin"
    fake_lp(tmp_path, f'echo "$@" > {tmp_path}/args\ncat > {out}\necho "request id is receipts-7 (1 file(s))"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    data = bytes(range(256)) * 300
    with open_backend("cups://receipts?timeout=2") as printer:
        printer.check()
        with raises_kind("unconfirmed") as info:  # queued: the printer's word does not come back
            printer.send(job(data))
        assert info.value.delivered
    assert out.read_bytes() == data
    assert (tmp_path / "args").read_text().split() == ["-d", "receipts", "-o", "raw", "-t", "A0001-1"]


@pytest.mark.parametrize(
    "message, kind",
    [
        ("lp: The printer or class does not exist.", "config"),
        ("lp: Unable to connect to server: Connection refused", "offline"),
        ("lp: Error - printer is on fire", "error"),
    ],
)
def test_cups_lp_failures(tmp_path, monkeypatch, message, kind):
    fake_lp(tmp_path, f'cat > /dev/null\necho "{message}" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with raises_kind(kind) as info:
        open_backend("cups://receipts").send(job())
    assert message in str(info.value)


def test_cups_lp_that_hangs_times_out(tmp_path, monkeypatch):
    fake_lp(tmp_path, "exec sleep 30\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with Clock() as clock, raises_kind("timeout"):
        open_backend("cups://receipts?timeout=0.3").send(job())
    assert clock.elapsed < 1.3


# --------------------------------------------------------------------------- usb (no device here)


class FakeEndpoint:
    def __init__(self, address: int, attributes: int = 2) -> None:  # 2: bulk
        self.bEndpointAddress, self.bmAttributes = address, attributes


class FakeInterface(list):
    bInterfaceNumber = 0


class FakeBackend:
    pass


class FakeUsbDevice:
    """Just enough of a pyusb Device for python-escpos' Usb."""

    def __init__(self, endpoints=(0x81, 0x03), answers=b"", write_error=None) -> None:
        self.backend = FakeBackend()
        self.default_timeout = 1000
        self.interface = FakeInterface(FakeEndpoint(a) for a in endpoints)
        self.answers = bytearray(answers)
        self.write_error = write_error
        self.writes: list[tuple[int, bytes, int]] = []
        self.reads: list[tuple[int, int]] = []

    def set_configuration(self):
        pass

    def reset(self):
        pass

    def get_active_configuration(self):
        return [self.interface]

    def write(self, endpoint, data, timeout=None):
        if self.write_error:
            raise self.write_error
        self.writes.append((endpoint, bytes(data), timeout))
        return len(data)

    def read(self, endpoint, size, timeout=None):
        self.reads.append((endpoint, timeout))
        if not self.answers:
            import usb.core

            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
        return bytes([self.answers.pop(0)])


@pytest.fixture
def usb_find(monkeypatch):
    usb_core = pytest.importorskip("usb.core")

    def install(result):
        def find(**kwargs):
            if isinstance(result, Exception):
                raise result
            return result

        monkeypatch.setattr(usb_core, "find", find)

    return install


def test_usb_without_libusb_or_device_says_so_clearly():
    """Whatever this machine has: no libusb (config) or no such printer (offline)."""
    with open_backend("usb://0416:5011?timeout=0.5") as printer, pytest.raises(PrinterError) as info:
        printer.send(job())
    assert info.value.kind in ("config", "offline")
    assert "0416:5011" in str(info.value) or "libusb" in str(info.value)


def test_usb_without_libusb_is_a_config_error(usb_find):
    import usb.core

    usb_find(usb.core.NoBackendError("No backend available"))
    with open_backend("usb://0416:5011") as printer, raises_kind("config") as info:
        printer.check()
    assert "libusb" in str(info.value)


def test_usb_printer_not_plugged_in_is_offline(usb_find):
    usb_find(None)
    with open_backend("usb://0416:5011") as printer, raises_kind("offline") as info:
        printer.send(job())
    assert "usb 0416:5011" in str(info.value) and "unplugged" in str(info.value)


def test_usb_finds_its_endpoints_and_uses_the_timeout_everywhere(usb_find):
    device = FakeUsbDevice(endpoints=(0x81, 0x03), answers=bytes([OK] * 6))
    usb_find(device)
    data = bytes(10_000)
    with open_backend("usb://0416:5011?timeout=0.5") as printer:
        printer.check()
        printer.send(job(data))
    assert device.reads == [(0x81, 500)] * 6
    assert {(endpoint, timeout) for endpoint, _, timeout in device.writes} == {(0x03, 500)}
    assert b"".join(chunk for _, chunk, _ in device.writes) == QUERIES + data + QUERIES
    assert device.default_timeout == 500


def test_usb_endpoints_given_in_the_uri_win(usb_find):
    device = FakeUsbDevice(endpoints=(0x81, 0x03), answers=bytes([0x1A, 0x32, 0x7E]))
    usb_find(device)
    with open_backend("usb://0416:5011?in_ep=0x82&out_ep=0x01") as printer, raises_kind("paper_out"):
        printer.check()
    assert device.reads[0][0] == 0x82 and device.writes[0][0] == 0x01


def test_usb_status_without_an_answer_is_offline_and_without_an_in_endpoint_unknown(usb_find):
    usb_find(FakeUsbDevice(answers=b""))
    with open_backend("usb://0416:5011?timeout=0.2") as printer, raises_kind("offline"):
        printer.check()
    one_way = FakeUsbDevice(endpoints=(0x02,))
    usb_find(one_way)
    with open_backend("usb://0416:5011") as printer:
        printer.check()  # cannot tell: goes on to print, and cannot say it printed
        with raises_kind("unconfirmed"):
            printer.send(job(b"x"))
    assert [(endpoint, data) for endpoint, data, _ in one_way.writes] == [(0x02, b"x")]


@pytest.mark.parametrize(
    "error, kind",
    [
        ("timeout", "timeout"),
        ("nodev", "disconnected"),
        ("pipe", "disconnected"),
    ],
)
def test_usb_write_failures(usb_find, error, kind):
    import usb.core

    errors = {
        "timeout": usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT),
        "nodev": usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV),
        "pipe": usb.core.USBError("Pipe error", -9, errno.EPIPE),
    }
    usb_find(FakeUsbDevice(write_error=errors[error]))
    with open_backend("usb://0416:5011?status=0") as printer, raises_kind(kind):
        printer.send(job())


def test_usb_endpoints_of_a_device_that_cannot_describe_itself():
    assert usb_endpoints(object(), 0) is None
    device = FakeUsbDevice(endpoints=(0x83, 0x81, 0x02, 0x04))
    device.interface.insert(0, FakeEndpoint(0x85, attributes=3))  # interrupt, not bulk
    assert usb_endpoints(device, 0) == (0x83, 0x02)
    assert usb_endpoints(device, 1) is None


# --------------------------------------------------------------------------- any python-escpos device


class StatusDummy(Dummy):
    def __init__(self, answers: bytes = bytes([OK, OK, OK])) -> None:
        super().__init__()
        self.answers = bytearray(answers)

    def _read(self) -> bytes:
        return bytes([self.answers.pop(0)]) if self.answers else b""


class FailingDummy(Dummy):
    def __init__(self, error: BaseException, after: int = 0) -> None:
        super().__init__()
        self.error, self.after = error, after

    def _raw(self, msg: bytes) -> None:
        if len(self.output) + len(msg) > self.after:
            raise self.error
        super()._raw(msg)


def test_a_plain_dummy_prints_and_cannot_tell_its_status():
    device = Dummy()
    with EscposBackend(device, status=True, timeout=1) as printer:
        printer.check()
        assert device.output == b""  # no status query sent where no answer can come back
        data = bytes(range(256)) * 50
        with raises_kind("unconfirmed") as info:
            printer.send(job(data))
        assert info.value.delivered
    assert device.output == data


@pytest.mark.parametrize(
    "answers, kind",
    [
        (bytes([OK, OK, 0x72]), "paper_out"),
        (bytes([0x1A, 0x32, 0x7E]), "paper_out"),
        (bytes([0x1A, 0x16, OK]), "cover_open"),
        (bytes([0x1A]), "offline"),
        (b"", "offline"),
        (bytes([OK, OK, OK]), None),
        (bytes([0x00, 0xFF, 0x00]), None),  # not status bytes: says nothing, prints
    ],
)
def test_a_dummy_answering_status(answers, kind):
    device = StatusDummy(answers)
    printer = EscposBackend(device, status=True, timeout=1)
    if kind is None:
        printer.check()
    else:
        with raises_kind(kind):
            printer.check()
    assert device.output.startswith(b"\x10\x04\x01")
    EscposBackend(StatusDummy(b""), status=False, timeout=1).check()  # status off: not asked


@pytest.mark.parametrize(
    "error, kind",
    [
        (OSError(errno.EIO, "Input/output error"), "disconnected"),
        (OSError("something"), "disconnected"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "disconnected"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "disconnected"),
        (TimeoutError("timed out"), "timeout"),
        (PermissionError(errno.EACCES, "Permission denied"), "config"),
        (RuntimeError("李工 13812345678"), "error"),
    ],
)
def test_device_exceptions_become_printer_errors(error, kind):
    device = FailingDummy(error, after=100)
    with raises_kind(kind) as info:
        EscposBackend(device, status=False, timeout=1).send(job(bytes(10_000)))
    assert "13812345678" not in str(info.value) and "李工" not in str(info.value)
    assert info.value.__cause__ is error


def test_python_escpos_own_exceptions_become_printer_errors():
    from escpos.exceptions import DeviceNotFoundError, TextError

    class Unplugged(Dummy):
        def open(self, raise_not_found=True):
            self.device = None
            raise DeviceNotFoundError("Could not open the specified file /dev/usb/lp0")

    with raises_kind("offline"):
        EscposBackend(Unplugged(), status=False, timeout=1).send(job())
    with raises_kind("error") as info:
        EscposBackend(FailingDummy(TextError("李工"), 0), status=False, timeout=1).send(job())
    assert "李工" not in str(info.value)


def test_a_device_call_that_never_returns_times_out():
    release = threading.Event()

    class Stuck(StatusDummy):
        def _raw(self, msg):
            release.wait(5)

    printer = EscposBackend(Stuck(), status=True, timeout=0.3)
    try:
        with Clock() as clock, raises_kind("timeout"):
            printer.send(job())
        assert clock.elapsed < 1.0
        with Clock() as clock, raises_kind("timeout") as info:  # not used again
            printer.check()
        assert "earlier call" in str(info.value)
        with raises_kind("timeout"):
            printer.send(job())
        assert clock.elapsed < 0.1
        printer.close()
    finally:
        release.set()


# --------------------------------------------------------------------------- preview


@pytest.fixture
def fake_preview(monkeypatch):
    import printer

    module = types.ModuleType("printer.preview")
    module.render_png = lambda document, profile, font=None: b"\x89PNG fake " + document.name.encode() + (
        b" " + font.name.encode() if font else b"")
    module.render_text = lambda document, profile: f"{document.name} 票\n"
    monkeypatch.setitem(sys.modules, "printer.preview", module)
    monkeypatch.setattr(printer, "preview", module, raising=False)
    return module


def test_preview_writes_bin_png_and_txt(tmp_path, fake_preview):
    with open_backend("preview://receipts", base_dir=tmp_path) as printer:
        printer.check()
        printer.send(job(b"\x1b@ticket"))
        printer.send(job(b"\x1b@again"))  # the same job again replaces its files
    out = tmp_path / "receipts"
    assert (out / "A0001-1.bin").read_bytes() == b"\x1b@again"
    assert (out / "A0001-1.png").read_bytes() == b"\x89PNG fake A0001"
    assert (out / "A0001-1.txt").read_text("utf-8") == "A0001 票\n"
    assert sorted(p.name for p in out.iterdir()) == ["A0001-1.bin", "A0001-1.png", "A0001-1.txt"]


def test_preview_png_uses_the_configured_font(tmp_path, fake_preview):
    with open_backend("preview://r", base_dir=tmp_path, font=tmp_path / "cjk.otf") as printer:
        printer.send(job())
    assert (tmp_path / "r" / "A0001-1.png").read_bytes() == b"\x89PNG fake A0001 cjk.otf"


def test_preview_write_errors_name_the_path(tmp_path, fake_preview):
    (tmp_path / "blocked").write_text("a file where the directory should be")
    with raises_kind("error") as info:
        open_backend("preview://blocked/receipts", base_dir=tmp_path).send(job())
    assert str(tmp_path / "blocked" / "receipts") in str(info.value)
    os.mkdir(tmp_path / "out")
    os.mkdir(tmp_path / "out" / "A0001-1.png")  # the file's place is taken
    with raises_kind("error") as info:
        open_backend("preview://out", base_dir=tmp_path).send(job())
    assert "A0001-1.png" in str(info.value)
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []  # no temp left


def test_preview_renders_with_printer_preview(tmp_path):
    pytest.importorskip("printer.preview", reason="printer/preview.py not written yet")
    from printer.escpos_render import render_escpos

    data = render_escpos(DOCUMENT, PROFILE)
    with open_backend(f"preview://{tmp_path}") as printer:
        printer.send(Job("A0001-1", data, DOCUMENT, PROFILE))
    assert (tmp_path / "A0001-1.bin").read_bytes() == data
    assert (tmp_path / "A0001-1.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "A0001" in (tmp_path / "A0001-1.txt").read_text("utf-8")
