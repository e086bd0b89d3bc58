"""Fake printers at the other end of real connections (a loopback TCP socket, a pseudo
terminal), for the backend tests: they record what arrives, answer DLE EOT and GS r status
queries like an ESC/POS printer (or TSPL's <ESC>!? and ZPL's ~HS like a label printer), or
misbehave (never read, stop reading, close or hang up mid-job).

Synchronisation is by events and socket/poll timeouts, never by sleeping.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from typing import Self

DLE_EOT = b"\x10\x04"
GS_R = b"\x1dr"
OK = 0x12  # a status byte with only its fixed bits set
ALL_OK = {1: OK, 2: OK, 4: OK}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x7E}  # offline; stopped by paper end; roll near end and end
TSPL_STATUS = b"\x1b!?"
ZPL_STATUS = b"~HS"
XOFF, XON = b"\x13", b"\x11"  # DC3, DC1: a printer on XON/XOFF flow control says "stop", "go on"


def zpl_host_status(*, paper_out: bool = False, pause: bool = False, head_up: bool = False, formats: int = 0,
                    remaining: int = 0) -> bytes:
    """A ZPL printer's answer to ~HS: three framed strings, as a 203 dpi printer in direct
    thermal mode sends them."""
    first = f"030,{paper_out:d},{pause:d},0240,{formats:03d},0,0,0,000,0,0,0"
    second = f"001,0,{head_up:d},0,0,2,6,0,{remaining:08d},1,000"
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (first, second, "1234,0"))


class StatusAnswerer:
    """Finds DLE EOT n and GS r n in a byte stream (also when split across reads) and gives
    the answer to each, like a printer does. `answers` (DLE EOT n -> byte; None: never
    answers) become `then` once more than `after` bytes have arrived: a printer that runs out
    of paper during a job. `transmit`: GS r n -> byte. `labels`: a label printer's answers to
    <ESC>!? and ~HS (command -> answers, one per question, the last one again and again; an
    empty answer is none: a printer that has gone silent)."""

    def __init__(self, answers: dict[int, int] | None, *, then: dict[int, int] | None = None, after: int = 0,
                 transmit: dict[int, int] | None = None, labels: dict[bytes, list[bytes]] | None = None) -> None:
        self.answers = answers
        self.then, self.after = then, after
        self.transmit = transmit or {}
        self.labels = labels or {}
        self.label_queries: list[bytes] = []
        self.queries: list[int] = []
        self.seen = 0
        self._tail = b""

    def feed(self, data: bytes) -> bytes:
        self.seen += len(data)
        answers = self.then if self.then is not None and self.seen > self.after else self.answers
        stream = self._tail + data
        replies = bytearray()
        start = 0
        while True:
            found = [(at, cmd) for cmd in (DLE_EOT, GS_R, TSPL_STATUS, ZPL_STATUS)
                     if (at := stream.find(cmd, start)) != -1]
            if not found:
                break
            at, cmd = min(found)
            if cmd in (TSPL_STATUS, ZPL_STATUS):
                self.label_queries.append(cmd)
                said = self.labels.get(cmd)
                if said:
                    replies += said[min(self.label_queries.count(cmd), len(said)) - 1]
                start = at + 3
                continue
            if at + 2 >= len(stream):
                break
            n = stream[at + 2]
            if cmd == DLE_EOT:
                self.queries.append(n)
                if answers is not None and n in answers:
                    replies.append(answers[n])
            elif n in self.transmit:
                replies.append(self.transmit[n])
            start = at + 3
        self._tail = stream[-2:] if len(stream) - start >= 2 else stream[start:]
        return bytes(replies)


class TcpPrinter:
    """A network printer on 127.0.0.1: `mode` is "print" (reads everything, answers status
    queries from `answers`), "stall" (accepts, never reads), "stop" (reads `hangup_after`
    bytes, then never again, with the smallest receive buffer), "close" (reads `hangup_after`
    bytes, then closes) or "hangup" (reads `hangup_after` bytes, then resets the connection).
    `status` (keywords of StatusAnswerer) overrides `answers`."""

    def __init__(self, mode: str = "print", *, answers: dict[int, int] | None = None,
                 hangup_after: int = 0, status: dict | None = None) -> None:
        self.mode = mode
        self.answerer = StatusAnswerer(**(status or {"answers": answers}))
        self.hangup_after = hangup_after
        self.received = bytearray()
        self.done = threading.Event()  # the client closed (or we hung up)
        self.accepted = threading.Event()
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,  # inherited: fills quickly
                                1 if mode == "stop" else 4096)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(1)
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()

    def _run(self) -> None:
        conn = None
        while conn is None and not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
        if conn is None:
            return
        self.accepted.set()
        with conn:
            conn.settimeout(0.05)
            if self.mode == "stall":
                self._stop.wait()
                return
            while not self._stop.is_set():
                try:
                    cut = self.mode in ("stop", "close", "hangup")
                    data = conn.recv(self.hangup_after - len(self.received) if cut else 65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                self.received += data
                if self.mode in ("stop", "close", "hangup") and len(self.received) >= self.hangup_after:
                    if self.mode == "stop":
                        self._stop.wait()
                    elif self.mode == "hangup":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break  # close (with RST on hangup)
                reply = self.answerer.feed(data)
                if reply:
                    conn.sendall(reply)
        self.done.set()


class PtyPrinter:
    """A serial printer behind a pseudo terminal: pyserial opens `path` (the slave side),
    this reads the master side. `mode` "print" reads everything and answers status queries;
    "stall" never reads; "unplug" closes the master after `unplug_after` bytes; "stop" reads
    `stop_after` bytes, then never again (the pty fills: ~14-20 KB on Linux); "xoff" sends
    XOFF after `stop_after` bytes and never XON (the port must have xonxoff=1). With `baud`
    it takes bytes no faster than a line at that speed carries them (10 bits a byte), as a
    pty does not. When it has received each count in `pause_at` it holds the line for `pause`
    seconds (XOFF, takes nothing, XON), as it prints a band of an image (xonxoff=1 too).
    `last_read`: when it last took bytes (time.monotonic()). `status` (keywords of
    StatusAnswerer) overrides `answers`."""

    def __init__(self, mode: str = "print", *, answers: dict[int, int] | None = None,
                 unplug_after: int = 0, baud: int | None = None, status: dict | None = None,
                 stop_after: int = 0, pause_at: tuple[int, ...] = (), pause: float = 0) -> None:
        self.mode = mode
        self.answerer = StatusAnswerer(**(status or {"answers": answers}))
        self.unplug_after = unplug_after
        self.baud = baud
        self.stop_after = stop_after
        self.pauses = sorted(pause_at)
        self.pause = pause
        self.last_read: float | None = None
        self._xoff_sent = False
        self.received = bytearray()
        self.unplugged = threading.Event()
        self._stop = threading.Event()
        self.master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._master_closed = False
        self._changed = threading.Condition()

    def uri(self, **options) -> str:
        options.setdefault("baudrate", 921600)
        return f"serial://{self.path}?" + "&".join(f"{k}={v}" for k, v in options.items())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        if not self._master_closed:
            os.close(self.master)
        os.close(self._slave)

    def wait_for(self, count: int, timeout: float = 2) -> bytes:
        """The bytes received once there are `count` of them (or when `timeout` ran out)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return bytes(self.received)

    def _run(self) -> None:
        if self.mode == "stall":
            self._stop.wait()
            return
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        while not self._stop.is_set():
            if self.mode == "stop" and len(self.received) >= self.stop_after:
                self._stop.wait()
                return
            if not poller.poll(50):
                continue
            size = self.baud // 100 if self.baud else 65536
            for limit in ([self.stop_after] if self.mode == "stop" else []) + self.pauses[:1]:
                size = min(size, limit - len(self.received))  # stop or pause exactly there
            try:
                data = os.read(self.master, size)
            except OSError:
                break
            if self.baud:
                self._stop.wait(len(data) * 10 / self.baud)  # the line's pace, not a synchronisation
            with self._changed:
                self.received += data
                self.last_read = time.monotonic()
                self._changed.notify_all()
            if self.mode == "xoff" and len(self.received) >= self.stop_after and not self._xoff_sent:
                os.write(self.master, XOFF)
                self._xoff_sent = True
            if self.pauses and len(self.received) >= self.pauses[0]:
                self.pauses.pop(0)
                os.write(self.master, XOFF)
                self._stop.wait(self.pause)  # the printer's pace, not a synchronisation
                os.write(self.master, XON)
            if self.mode == "unplug" and len(self.received) >= self.unplug_after:
                os.close(self.master)
                self._master_closed = True
                self.unplugged.set()
                return
            reply = self.answerer.feed(data)
            if reply:
                os.write(self.master, reply)
