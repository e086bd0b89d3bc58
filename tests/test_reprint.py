"""One receipt per request (issue 19, item 4): a reprint of a job that has not printed yet is
that job, tried again; a reprint after one printed is one copy, marked 补打 / COPY, a job of its
own. The database keeps it so when `kiosk reprint` runs in other processes beside the kiosk's
spool: at most one unprinted job per ticket and kind (a unique partial index).

Printers: a closed TCP port (off), a real TCP peer (tests/printer_peers.py) whose bytes are read
back with the independent parser tests/escpos_stream.py; processes and threads on the on-disk
SQLite database.
"""

import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import peewee
import pytest

from db.connection import open_database
from db.migrations import MIGRATIONS, m0014_one_waiting_print_job
from db.models import PrintJob, utc_now
from kiosk.printing.spool import PrinterSettings, due_jobs, print_job, request_reprint
from kiosk.settings.institute import load_institute

from .escpos_stream import Command, TextRun, commands, parse
from .migration_rewind import rewind
from .printer_peers import OK, TcpPrinter
from .test_cli import _register_one

KIOSK = Path(sys.executable).parent / "kiosk"
STATUS_OK = {1: OK, 2: OK, 4: OK}  # DLE EOT 1, 2, 4: online, no error, paper
MARK = {"zh": "补打".encode("gb18030"), "en": b"COPY"}


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there (a printer switched off)


def _config(tmp_path, uri: str) -> str:
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[printer]\nuri = '{uri}'\n", "utf-8")
    return str(config)


def _jobs(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "k.sqlite3") as conn:
        return conn.execute("SELECT id, state, is_copy FROM print_job ORDER BY id").fetchall()


def _receipts(data: bytes) -> list[bytes]:
    """The printer's bytes, parsed, as receipts: the text of each, up to its cut."""
    items, receipts, text = parse(data), [], b""
    for item in items:
        if isinstance(item, Command) and item.name == "GS V":
            receipts.append(text)
            text = b""
        elif isinstance(item, TextRun):
            text += item.data
    assert text.strip() == b"", "bytes after the last cut"
    assert len(commands(items, "GS V")) == len(receipts)
    return receipts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_three_reprints_while_the_printer_is_off_print_one_receipt_once_it_is_back(run, tmp_path, lang):
    number = _register_one(tmp_path)  # its receipt's job waits (the kiosk had no printer either)
    off = _config(tmp_path, f"tcp://127.0.0.1:{_dead_port()}?timeout=1")
    for _ in range(3):
        status, out, err = run("--config", off, "reprint", number, "--lang", lang)
        assert status == 1 and out == ""
        assert {"zh": "还没打印出来的打印任务 1 已保留，没有另加一份，自助机会再试",
                "en": "print job 1, not printed yet, is kept (no extra copy was queued)"}[lang] in err
        assert {"zh": "打印机未开机或未连接", "en": "The printer is off or not connected"}[lang] in err
    assert _jobs(tmp_path) == [(1, "failed", 0)]  # one job, tried three times

    db = open_database(tmp_path / "k.sqlite3")
    try:
        with TcpPrinter(answers=STATUS_OK) as printer:  # back: the kiosk's pass after the backoff
            settings = PrinterSettings(printer.uri + "?timeout=2", "58mm", None, tmp_path)
            outcomes = [print_job(job_id, settings, load_institute())
                        for job_id in due_jobs(utc_now() + timedelta(hours=1))]
            assert printer.done.wait(5)
    finally:
        db.close()
    assert [o.state for o in outcomes] == ["printed"]
    [receipt] = _receipts(bytes(printer.received))
    assert receipt.count(number.encode()) == 1 and MARK[lang] not in receipt
    assert ("送检受理单".encode("gb18030") if lang == "zh" else b"Instrument reception ticket") in receipt


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reprint_of_a_printed_ticket_prints_one_copy_marked_as_such(run, tmp_path, lang):
    number = _register_one(tmp_path)
    status, out, _ = run("reprint", number, "--lang", lang)  # the waiting job itself, to the preview
    assert status == 0 and {"zh": f"已打印受理单 {number}：用的是还没打印出来的打印任务 1，没有另加一份",
                            "en": f"Printed ticket {number}: print job 1, which had not printed yet"}[lang] in out
    with TcpPrinter(answers=STATUS_OK) as printer:
        status, out, err = run("--config", _config(tmp_path, printer.uri + "?timeout=2"), "reprint", number,
                               "--lang", lang)
        assert printer.done.wait(5)
    assert status == 0, err
    assert {"zh": f"已补打受理单 {number}，纸上标有【补打】（打印任务 2）",
            "en": f"Printed a copy of ticket {number}, marked COPY (print job 2)"}[lang] in out
    [receipt] = _receipts(bytes(printer.received))
    assert receipt.count(MARK[lang]) == 1 and receipt.index(MARK[lang]) < receipt.index(number.encode())
    assert _jobs(tmp_path) == [(1, "printed", 0), (2, "printed", 1)]  # the copy is a job of its own


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_copy_that_did_not_print_is_the_one_printed_by_the_next_reprint(run, tmp_path, lang):
    number = _register_one(tmp_path)
    assert run("reprint", number)[0] == 0
    off = _config(tmp_path, f"tcp://127.0.0.1:{_dead_port()}?timeout=1")
    status, _, err = run("--config", off, "reprint", number, "--lang", lang)
    assert status == 1 and {
        "zh": f"受理单 {number} 的补打没有打印出来（打印机未开机或未连接）；补打任务 2 已保留，自助机会再试",
        "en": f"The copy of ticket {number} did not print (The printer is off or not connected); print job 2 is "
              "kept and the kiosk will retry"}[lang] in err
    status, _, err = run("--config", off, "reprint", number, "--lang", lang)  # the copy, not another
    assert status == 1 and {"zh": "打印任务 2 已保留，没有另加一份",
                            "en": "print job 2, not printed yet, is kept"}[lang] in err
    assert _jobs(tmp_path) == [(1, "printed", 0), (2, "failed", 1)]
    status, out, _ = run("reprint", number, "--lang", lang)  # the printer is back (the preview)
    assert status == 0 and {"zh": "打印任务 2，没有另加一份", "en": "print job 2, which had not printed"}[lang] in out
    assert _jobs(tmp_path) == [(1, "printed", 0), (2, "printed", 1)]
    preview = (tmp_path / "data" / "receipts" / f"{number}-2.txt").read_text("utf-8")
    assert preview.count(MARK[lang].decode("gb18030")) == 1


def test_a_desk_voucher_reprints_like_a_receipt(catalog, tmp_path):
    from kiosk.domain.fees import default_policy
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    job_id = receive(ticket.id, add_clerk("wang", "王芳", "2468"), device).print_job_id
    settings, info = PrinterSettings("preview://receipts", "58mm", None, tmp_path), load_institute()
    assert request_reprint(ticket.number, kind="voucher").job_id == job_id  # not printed yet: itself
    assert print_job(job_id, settings, info).state == "printed"
    copy = request_reprint(ticket.number, kind="voucher")
    assert copy.how == "copy" and print_job(copy.job_id, settings, info).state == "printed"
    first, again = ((tmp_path / "receipts" / f"voucher-{ticket.number}-{i}.txt").read_text("utf-8")
                    for i in (job_id, copy.job_id))
    assert "补打" not in first and again.count("补打") == 1 and "取件凭证" in again
    assert PrintJob.select().where(PrintJob.kind == "voucher").count() == 2


def test_a_paper_this_node_never_printed_is_not_printed_again(run, tmp_path):
    number = _register_one(tmp_path)
    status, _, err = run("reprint", number, "--kind", "voucher")
    assert status == 1 and "本机没有打印过这份单据" in err and "取件凭证" in err
    assert _jobs(tmp_path) == [(1, "pending", 0)]


# ---- two at once: the database keeps it one job ----------------------------------------------------


def test_the_database_refuses_a_second_unprinted_job_of_a_ticket_and_kind(tmp_path):
    _register_one(tmp_path)
    db = open_database(tmp_path / "k.sqlite3")
    try:
        now = utc_now()
        row = {"ticket": 1, "kind": "ticket", "attempts": 0, "created_at": now, "updated_at": now}
        for state in ("pending", "printing", "failed"):
            PrintJob.update(state=state).where(PrintJob.id == 1).execute()
            with pytest.raises(peewee.IntegrityError):
                PrintJob.insert(**row, state="pending").execute()
        PrintJob.insert(**(row | {"kind": "voucher"}), state="pending").execute()  # another kind: its own
        PrintJob.update(state="unconfirmed").where(PrintJob.id == 1).execute()  # may have printed
        PrintJob.insert(**row, state="pending", is_copy=True).execute()
    finally:
        db.close()


def test_reprints_asked_at_once_in_threads_make_one_copy(tmp_path):
    number = _register_one(tmp_path)
    db = open_database(tmp_path / "k.sqlite3")
    try:
        PrintJob.update(state="printed", printed_at=utc_now()).execute()
        start, answers = threading.Barrier(8), []

        def ask() -> None:
            start.wait()
            answers.append(request_reprint(number).how)
            db.close()  # this thread's connection

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(answers) == ["copy"] + ["replaced"] * 7
        assert [(j.state, j.is_copy) for j in PrintJob.select().order_by(PrintJob.id)] == [
            ("printed", False), ("pending", True)]
    finally:
        db.close()


def test_reprint_processes_beside_the_kiosks_spool_make_one_copy(tmp_path):
    """Four `kiosk reprint` processes while the kiosk's spool worker (a thread here, on its own
    connection) prints whatever is due, all to a printer that is off."""
    number = _register_one(tmp_path)
    db = open_database(tmp_path / "k.sqlite3")
    try:
        PrintJob.update(state="printed", printed_at=utc_now()).execute()
        settings = PrinterSettings(f"tcp://127.0.0.1:{_dead_port()}?timeout=1", "58mm", None, tmp_path)
        stop, spooled = threading.Event(), []

        def spool() -> None:
            info = load_institute()
            while not stop.is_set():
                for job_id in due_jobs(utc_now() + timedelta(hours=1)):
                    spooled.append(print_job(job_id, settings, info))
                stop.wait(0.02)  # the kiosk's pass comes round again
            db.close()

        worker = threading.Thread(target=spool)
        worker.start()
        config = _config(tmp_path, settings.uri)
        processes = [subprocess.Popen([KIOSK, "--db", tmp_path / "k.sqlite3", "--config", config, "reprint", number,
                                       "--lang", "en"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
        said = [p.communicate(timeout=60) for p in processes]
        stop.set()
        worker.join(30)
    finally:
        db.close()
    assert [p.returncode for p in processes] == [1] * 4, said
    errors = [err for _, err in said]
    assert all("Traceback" not in err and "IntegrityError" not in err for err in errors), errors
    assert sum("The copy of ticket" in err for err in errors) <= 1  # the one that queued it, if it tried it
    assert all("The copy of ticket" in err or "no extra copy was queued" in err for err in errors), errors
    assert [(state, is_copy) for _, state, is_copy in _jobs(tmp_path)] == [("printed", 0), ("failed", 1)]
    assert all(o is None or o.job_id == 2 for o in spooled)


# ---- the upgrade: the extra copies the old `kiosk reprint` queued ---------------------------------


def test_the_upgrade_drops_the_extra_waiting_copies_and_marks_a_copy(tmp_path):
    _register_one(tmp_path)  # ticket 1, job 1 pending
    path = tmp_path / "k.sqlite3"
    version = MIGRATIONS.index(m0014_one_waiting_print_job.STATEMENTS)  # the schema before it
    rewind(path, version)  # m0014's index and column gone, and every later migration's
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE print_job SET state = 'printed'")
        now = utc_now().isoformat()
        rows = [("ticket", "pending"), ("ticket", "failed"), ("ticket", "pending"),  # three old reprints
                ("voucher", "failed"), ("voucher", "pending")]  # a voucher that never printed, asked twice
        conn.executemany("INSERT INTO print_job (ticket_id, kind, state, attempts, created_at, updated_at) "
                         "VALUES (1, ?, ?, 0, ?, ?)", [(kind, state, now, now) for kind, state in rows])
    open_database(path).close()
    with sqlite3.connect(path) as conn:
        left = conn.execute("SELECT id, kind, state, is_copy FROM print_job ORDER BY id").fetchall()
    assert left == [(1, "ticket", "printed", 0), (2, "ticket", "pending", 1), (5, "voucher", "failed", 0)]
