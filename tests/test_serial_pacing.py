"""Serial jobs at the line's own pace: a job that takes far longer than the timeout prints
whole while bytes keep moving, and fails with "timeout" (not delivered: the spool sends it
again) only once no byte has moved for the timeout; what reached the printer is then the
job's beginning and nothing else.

The printer is a real pseudo terminal. A Linux pty has no line speed: it takes ~14-20 KB at
once, makes room ~3.5 KB at a time as the other side reads, and always reports 0 in
out_waiting. So the printer here takes bytes at a line's pace (`baud`), or holds the line
with XON/XOFF, which stops the pty's writer as it stops a UART.
"""

from __future__ import annotations

import time

import pytest

from printer.backends import Job, open_backend
from printer.profiles import PROFILES
from printer.uri import PrinterError

from .printer_peers import ALL_OK, PtyPrinter

QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"  # check(): DLE EOT 1, 2, 4
LINE = 115200  # baud: 11.5 KB a second on the wire
# Numbered lines: each byte's place in the job is known, and nothing in it reads as a status query.
JOB = b"\x1b@" + b"".join(b"%06d\n" % n for n in range(5800)) + b"\x1dV\x00"


def _send(peer: PtyPrinter, timeout: float, baudrate: int = LINE, **options) -> None:
    with open_backend(peer.uri(baudrate=baudrate, timeout=timeout, **options)) as printer:
        printer.check()
        printer.send(Job("A0001-1", JOB, None, PROFILES["58mm"]))


def _arrived(peer: PtyPrinter) -> bytes:
    received = bytes(peer.received)
    assert received.startswith(QUERIES)
    return received[len(QUERIES):]


def test_a_job_many_timeouts_long_goes_at_the_lines_pace_and_is_confirmed():
    """40 KB take 3.5 s at 115,200 baud, over four timeouts: the printer takes them at that
    pace and, the port never far ahead of it, answers right after the last byte. (Poured in
    4 KB pieces, each within the timeout plus its time on the wire, into a pty that makes
    room ~3.5 KB at a time, the job failed partway after 1.2 s.)"""
    assert len(JOB) > 40_000
    with PtyPrinter(answers=ALL_OK, baud=LINE) as peer:
        started = time.monotonic()
        _send(peer, 0.8)
        took = time.monotonic() - started
        received = peer.wait_for(2 * len(QUERIES) + len(JOB))
    assert received == QUERIES + JOB + QUERIES
    assert took > len(JOB) * 10 / LINE


def test_a_printer_that_holds_the_line_again_and_again_gets_the_whole_job_once():
    """XON/XOFF: it holds the line for 1 s after each 2 KB from 2 to 10 KB (printing an image
    band by band): 5 s held in all, each hold shorter than the 1.45 s timeout. Sent in 4 KB
    pieces, each within timeout + its time on the wire, it failed at the first held piece."""
    holds = range(2048, 10241, 2048)
    with PtyPrinter(answers=ALL_OK, pause_at=tuple(holds), pause=1) as peer:
        started = time.monotonic()
        _send(peer, 1.45, xonxoff=1)
        took = time.monotonic() - started
        received = peer.wait_for(2 * len(QUERIES) + len(JOB))
    assert received == QUERIES + JOB + QUERIES  # whole, once, then confirmed
    assert took > len(holds) * 1  # held for 5 s: more than three timeouts in all


def test_a_printer_that_stops_taking_data_fails_the_job_a_timeout_after_the_last_byte_moved():
    """It stops reading after 8 KB; the pty takes ~14-20 KB more (at 921,600 baud: ~0.2 s),
    then nothing moves."""
    with PtyPrinter("stop", stop_after=8192, answers=ALL_OK) as peer:
        with pytest.raises(PrinterError) as failed:
            _send(peer, 1, baudrate=921600)
        gave_up = time.monotonic()
        arrived = _arrived(peer)
        idle = gave_up - peer.last_read
    assert (failed.value.kind, failed.value.delivered) == ("timeout", False)  # not printed: sent again later
    assert 1 < idle < 1 + 3  # not before the timeout (counted from the last byte); the rest is a busy machine
    assert len(arrived) == 8192 - len(QUERIES) and arrived == JOB[:len(arrived)]


def test_a_printer_that_holds_xoff_fails_the_job_a_timeout_after_the_last_byte_moved():
    """Flow control held for good (XON/XOFF: the kernel stops the port; nothing fills up)."""
    with PtyPrinter("xoff", stop_after=8192, answers=ALL_OK) as peer:
        with pytest.raises(PrinterError) as failed:
            _send(peer, 1, xonxoff=1)
        gave_up = time.monotonic()
        arrived = _arrived(peer)
        idle = gave_up - peer.last_read
    assert (failed.value.kind, failed.value.delivered) == ("timeout", False)
    assert 1 - 0.1 < idle < 1 + 1
    assert 8192 - len(QUERIES) <= len(arrived) < len(JOB) and arrived == JOB[:len(arrived)]
