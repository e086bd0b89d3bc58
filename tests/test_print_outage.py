"""Every database write of the print path meeting a full disk: the job's claim (attempt count), its
outcome (printed, or failed with its retry time), and the customer's "print again". The spool
loses nothing and prints nothing twice; the kiosk and the desk go out of service in words, never
with a traceback, and come back by themselves on their next try.

The failure is SQLite's own error for a full disk (SQLITE_FULL), raised where the database thread
would meet it; tests/ops/test_print_full_disk.py fills a real disk under the running kiosk."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from db.models import PrintJob, utc_now
from kiosk.printing import spool
from kiosk.printing.spool import BACKOFF_SECONDS, Backlog, PrinterSettings, print_due
from kiosk.settings.institute import load_institute
from printer.backends import PrinterError

from .kiosk_pilot import FakeClock, make_app, register_one, screen_text, settle
from .ops.conftest import register_one as register_stored


def disk_full() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = 13  # SQLITE_FULL, as the sqlite3 module sets it
    return error


class Spool:
    """print_due on the test's own thread, with one database function made to meet a full disk
    (`full`: its name) and a printer that records what it was sent."""

    def __init__(self, printer_error: PrinterError | None = None) -> None:
        self.full: str | None = None
        self.sent: list[int] = []
        self.printer_error = printer_error
        self.backlog = Backlog()

    async def run_in_db(self, fn, *args):
        if fn.__name__ == self.full:
            raise disk_full()  # SQLite rolled the statement back: nothing of it was written
        return fn(*args)

    async def run_in_printer(self, fn, claimed, settings):
        self.sent.append(claimed.job_id)
        return self.printer_error

    async def run(self):
        return await print_due(self.run_in_db, self.run_in_printer, PrinterSettings("preview://r", "58mm", None, None),
                               load_institute(None, None), backlog=self.backlog)


def states() -> list[tuple[str, int]]:
    return [(j.state, j.attempts) for j in PrintJob.select().order_by(PrintJob.id)]


async def test_an_outcome_that_cannot_be_written_is_written_later_and_never_printed_again(db, catalog):
    register_stored()
    register_stored()
    s = Spool()
    s.full = "finish_job"
    with pytest.raises(sqlite3.OperationalError):
        await s.run()
    assert s.sent == [1] and len(s.backlog.unrecorded) == 1 and states() == [("printing", 1), ("pending", 0)]
    with pytest.raises(sqlite3.OperationalError):
        await s.run()  # still full: the outcome is tried first, and nothing is sent
    assert s.sent == [1] and len(s.backlog.unrecorded) == 1
    printed_at = s.backlog.unrecorded[0].at
    s.full = None
    assert await s.run() is None
    assert s.sent == [1, 2] and s.backlog.unrecorded == [] and states() == [("printed", 1), ("printed", 1)]
    assert PrintJob.get_by_id(1).printed_at == printed_at  # when it printed, not when it was written


async def test_a_failure_that_cannot_be_written_keeps_its_retry_schedule(db, catalog):
    register_stored()
    s = Spool(PrinterError("the printer is off", kind="offline"))
    s.full = "finish_job"
    with pytest.raises(sqlite3.OperationalError):
        await s.run()
    failed_at = s.backlog.unrecorded[0].at
    s.full = None
    s.printer_error = None
    retry_at = await s.run()  # the failure is written with the backoff from when it happened
    job = PrintJob.get_by_id(1)
    assert (job.state, job.attempts, s.sent) == ("failed", 1, [1])
    assert retry_at == job.next_attempt_at == failed_at + timedelta(seconds=BACKOFF_SECONDS[0])


async def test_a_claim_that_cannot_be_written_leaves_the_job_due(db, catalog):
    register_stored()
    s = Spool()
    s.full = "claim_job"
    with pytest.raises(sqlite3.OperationalError):
        await s.run()
    assert s.sent == [] and s.backlog.unrecorded == [] and states() == [("pending", 0)]
    assert spool.due_jobs() == [1]
    s.full = None
    await s.run()
    assert s.sent == [1] and states() == [("printed", 1)]


# ---- the apps ---------------------------------------------------------------------------------


def fail_once_full(monkeypatch, name: str) -> list[int]:
    """spool.<name> meets a full disk until the returned list is emptied by the test."""
    real = getattr(spool, name)
    full = [1]

    def maybe_full(*args, **kwargs):
        if full:
            raise disk_full()
        return real(*args, **kwargs)

    maybe_full.__name__ = name
    monkeypatch.setattr(spool, name, maybe_full)
    return full


async def test_the_kiosk_goes_out_of_service_when_a_receipt_cannot_be_claimed_and_comes_back(monkeypatch):
    clock = FakeClock()
    app = make_app(clock=clock)
    full = fail_once_full(monkeypatch, "claim_job")
    async with app.run_test(size=(120, 40)) as pilot:
        await register_one(pilot)  # the ticket is stored; its receipt cannot start
        assert type(app.screen).__name__ == "OutOfService" and app.is_running
        text = screen_text(app)
        assert "自助机暂停服务：磁盘已满" in text and "The kiosk is out of service: The disk is full" in text
        assert app.draft.is_empty  # the customer's details went with the screens
        assert [(j.state, j.attempts) for j in PrintJob.select()] == [("pending", 0)]
        await pilot.press("escape", "f5")  # nothing gets a customer past it
        assert type(app.screen).__name__ == "OutOfService"
        full.clear()  # room again
        clock.now += 29
        app.idle_tick()
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService"  # tried again every 30 s, not sooner
        clock.now += 2
        app.idle_tick()
        await settle(pilot)
        assert type(app.screen).__name__ == "WelcomeScreen"
        assert [(j.state, j.attempts) for j in PrintJob.select()] == [("printed", 1)]
        receipts = sorted(p.suffix for p in (app.config.data_dir / "receipts").iterdir())
        assert receipts == [".bin", ".png", ".txt"]  # printed once


async def test_print_again_on_a_full_disk_is_kept_until_the_database_takes_it(monkeypatch):
    from tests.test_kiosk_printing import NetworkPrinter, _closed_port

    clock = FakeClock()
    app = make_app(clock=clock, printer_uri=f"tcp://127.0.0.1:{_closed_port()}?timeout=1")  # off: it fails
    async with app.run_test(size=(120, 40)) as pilot:
        await register_one(pilot)
        assert app.screen.query_one("#retry").display
        full = fail_once_full(monkeypatch, "retry_now")
        await pilot.click("#retry")  # 重新打印, on a full disk
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService" and app.is_running
        assert [(j.state, j.attempts) for j in PrintJob.select()] == [("failed", 1)]
        clock.now += 31
        app.idle_tick()  # still full: the request is tried again, and kept
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService"
        printer = NetworkPrinter()  # meanwhile the printer was switched on
        app.config = replace(app.config, printer_uri=f"tcp://127.0.0.1:{printer.port}?timeout=2")
        full.clear()
        clock.now += 31
        app.idle_tick()
        await settle(pilot)
        assert type(app.screen).__name__ == "WelcomeScreen"
        assert [(j.state, j.attempts) for j in PrintJob.select()] == [("printed", 1)]  # a fresh set of attempts
        printer.thread.join(timeout=5)
        assert PrintJob.get().ticket.number.encode() in printer.received


async def test_the_desk_goes_out_of_service_locked_and_comes_back_to_its_lock_screen(monkeypatch):
    from tests.test_desk_app import make_desk, sign_in

    clock = FakeClock()
    app, (number,) = make_desk(clock=clock)
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        full = fail_once_full(monkeypatch, "finish_job")
        await pilot.press(*number, "enter")
        await settle(pilot)
        await pilot.press("f5")  # received: its voucher prints, and its outcome meets the full disk
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService" and app.clerk is None
        assert "收发室程序暂停服务：磁盘已满" in screen_text(app)
        await pilot.press("f11")  # no clerk behind it: nothing opens
        assert type(app.screen).__name__ == "OutOfService"
        full.clear()
        app.print_retry_at = utc_now()  # the desk's clock is the wall clock: its 30 s are up
        app.idle_tick()
        await settle(pilot)
        assert type(app.screen).__name__ == "UnlockScreen" and app.clerk is None
        vouchers = [(j.state, j.attempts) for j in PrintJob.select().where(PrintJob.kind == "voucher")]
        assert vouchers == [("printed", 1)]
