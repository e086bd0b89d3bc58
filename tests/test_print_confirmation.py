"""Printed means the printer has it: a receipt counts as printed only when the printer, asked
after the job's last byte, says it is ready with paper. Real receipts go through the kiosk's own
spool to printers at the other end of real connections (a loopback socket, a pseudo terminal)
that stop reading, close, reset, never accept, run out of paper, or answer. What a person
would notice is checked: the job's state, whether it comes back by itself, how many receipts
the printer got, and what the ticket screen says.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from db.models import PrintJob, utc_now
from kiosk.domain.fees import LineRequest, default_policy
from kiosk.printing.receipts import job_document
from kiosk.printing.spool import PrinterSettings, due_jobs, print_job, retry_now
from kiosk.settings.institute import load_institute
from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register
from printer.backends import Job, open_backend
from printer.escpos_render import render_escpos
from printer.profiles import PROFILES
from screens.ticket import TicketScreen

from .escpos_stream import commands, parse
from .kiosk_pilot import make_app, register_one, screen_text, settle
from .printer_peers import ALL_OK, PAPER_OUT, PtyPrinter, TcpPrinter

QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"  # DLE EOT 1, 2, 4


@pytest.fixture
def ticket(catalog):
    reg = Registration(CustomerDetails("示范燃气有限公司", "", "", "李工", "13812345678"),
                       (InstrumentLine(LineRequest("L-001-001", quantity=2, use="safety")),))
    return register(reg, catalog, default_policy(), ensure_device("K1"))


def _receipt(ticket, profile: str = "58mm") -> bytes:
    document = job_document("ticket", ticket.id, load_institute(), "zh")
    return render_escpos(document, PROFILES[profile])


def _print(ticket, uri: str, tmp_path, profile: str = "58mm"):
    return print_job(ticket.print_job_id, PrinterSettings(uri, profile, None, tmp_path), load_institute())


def _receipts_in(data: bytes) -> int:
    """Whole receipts the printer got: each ends with its cut."""
    return len(commands(parse(data), "GS V"))


def _job():
    return PrintJob.get()


def test_the_receipt_is_about_a_kilobyte(ticket):
    assert 700 < len(_receipt(ticket)) < 1500


def test_a_printer_that_answers_after_the_job_printed_it_once(ticket, tmp_path):
    receipt = _receipt(ticket)
    with TcpPrinter(answers=ALL_OK) as peer:
        outcome = _print(ticket, peer.uri + "?timeout=2", tmp_path)
        assert peer.done.wait(2)
    assert (outcome.state, _job().state) == ("printed", "printed") and _job().printed_at
    assert bytes(peer.received) == QUERIES + receipt + QUERIES  # asked again after the last byte
    assert _receipts_in(bytes(peer.received)) == 1
    assert due_jobs(utc_now() + timedelta(days=1)) == []


def test_a_printer_that_stops_reading_mid_receipt_is_unconfirmed_not_printed(ticket, tmp_path):
    """It took 300 bytes and stopped; its network stack holds the rest, so it may yet print
    them: no answer comes, within the timeout, and nothing prints it again by itself."""
    with TcpPrinter("stop", hangup_after=300, answers=ALL_OK) as peer:
        started = time.monotonic()
        outcome = _print(ticket, peer.uri + "?timeout=0.5", tmp_path)
        took = time.monotonic() - started
        assert len(peer.received) == 300
    assert took < 2  # the kiosk is not held up
    assert (outcome.state, outcome.error_kind, outcome.retry_at) == ("unconfirmed", "unconfirmed", None)
    assert _job().state == "unconfirmed" and _job().printed_at is None
    assert _job().last_error.startswith("unconfirmed: ")
    assert due_jobs(utc_now() + timedelta(days=1)) == []  # never again by itself: no duplicate


def test_a_printer_that_stops_reading_a_big_receipt_times_out_and_prints_it_whole_later(ticket, tmp_path):
    """A raster receipt is far bigger than the buffers: the sender would block. The job times
    out as not printed, what was queued is dropped (reset), and the retry prints one receipt."""
    receipt = _receipt(ticket, "58mm-raster")
    assert len(receipt) > 20_000
    with TcpPrinter("stop", hangup_after=300, answers=ALL_OK) as peer:
        started = time.monotonic()
        outcome = _print(ticket, peer.uri + "?timeout=0.5", tmp_path, "58mm-raster")
        took = time.monotonic() - started
    assert took < 2
    assert (outcome.state, outcome.error_kind) == ("failed", "timeout") and outcome.retry_at is not None
    assert _job().state == "failed" and len(peer.received) == 300
    assert due_jobs(outcome.retry_at + timedelta(seconds=1)) == [_job().id]
    with TcpPrinter(answers=ALL_OK) as peer:
        assert _print(ticket, peer.uri + "?timeout=2", tmp_path, "58mm-raster").state == "printed"
        assert peer.done.wait(2)
    assert bytes(peer.received) == QUERIES + receipt + QUERIES and _receipts_in(bytes(peer.received)) == 1


@pytest.mark.parametrize("mode", ["close", "hangup"])
def test_a_printer_that_closes_or_resets_after_300_bytes_did_not_print(ticket, tmp_path, mode):
    with TcpPrinter(mode, hangup_after=300, answers=ALL_OK) as peer:
        outcome = _print(ticket, peer.uri + "?timeout=1", tmp_path)
        assert peer.done.wait(2)
    assert (outcome.state, outcome.error_kind) == ("failed", "disconnected")
    assert _job().state == "failed" and len(peer.received) == 300
    assert due_jobs(outcome.retry_at + timedelta(seconds=1)) == [_job().id]  # it comes back by itself


def test_a_printer_that_never_accepts_is_offline(ticket, tmp_path):
    with socket.socket() as listening:  # the kernel completes the handshake; nobody accepts
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        started = time.monotonic()
        outcome = _print(ticket, f"tcp://127.0.0.1:{listening.getsockname()[1]}?timeout=0.5", tmp_path)
        assert time.monotonic() - started < 2
    assert (outcome.state, outcome.error_kind) == ("failed", "offline")
    assert _job().state == "failed" and outcome.retry_at is not None


def test_a_printer_out_of_paper_after_the_job_is_unconfirmed(ticket, tmp_path):
    """Ready before, out of paper after: the printer has the receipt in its buffer and finishes
    it on a new roll; printing it again by itself would make two."""
    receipt = _receipt(ticket)
    with TcpPrinter(status={"answers": ALL_OK, "then": PAPER_OUT, "after": len(QUERIES)}) as peer:
        outcome = _print(ticket, peer.uri + "?timeout=1", tmp_path)
        assert peer.done.wait(2)
    assert bytes(peer.received) == QUERIES + receipt + QUERIES
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "paper_out")
    assert _job().state == "unconfirmed" and _job().last_error.startswith("paper_out: ")
    assert due_jobs(utc_now() + timedelta(days=1)) == []


def test_a_printer_without_status_is_unconfirmed(ticket, tmp_path):
    with TcpPrinter(answers=ALL_OK) as peer:
        outcome = _print(ticket, peer.uri + "?timeout=1&status=0", tmp_path)
        assert peer.done.wait(2)
    assert bytes(peer.received) == _receipt(ticket)  # never asked
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "unconfirmed")


def test_a_person_prints_an_unconfirmed_job_again_as_a_copy(ticket, tmp_path):
    with TcpPrinter(answers=ALL_OK) as peer:
        assert _print(ticket, peer.uri + "?timeout=1&status=0", tmp_path).state == "unconfirmed"
    retry_now(_job().id)  # 重新打印
    assert (_job().state, _job().attempts, _job().is_copy) == ("pending", 0, True)
    with TcpPrinter(answers=ALL_OK) as peer:
        assert _print(ticket, peer.uri + "?timeout=2", tmp_path).state == "printed"
        assert peer.done.wait(2)
    assert "补打".encode("gb18030") in peer.received and _receipts_in(bytes(peer.received)) == 1
    assert PrintJob.select().count() == 1


def test_the_profile_declares_how_the_printer_confirms():
    assert {p.confirm for p in PROFILES.values()} <= {"dle_eot", "gs_r", "none"}
    data = b"\x1b@receipt"
    for confirm, transmit, expected in (("gs_r", {1: 0x00}, None), ("gs_r", {1: 0x0C}, "paper_out"),
                                        ("gs_r", {}, "unconfirmed"), ("none", {}, "unconfirmed")):
        profile = replace(PROFILES["58mm"], confirm=confirm)
        with TcpPrinter(status={"answers": ALL_OK, "transmit": transmit}) as peer:
            with open_backend(peer.uri + "?timeout=0.3") as printer:
                printer.check()
                try:
                    printer.send(Job("A0001-1", data, None, profile))
                    kind = None
                except Exception as e:  # noqa: BLE001 - the kind is what is checked
                    kind, delivered = e.kind, e.delivered
            assert peer.done.wait(2)
        assert kind == expected and (kind is None or delivered)
        asked = b"\x1dr\x01" if confirm == "gs_r" else b""
        assert bytes(peer.received) == QUERIES + data + asked


# --------------------------------------------------------------------------- serial, 9600 baud


def test_a_serial_printer_at_9600_baud_confirms_after_the_last_byte(ticket, tmp_path):
    receipt = _receipt(ticket)
    with PtyPrinter(answers=ALL_OK, baud=9600) as peer:
        started = time.monotonic()
        outcome = _print(ticket, peer.uri(baudrate=9600, timeout=3), tmp_path)
        took = time.monotonic() - started
        assert peer.wait_for(len(receipt) + 2 * len(QUERIES)) == QUERIES + receipt + QUERIES
    assert outcome.state == "printed" and _job().state == "printed"
    assert took > len(receipt) * 10 / 9600  # the answer came after the receipt went down the line


def test_a_serial_printer_that_goes_silent_during_the_job_is_unconfirmed(ticket, tmp_path):
    with PtyPrinter(status={"answers": ALL_OK, "then": {}, "after": len(QUERIES)}, baud=9600) as peer:
        outcome = _print(ticket, peer.uri(baudrate=9600, timeout=2), tmp_path)
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "unconfirmed")
    assert due_jobs(utc_now() + timedelta(days=1)) == []


# --------------------------------------------------------------------------- what the customer sees


async def test_the_ticket_screen_says_unconfirmed_and_print_again_prints_one_copy():
    stalled = TcpPrinter("stop", hangup_after=300, answers=ALL_OK)  # listening already
    # Two seconds, not less: the printer's first answer, from a thread of a loaded test machine,
    # must not be taken for a printer that is off (that is another message).
    app = make_app(printer_uri=stalled.uri + "?timeout=2")
    async with app.run_test(size=(120, 40)) as pilot:
        with stalled:
            await register_one(pilot)
            assert isinstance(app.screen, TicketScreen)
            await settle(pilot)
            shown = screen_text(app)
        assert "打印机没有回报打印结果，打印机没有确认受理单已打印出来" in shown and "请按「重新打印」" in shown
        assert app.screen.query_one("#retry").display
        assert [(j.state, j.is_copy) for j in PrintJob.select()] == [("unconfirmed", False)]
        with TcpPrinter(answers=ALL_OK) as good:
            app.config = replace(app.config, printer_uri=good.uri + "?timeout=2")
            await pilot.click("#retry")
            await settle(pilot)
            assert "受理单已打印，请取走。" in screen_text(app)
            assert not app.screen.query_one("#retry").display
            assert good.done.wait(2)
        assert [(j.state, j.is_copy) for j in PrintJob.select()] == [("printed", True)]
        assert _receipts_in(bytes(good.received)) == 1


async def test_the_desk_says_a_voucher_is_unconfirmed_and_ctrl_r_prints_one_copy():
    """A serial printer (the desk asks the printer now and then, so it opens it several times).
    The desk also prints the kiosk tickets its database holds unprinted: those too."""
    from tests.test_desk_app import make_desk, sign_in

    def jobs():
        return [(j.kind, j.state, j.is_copy) for j in PrintJob.select().order_by(PrintJob.id)]

    app, (number, *_) = make_desk()
    with PtyPrinter(answers=ALL_OK) as mute:
        app.config = replace(app.config, printer_uri=mute.uri(timeout=1, status=0))  # cannot answer
        async with app.run_test(size=(100, 36)) as pilot:
            await sign_in(pilot)
            await pilot.press(*number, "enter")
            await settle(pilot)
            await pilot.press("f5")  # received: its voucher prints
            await settle(pilot)
            assert ("voucher", "unconfirmed", False) in jobs()
            assert {state for _, state, _ in jobs()} == {"unconfirmed"}
            asked = len(jobs())
            said = [n.message for n in app._notifications]
            assert any("打印机没有确认单据已打印出来" in m and "Ctrl+R" in m for m in said), said
            with PtyPrinter(answers=ALL_OK) as good:
                app.config = replace(app.config, printer_uri=good.uri(timeout=2))
                await pilot.press("ctrl+r")
                await settle(pilot)
            assert ("voucher", "printed", True) in jobs()
            assert {(state, copy) for _, state, copy in jobs()} == {("printed", True)} and len(jobs()) == asked
            received = bytes(good.received)
            assert _receipts_in(received) == _receipts_in(bytes(mute.received)) > 0  # each once again
            assert "补打".encode("gb18030") in received
            await pilot.press("ctrl+r")  # nothing left unconfirmed: nothing more prints
            await settle(pilot)
            assert len(jobs()) == asked


def test_kiosk_register_says_the_printer_did_not_confirm(run, tmp_path):
    order = {"lines": [{"item": "L-001-001", "quantity": 1}], "customer": {"organisation": "示范燃气有限公司",
                                                                          "contact": "李工", "phone": "13812345678"}}
    with TcpPrinter(answers=ALL_OK) as peer:
        config = tmp_path / "kiosk.toml"
        config.write_text(f"[printer]\nuri = '{peer.uri}?timeout=1&status=0'\n", "utf-8")
        status, out, err = run("--config", str(config), "register", "--lang", "en", stdin=json.dumps(order))
    assert status == 0
    number = json.loads(out)["number"]
    assert f"Registered {number}, but the printer did not confirm its receipt printed" in err
    assert f"if none came out, run kiosk reprint {number}" in err and "kiosk will retry" not in err
    assert [(j.state, j.attempts) for j in PrintJob.select()] == [("unconfirmed", 1)]


def test_a_printer_that_takes_the_whole_receipt_then_hangs_up_is_unconfirmed_not_printed_twice(ticket, tmp_path):
    """Every byte arrived (the printer acknowledged them), then it closed the connection
    before answering: it may well have printed, so nothing prints again by itself. (A reset
    instead of a close can overtake the acknowledgement of the last bytes: then we cannot
    know they arrived, and the job is sent again whole: a copy too many, never a receipt lost.)"""
    whole = len(QUERIES) + len(_receipt(ticket))
    with TcpPrinter("close", hangup_after=whole, answers=ALL_OK) as peer:
        outcome = _print(ticket, peer.uri + "?timeout=1", tmp_path)
        assert peer.done.wait(2)
    assert len(peer.received) == whole and _receipts_in(bytes(peer.received)) == 1
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "unconfirmed")
    assert due_jobs(utc_now() + timedelta(hours=1)) == []  # never again by itself
