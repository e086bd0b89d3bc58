"""The print worker (kiosk/printing/worker.py): the station's receipts rendered and sent in a
child process, so the station's own never holds what printing needs. The same bytes as
printing in-process on every profile; a child that dies or hangs is a printer fault, never
a receipt counted printed and never a hang; a child with nothing to do ends; a station that
dies takes its child with it; the child never loads the database."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bench.printing import ticket
from db.models import PrintJob, Ticket
from kiosk.printing.labels import LabelPrinter
from kiosk.printing.send import ClaimedJob, PrinterSettings, send_job
from kiosk.printing.worker import PrintWorker
from printer.document import Document, Text
from printer.labels.document import Label, LabelSheet
from printer.profiles import PROFILES
from screens.ticket import TicketScreen

from .kiosk_pilot import FakeClock, make_app, register_one, settle
from .printer_peers import ALL_OK, TcpPrinter

ROOT = Path(__file__).resolve().parent.parent


def _gone(pid: int, within: float = 10.0) -> bool:
    """The process has ended (a zombie nobody reaped counts as ended)."""
    until = time.monotonic() + within
    while time.monotonic() < until:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def worker():
    worker = PrintWorker()
    yield worker
    worker.close()


def test_every_profile_prints_the_same_bytes_and_previews_through_the_worker(worker, tmp_path, caplog):
    document = ticket(3)
    for n, profile in enumerate(PROFILES):
        there = PrinterSettings("preview://worker", profile, None, tmp_path)
        here = PrinterSettings("preview://here", profile, None, tmp_path)
        with caplog.at_level(logging.INFO, logger="printer.backends"):
            assert worker.send(send_job, ClaimedJob(n, 1, 1, document), there) is None
        assert send_job(ClaimedJob(n, 1, 1, document), here) is None
        for suffix in ("bin", "png", "txt"):
            name = f"{document.name}-{n}.{suffix}"
            assert (tmp_path / "worker" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
    assert worker.started == 1  # one child for them all
    assert sum("preview" in r.getMessage() and r.process == worker.pid for r in caplog.records) == len(PROFILES)


def test_labels_print_the_same_through_the_worker(worker, tmp_path):
    sheet = LabelSheet((Label("K1A-261124-0007", ("压力表 1/2", "示范燃气"), "K1A2611240007 1 1", ("检", "校")),),
                       "K1A-261124-0007-labels")
    labels = LabelPrinter("preview://labels-worker", "tspl", "40x30")
    there = PrinterSettings("preview://unused", "58mm", None, tmp_path, labels)
    here = PrinterSettings("preview://unused", "58mm", None, tmp_path, replace(labels, uri="preview://labels-here"))
    assert worker.send(send_job, ClaimedJob(7, 1, 1, sheet), there) is None
    assert send_job(ClaimedJob(7, 1, 1, sheet), here) is None
    for suffix in ("bin", "png", "txt"):
        name = f"{sheet.name}-7.{suffix}"
        assert (tmp_path / "labels-worker" / name).read_bytes() == (tmp_path / "labels-here" / name).read_bytes()


def test_the_child_never_loads_the_database_or_textual(worker, tmp_path):
    document = Document((Text("受理单"),), "K1A-261124-0007")
    assert worker.send(send_job, ClaimedJob(1, 1, 1, document), PrinterSettings("preview://r", "58mm", None,
                                                                                tmp_path)) is None
    loaded = worker.send(eval, "sorted(__import__('sys').modules)")
    assert "escpos.printer" in loaded and "PIL.Image" in loaded  # the printing happened there
    assert not [m for m in loaded if m.split(".")[0] in ("db", "peewee", "sqlite3", "textual", "screens")]
    assert worker.pid != os.getpid()


@pytest.mark.reliability  # kill -9
def test_a_child_killed_mid_receipt_is_a_printer_fault_and_the_next_job_gets_a_new_one(worker, tmp_path):
    document = ticket(1)
    with TcpPrinter("stall") as stalled:  # takes the connection, never reads: the child waits in send
        settings = PrinterSettings(stalled.uri + "?timeout=30", "58mm", None, tmp_path)
        killer = threading.Thread(target=lambda: stalled.accepted.wait(10) and os.kill(worker.pid, signal.SIGKILL))
        killer.start()
        started = time.monotonic()
        error = worker.send(send_job, ClaimedJob(1, 1, 1, document), settings)
        killer.join()
    assert time.monotonic() - started < 10  # not the printer's 30 s: the death is seen at once
    assert error is not None and error.kind == "error" and not error.delivered  # failed, tried again: not printed
    assert "SIGKILL" in str(error)
    with TcpPrinter("print", answers=ALL_OK) as good:
        settings = PrinterSettings(good.uri + "?timeout=5", "58mm", None, tmp_path)
        assert worker.send(send_job, ClaimedJob(1, 1, 2, document), settings) is None
    assert worker.started == 2 and document.name.encode() in good.received


def test_a_child_that_does_not_answer_in_time_is_killed_and_the_job_timed_out(tmp_path):
    worker = PrintWorker(deadline=1.0)
    try:
        with TcpPrinter("stall") as stalled:
            settings = PrinterSettings(stalled.uri + "?timeout=30", "58mm", None, tmp_path)
            started = time.monotonic()
            error = worker.send(send_job, ClaimedJob(1, 1, 1, ticket(1)), settings)
            took = time.monotonic() - started
        assert error.kind == "timeout" and not error.delivered and "1 s" in str(error)
        assert 1.0 <= took < 5 and worker.pid is None
    finally:
        worker.close()


def test_a_child_with_nothing_to_print_ends_and_the_next_job_starts_another(tmp_path):
    worker = PrintWorker(idle_seconds=0.3)
    try:
        settings = PrinterSettings("preview://r", "58mm", None, tmp_path)
        assert worker.send(send_job, ClaimedJob(1, 1, 1, ticket(1)), settings) is None
        first = worker.pid
        assert first is not None and _gone(first)
        assert worker.send(send_job, ClaimedJob(2, 1, 1, ticket(1)), settings) is None
        assert worker.started == 2 and worker.pid not in (None, first)
    finally:
        worker.close()


def test_a_job_that_comes_as_an_idle_child_ends_goes_to_a_new_one(tmp_path):
    worker = PrintWorker(idle_seconds=0.2)
    try:
        assert worker.send(eval, "1") == 1
        first = worker._process
        assert _gone(first.pid)  # ended for want of work, not reaped yet
        first.poll = lambda: None  # as if the job came a moment before it ended: it is written to a dead pipe
        settings = PrinterSettings("preview://r", "58mm", None, tmp_path)
        assert worker.send(send_job, ClaimedJob(3, 1, 1, ticket(1)), settings) is None  # not a printer fault
        assert worker.started == 2 and (tmp_path / "r" / f"{ticket(1).name}-3.bin").exists()
    finally:
        worker.close()


def test_a_station_killed_takes_its_print_worker_with_it():
    script = ("import sys, time\n"
              "from kiosk.printing.worker import PrintWorker\n"
              "worker = PrintWorker()\n"
              "assert worker.send(eval, '1') == 1\n"
              "print(worker.pid, flush=True)\n"
              "time.sleep(60)\n")
    station = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(station.stdout.readline())
        assert not _gone(child, within=0.2)
        station.kill()  # kill -9: nothing of the station's runs after
        station.wait()
        assert _gone(child)
    finally:
        station.kill()
        station.stdout.close()


@pytest.mark.reliability  # kill -9
async def test_the_kiosk_prints_through_its_worker_and_a_worker_killed_mid_receipt_is_retried(tmp_path):
    with TcpPrinter("stall") as stalled:
        app = make_app(clock=FakeClock(), printer_uri=stalled.uri + "?timeout=30")  # no retry by itself meanwhile
        killed = []

        def kill_the_child() -> None:  # once the receipt is on its way, in the child, at the printer
            if stalled.accepted.wait(30):
                killed.append(app.print_worker.pid)
                os.kill(killed[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_the_child)
        killer.start()
        async with app.run_test(size=(120, 40)) as pilot:
            await register_one(pilot)  # waits for the print pass: it ends when the child dies
            await asyncio.to_thread(killer.join)
            assert isinstance(app.screen, TicketScreen)
            assert killed[0] is not None and killed[0] != os.getpid()
            job = PrintJob.get(PrintJob.ticket == Ticket.get().id)
            assert job.state == "failed" and job.printed_at is None and job.next_attempt_at is not None
            assert "print worker" in job.last_error and job.last_error.startswith("error:")
            assert app.screen.query_one("#retry").display

            with TcpPrinter("print", answers=ALL_OK) as good:  # a person asks again: a new child prints it
                app.config = replace(app.config, printer_uri=good.uri + "?timeout=5")
                await pilot.click("#retry")
                await settle(pilot)
                assert PrintJob.get_by_id(job.id).state == "printed"
                assert app.print_worker.started == 2
        assert app.print_worker.pid is None  # the station ended: so did its child
