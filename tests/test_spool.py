"""The print spool: a receipt prints after the commit, a printer that fails loses nothing,
failed jobs come back after a backoff, and a reprint prints the same receipt.

Printers that fail are python-escpos' own Dummy made to fail: reporting offline or paper
out to the status query, or losing the connection in the middle of a job.
"""

from datetime import timedelta

import pytest
from escpos.printer import Dummy

from db.models import OutboxEvent, PrintJob, Ticket, TicketLine, utc_now
from kiosk.domain.fees import LineRequest, default_policy
from kiosk.domain.ticketcode import decode
from kiosk.printing.spool import (
    MAX_ATTEMPTS,
    PrinterSettings,
    Reprint,
    claim_job,
    due_jobs,
    print_job,
    recover_interrupted,
    request_reprint,
)
from kiosk.settings.institute import load_institute
from kiosk.store.keys import keys_for
from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register
from printer.backends import EscposBackend

from .escpos_stream import parse, qr_module_sizes, qr_stores

DLE_EOT_OK = b"\x12"  # status byte with nothing set but the fixed bits


class StatusDummy(Dummy):
    """A Dummy that answers real-time status queries with the given bytes."""

    def __init__(self, answers: bytes = DLE_EOT_OK * 3) -> None:
        super().__init__()
        self.answers = bytearray(answers)

    def _read(self) -> bytes:
        return bytes([self.answers.pop(0)]) if self.answers else b""


class CutOffDummy(StatusDummy):
    """Loses the connection after `limit` bytes of a job."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def _raw(self, msg: bytes) -> None:
        if len(self.output) + len(msg) > self.limit:
            raise OSError(5, "Input/output error")
        super()._raw(msg)


@pytest.fixture
def settings(tmp_path):
    return PrinterSettings("preview://receipts", "58mm", None, tmp_path)


@pytest.fixture
def ticket(catalog):
    reg = Registration(CustomerDetails("示范燃气有限公司", "", "", "李工", "13812345678"),
                       (InstrumentLine(LineRequest("L-001-001", quantity=2, use="safety")),))
    return register(reg, catalog, default_policy(), ensure_device("K1"))


def _with(device):
    return lambda: EscposBackend(device, status=True, timeout=1)


def _rows():
    return (Ticket.select().count(), TicketLine.select().count(), OutboxEvent.select().count())


def test_a_registered_ticket_prints_to_the_preview_printer(ticket, settings, tmp_path):
    outcome = print_job(ticket.print_job_id, settings, load_institute())
    assert outcome.state == "printed"
    job = PrintJob.get_by_id(ticket.print_job_id)
    assert (job.state, job.attempts, job.last_error) == ("printed", 1, None) and job.printed_at
    name = f"{ticket.number}-{job.id}"
    for suffix in (".bin", ".png", ".txt"):
        assert (tmp_path / "receipts" / f"{name}{suffix}").stat().st_size > 0
    text = (tmp_path / "receipts" / f"{name}.txt").read_text("utf-8")
    assert ticket.number in text and "138****5678" in text and "13812345678" not in text
    assert due_jobs() == []


@pytest.mark.parametrize(
    "device, kind",
    [
        (StatusDummy(b"\x1a"), "offline"),  # DLE EOT 1: bit 3 set
        (StatusDummy(DLE_EOT_OK * 2 + b"\x72"), "paper_out"),  # DLE EOT 4: bits 5 and 6 set
        (StatusDummy(b""), "offline"),  # no answer at all
        (CutOffDummy(limit=200), "disconnected"),  # mid job
    ],
    ids=["offline", "paper-out", "no-answer", "disconnect-mid-job"],
)
def test_a_failing_printer_fails_the_job_and_loses_nothing(ticket, settings, device, kind):
    before = _rows()
    outcome = print_job(ticket.print_job_id, settings, load_institute(), open_printer=_with(device))
    assert (outcome.state, outcome.error_kind) == ("failed", kind)
    job = PrintJob.get_by_id(ticket.print_job_id)
    assert job.state == "failed" and job.last_error.startswith(f"{kind}: ")
    assert "13812345678" not in job.last_error
    assert _rows() == before  # the ticket, its lines and its event are untouched
    assert outcome.retry_at is not None and outcome.retry_at > utc_now()


def test_a_failed_job_waits_for_its_backoff_then_gives_up_after_max_attempts(ticket, settings):
    info = load_institute()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outcome = print_job(ticket.print_job_id, settings, info, open_printer=_with(StatusDummy(b"\x1a")))
        assert outcome.state == "failed" and PrintJob.get_by_id(ticket.print_job_id).attempts == attempt
        assert due_jobs() == []  # not before its time
        if attempt < MAX_ATTEMPTS:
            assert due_jobs(outcome.retry_at + timedelta(seconds=1)) == [ticket.print_job_id]
    assert outcome.retry_at is None  # out of attempts: a person decides (reprint or retry)
    assert due_jobs(utc_now() + timedelta(days=1)) == []


def test_a_reprint_prints_the_same_receipt(ticket, settings):
    info = load_institute()
    print_job(ticket.print_job_id, settings, info, open_printer=_with(CutOffDummy(limit=100)))
    first, again = StatusDummy(DLE_EOT_OK * 6), StatusDummy(DLE_EOT_OK * 6)  # before the job and after it
    reprint = request_reprint(ticket.number.lower())
    assert reprint == Reprint(ticket.print_job_id, "replaced")  # the job that did not print, not another
    assert print_job(reprint.job_id, settings, info, open_printer=_with(first)).state == "printed"
    copy = request_reprint(ticket.number)
    assert copy.how == "copy" and print_job(copy.job_id, settings, info, open_printer=_with(again)).state == "printed"
    mark = "补打".encode("gb18030")
    assert mark not in first.output and mark in again.output  # the copy says so, above the same receipt
    assert parse(again.output).text_runs[1:] == parse(first.output).text_runs
    assert ticket.number.encode() in first.output
    assert Ticket.select().count() == 1


def test_a_job_cut_off_by_a_crash_prints_again_after_the_restart(ticket, settings):
    info = load_institute()
    assert claim_job(ticket.print_job_id, info) is not None  # ... and the process dies here
    assert PrintJob.get_by_id(ticket.print_job_id).state == "printing"
    assert due_jobs() == []
    assert recover_interrupted() == 1  # the next start
    assert due_jobs() == [ticket.print_job_id]
    assert print_job(ticket.print_job_id, settings, info).state == "printed"


def test_a_job_is_printed_by_one_printer_only(ticket):
    info = load_institute()
    assert claim_job(ticket.print_job_id, info) is not None
    assert claim_job(ticket.print_job_id, info) is None  # the kiosk and `kiosk reprint` race


def test_the_printed_bytes_are_the_receipt(ticket, settings):
    device = StatusDummy()
    print_job(ticket.print_job_id, settings, load_institute(), open_printer=_with(device))
    stream = parse(device.output)
    assert ticket.number in "".join(run.decode("gb18030") for run in stream.text_runs)
    assert qr_stores(stream) == [ticket.code.encode()]  # the native QR holds the ticket's signed code
    record = decode(ticket.code, keys_for)  # ... which the device's own public key verifies
    assert (record.ticket_uid, record.number, record.total_fen) == (ticket.uid, ticket.number,
                                                                  ticket.estimate.total_fen)
    assert all(size >= 4 for size in qr_module_sizes(stream))  # dots per module
