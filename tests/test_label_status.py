"""Printed means the label printer has them: after a labels job the printer is asked in its own
language (TSPL <ESC>!?, ZPL ~HS), again and again, and the job counts as printed only once it
has answered idle, with no fault and no "printing" between, for LABEL_IDLE_SETTLE (an idle
answer alone may come before it started, or between two labels). Real labels go through the
spool to printers at the other end of a loopback socket that answer ready, still printing, out
of paper, or nothing; the desk says what a clerk must know.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from db.models import PrintJob
from kiosk.printing.labels import LabelPrinter, ticket_labels
from kiosk.printing.spool import PrinterSettings, print_job
from kiosk.settings.institute import load_institute
from printer import escpos_backend
from printer.escpos_backend import LABEL_IDLE_SETTLE, LABEL_STATUS_PAUSE
from printer.labels.status import BUSY, READY, read_tspl, read_zpl
from printer.uri import PrinterError

from .printer_peers import TSPL_STATUS, ZPL_STATUS, TcpPrinter, zpl_host_status
from .test_labels import _intake, desk  # noqa: F401 - desk is a fixture

QUERY = {"tspl": TSPL_STATUS, "zpl": ZPL_STATUS}
READY_ANSWER = {"tspl": b"\x00", "zpl": zpl_host_status()}
PRINTING = {"tspl": b"\x20", "zpl": zpl_host_status(formats=1, remaining=2)}
PAPER_OUT = {"tspl": b"\x04", "zpl": zpl_host_status(paper_out=True)}


def _label_printer(language: str, answers: list[bytes] | None) -> TcpPrinter:
    return TcpPrinter(status={"answers": None, "labels": {QUERY[language]: answers} if answers else None})


def _asked_after_the_job(printer: TcpPrinter, data: bytes, language: str) -> int:
    """How many times the printer was asked, once every byte of the labels had gone out."""
    asked = len(printer.answerer.label_queries)
    assert bytes(printer.received) == data + QUERY[language] * asked
    return asked


def _print_labels(desk, printer: TcpPrinter, language: str, tmp_path, timeout: float = 2):  # noqa: F811
    from kiosk.store.desk import receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 2, False))
    job = PrintJob.get((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
    labels = LabelPrinter(f"{printer.uri}?timeout={timeout}", language)
    outcome = print_job(job.id, PrinterSettings("preview://out", "58mm", None, tmp_path, labels),
                        load_institute(None))
    assert printer.done.wait(5)
    data = labels.render(ticket_labels(ticket.id, job.lang), None)
    return outcome, PrintJob.get_by_id(job.id), data


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_label_printer_that_answers_ready_printed_them(desk, tmp_path, language):  # noqa: F811
    with _label_printer(language, [READY_ANSWER[language]]) as printer:
        started = time.monotonic()
        outcome, job, data = _print_labels(desk, printer, language, tmp_path)
        took = time.monotonic() - started
    assert (outcome.state, job.state) == ("printed", "printed") and job.printed_at
    # Asked after the last byte until idle had held: one idle answer is not yet printed.
    assert _asked_after_the_job(printer, data, language) > LABEL_IDLE_SETTLE / LABEL_STATUS_PAUSE / 2
    assert LABEL_IDLE_SETTLE <= took < LABEL_IDLE_SETTLE + 2
    assert printer.answerer.queries == []  # never DLE EOT, which it does not speak


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_still_printing_is_asked_again_until_it_is_done(desk, tmp_path, language):  # noqa: F811
    answers = [PRINTING[language], PRINTING[language], READY_ANSWER[language]]
    with _label_printer(language, answers) as printer:
        outcome, job, data = _print_labels(desk, printer, language, tmp_path)
    assert (outcome.state, job.state) == ("printed", "printed")
    assert _asked_after_the_job(printer, data, language) > 3


# A TSPL printer answers <ESC>!? the moment it arrives: idle before it has read PRINT, printing,
# idle between two labels while it reads the next one's bitmaps, printing, then idle for good.
IDLE_THEN_PRINTING = [b"\x00"] * 3 + [b"\x20"] * 4 + [b"\x00"] * 2 + [b"\x20"] * 4 + [b"\x00"]


def test_a_tspl_printer_idle_before_it_starts_and_between_labels_is_printed_when_it_is_done(
        desk, tmp_path):  # noqa: F811
    with _label_printer("tspl", IDLE_THEN_PRINTING) as printer:
        outcome, job, data = _print_labels(desk, printer, "tspl", tmp_path)
    assert (outcome.state, job.state) == ("printed", "printed")
    # Printed only after the last "printing" answer, and idle held since.
    assert _asked_after_the_job(printer, data, "tspl") > len(IDLE_THEN_PRINTING)


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_printer_still_printing_after_the_timeout_is_printed_when_it_is_done(desk, tmp_path, language):  # noqa: F811
    # Ten 30 mm labels at 2 ips take 6 s, more than the 5 s timeout: here 15 answers "printing"
    # take at least 1.5 s with a timeout of 0.4 s.
    busy = [PRINTING[language]] * 15
    with _label_printer(language, [*busy, READY_ANSWER[language]]) as printer:
        started = time.monotonic()
        outcome, job, data = _print_labels(desk, printer, language, tmp_path, timeout=0.4)
        took = time.monotonic() - started
    assert (outcome.state, job.state) == ("printed", "printed")
    assert _asked_after_the_job(printer, data, language) > len(busy)
    assert len(busy) * LABEL_STATUS_PAUSE + LABEL_IDLE_SETTLE <= took < len(busy) * LABEL_STATUS_PAUSE + 4


@pytest.mark.parametrize("language", ["tspl", "zpl"])
@pytest.mark.parametrize("before", ["printing", "idle"])
def test_a_printer_that_goes_silent_is_unconfirmed_within_the_timeout(desk, tmp_path, language, before):  # noqa: F811
    said = {"printing": PRINTING, "idle": READY_ANSWER}[before][language]
    with _label_printer(language, [said, said, b""]) as printer:
        started = time.monotonic()
        outcome, job, _ = _print_labels(desk, printer, language, tmp_path, timeout=0.5)
        took = time.monotonic() - started
    assert (outcome.state, outcome.error_kind, job.state) == ("unconfirmed", "unconfirmed", "unconfirmed")
    assert len(printer.answerer.label_queries) == 3
    assert took < 2 * LABEL_STATUS_PAUSE + 0.5 + 1.5


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_printer_printing_for_ever_is_unconfirmed_at_the_limit(desk, tmp_path, language, monkeypatch):  # noqa: F811
    monkeypatch.setattr(escpos_backend, "LABEL_PRINTING_LIMIT", 1.0)
    with _label_printer(language, [PRINTING[language]]) as printer:
        started = time.monotonic()
        outcome, job, _ = _print_labels(desk, printer, language, tmp_path, timeout=0.3)
        took = time.monotonic() - started
    assert (outcome.state, outcome.error_kind, job.state) == ("unconfirmed", "unconfirmed", "unconfirmed")
    assert 1.0 <= took < 1.0 + 2  # asked on past the timeout, and not for ever


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_label_printer_out_of_paper_is_unconfirmed_with_the_reason(desk, tmp_path, language):  # noqa: F811
    with _label_printer(language, [PAPER_OUT[language]]) as printer:
        outcome, job, _ = _print_labels(desk, printer, language, tmp_path)
    assert (outcome.state, outcome.error_kind, outcome.retry_at) == ("unconfirmed", "paper_out", None)
    assert job.state == "unconfirmed" and job.last_error.startswith("paper_out: ") and job.printed_at is None


@pytest.mark.parametrize("language", ["tspl", "zpl"])
def test_a_label_printer_that_does_not_answer_stays_unconfirmed(desk, tmp_path, language):  # noqa: F811
    with _label_printer(language, None) as printer:
        outcome, job, data = _print_labels(desk, printer, language, tmp_path, timeout=0.5)
    assert (outcome.state, outcome.error_kind, job.state) == ("unconfirmed", "unconfirmed", "unconfirmed")
    assert bytes(printer.received) == data + QUERY[language]


def test_without_status_a_label_printer_is_not_asked(desk, tmp_path):  # noqa: F811
    from kiosk.store.desk import receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 1, False))
    job = PrintJob.get((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
    with _label_printer("tspl", [READY_ANSWER["tspl"]]) as printer:
        labels = LabelPrinter(f"{printer.uri}?timeout=1&status=0", "tspl")
        outcome = print_job(job.id, PrinterSettings("preview://out", "58mm", None, tmp_path, labels),
                            load_institute(None))
        assert printer.done.wait(5)
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "unconfirmed")
    assert printer.answerer.label_queries == []


# ---- the answers, bit by bit and field by field ---------------------------------------------------


# <ESC>!? answers one raw byte, a bit a condition, as TSC's TSPL/TSPL2 Programming Manual (and
# Gprinter's: https://manualshive.com/en/manual/gprinter/gp-2120t/2248971?page=34) lists them.
@pytest.mark.parametrize(("byte", "kind", "said"), [
    (0x01, "cover_open", "the print head is open"),  # bit 0 head opened
    (0x02, "error", "the labels are jammed"),  # bit 1 paper jam
    (0x04, "paper_out", "out of labels"),  # bit 2 out of paper
    (0x08, "error", "out of ribbon"),  # bit 3 out of ribbon
    (0x10, "offline", "is paused"),  # bit 4 pause
    (0x40, "cover_open", "the cover is open"),  # bit 6 cover opened (option)
    (0x80, "error", "reports an error"),  # bit 7 other error / temperature over range (option)
])
def test_each_tspl_fault_bit_is_its_printer_error(byte, kind, said):
    with pytest.raises(PrinterError) as raised:
        read_tspl(bytes([byte]), "tcp 127.0.0.1:9100")
    assert raised.value.kind == kind and said in str(raised.value)


# The manual's table of combined answers: the fault a person fixes first is the one said.
@pytest.mark.parametrize(("byte", "kind"), [(0x03, "cover_open"), (0x05, "cover_open"), (0x09, "cover_open"),
                                            (0x0A, "error"), (0x0B, "cover_open"), (0x0C, "paper_out"),
                                            (0x0D, "cover_open"), (0x24, "paper_out"), (0x30, "offline")])
def test_combined_tspl_faults_say_the_first_to_fix(byte, kind):
    with pytest.raises(PrinterError) as raised:
        read_tspl(bytes([byte]), "p")
    assert raised.value.kind == kind


def test_tspl_idle_is_ready_and_printing_is_asked_again():
    assert (read_tspl(b"\x00", "p"), read_tspl(b"\x20", "p")) == (READY, BUSY)  # bit 5 printing
    assert read_tspl(b"\x20\x00", "p") == READY  # the latest answer counts, should one have come late


# ~HS answers three strings, <STX>fields<ETX><CR><LF>, as the ZPL II Programming Guide (45541L-004,
# pp. 171-172; https://docs.zebra.com/us/en/printers/software/zpl-pg/zpl-commands/~hs4.html) names
# their fields: here a 203 dpi printer at 9600 baud, direct thermal, tear-off, idle.
HS_FIELDS = ({"aaa": "030", "b": "0", "c": "0", "dddd": "0240", "eee": "000", "f": "0", "g": "0", "h": "0",
              "iii": "000", "j": "0", "k": "0", "l": "0"},
             {"mmm": "001", "n": "0", "o": "0", "p": "0", "q": "0", "r": "2", "s": "6", "t": "0",
              "uuuuuuuu": "00000000", "v": "1", "www": "000"},
             {"xxxx": "1234", "y": "0"})


def host_status(**changed: str) -> bytes:
    strings = [{name: changed.pop(name, value) for name, value in fields.items()} for fields in HS_FIELDS]
    assert not changed, f"no such ~HS field: {changed}"
    return b"".join(b"\x02" + ",".join(fields.values()).encode() + b"\x03\r\n" for fields in strings)


def test_the_peers_host_status_is_laid_out_as_the_manual_says():
    assert zpl_host_status() == host_status()
    assert zpl_host_status(paper_out=True, pause=True, head_up=True, formats=2, remaining=3) == host_status(
        b="1", c="1", o="1", eee="002", uuuuuuuu="00000003")


@pytest.mark.parametrize(("field", "kind", "said"), [
    ({"b": "1"}, "paper_out", "out of labels"),  # string 1: paper out flag
    ({"c": "1"}, "offline", "is paused"),  # string 1: pause flag
    ({"g": "1"}, "error", "diagnostic mode"),  # string 1: communications diagnostic mode flag
    ({"k": "1"}, "error", "too cold or too hot"),  # string 1: under temperature
    ({"l": "1"}, "error", "too cold or too hot"),  # string 1: over temperature
    ({"o": "1"}, "cover_open", "the print head is open"),  # string 2: head up flag
    ({"p": "1", "q": "1"}, "error", "out of ribbon"),  # string 2: ribbon out, in thermal transfer mode
    ({"o": "1", "b": "1"}, "cover_open", "the print head is open"),  # the one to fix first
])
def test_each_zpl_fault_field_is_its_printer_error(field, kind, said):
    with pytest.raises(PrinterError) as raised:
        read_zpl(host_status(**field), "p")
    assert raised.value.kind == kind and said in str(raised.value)


@pytest.mark.parametrize("field", [{"eee": "001"},  # string 1: formats in the receive buffer
                                   {"h": "1"},  # string 1: a format partly received
                                   {"uuuuuuuu": "00000003"}])  # string 2: labels remaining in the batch
def test_zpl_with_labels_still_to_print_is_asked_again(field):
    assert read_zpl(host_status(**field), "p") == BUSY


@pytest.mark.parametrize("field", [{}, {"t": "1"},  # peel-off: the last label printed, waiting to be taken
                                   {"j": "1"},  # configuration lost (corrupt RAM): labels still come out
                                   {"q": "1", "r": "1", "dddd": "0480", "www": "002"}])
def test_zpl_idle_with_nothing_left_is_ready(field):
    assert read_zpl(host_status(**field), "p") == READY


def test_zpl_not_an_answer():
    assert read_zpl(host_status()[:-10], "p") is None  # the third string cut short
    assert read_zpl(b"\x02garbage\x03\r\n" * 3, "p") is None
    assert read_zpl(host_status(eee="0x1"), "p") is None  # a count that is not one


# ---- at the desk, through Pilot --------------------------------------------------------------------


@pytest.mark.parametrize(("language", "answer", "said"), [
    ("zh", PAPER_OUT["tspl"], "打印机缺纸，打印机没有确认单据已打印出来"),
    ("en", PAPER_OUT["tspl"], "The printer is out of paper: the printer did not confirm the slip printed"),
    ("zh", READY_ANSWER["tspl"], None),
])
async def test_the_desk_warns_only_when_the_label_printer_does_not_confirm(language, answer, said):
    from db.models import Ticket

    from .kiosk_pilot import settle
    from .test_desk_app import make_desk, sign_in

    app, (number, *_) = make_desk(language)
    with _label_printer("tspl", [answer]) as printer:
        app.config = replace(app.config, label_uri=f"{printer.uri}?timeout=2", label_language="tspl")
        async with app.run_test(size=(100, 36)) as pilot:
            await sign_in(pilot)
            await pilot.press(*number, "enter")
            await settle(pilot)
            await pilot.press("f5")  # received: the voucher and the labels print
            await settle(pilot)
            ticket = Ticket.get(Ticket.number == number)
            (job,) = PrintJob.select().where((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
            warnings = [n.message for n in app._notifications if n.severity == "warning"]
            if said is None:
                assert job.state == "printed" and warnings == []
            else:
                assert job.state == "unconfirmed"
                assert any(said in m for m in warnings), warnings
