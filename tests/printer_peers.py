"""Fake printers at the other end of real connections (a loopback TCP socket, a pseudo
terminal), for the backend tests: they record what arrives, answer DLE EOT status
queries like an ESC/POS printer, or misbehave (never read, hang up mid-job).

Synchronisation is by events and socket/poll timeouts, never by sleeping.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
from typing import Self

DLE_EOT = b"\x10\x04"
OK = 0x12  # a status byte with only its fixed bits set


class StatusAnswerer:
    """Finds DLE EOT n in a byte stream (also when split across reads) and gives the
    answer to each, like a printer does in real time."""

    def __init__(self, answers: dict[int, int] | None) -> None:
        self.answers = answers  # None: never answers
        self.queries: list[int] = []
        self._tail = b""

    def feed(self, data: bytes) -> bytes:
        stream = self._tail + data
        replies = bytearray()
        start = 0
        while (at := stream.find(DLE_EOT, start)) != -1 and at + 2 < len(stream):
            n = stream[at + 2]
            self.queries.append(n)
            if self.answers is not None and n in self.answers:
                replies.append(self.answers[n])
            start = at + 3
        self._tail = stream[-2:] if len(stream) - start >= 2 else stream[start:]
        return bytes(replies)


class TcpPrinter:
    """A network printer on 127.0.0.1: `mode` is "print" (reads everything, answers status
    queries from `answers`), "stall" (accepts, never reads) or "hangup" (reads `hangup_after`
    bytes, then resets the connection)."""

    def __init__(self, mode: str = "print", *, answers: dict[int, int] | None = None,
                 hangup_after: int = 0) -> None:
        self.mode = mode
        self.answerer = StatusAnswerer(answers)
        self.hangup_after = hangup_after
        self.received = bytearray()
        self.done = threading.Event()  # the client closed (or we hung up)
        self.accepted = threading.Event()
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited: fills quickly
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
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                self.received += data
                if self.mode == "hangup" and len(self.received) >= self.hangup_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break  # close with RST
                reply = self.answerer.feed(data)
                if reply:
                    conn.sendall(reply)
        self.done.set()


class PtyPrinter:
    """A serial printer behind a pseudo terminal: pyserial opens `path` (the slave side),
    this reads the master side. `mode` "print" reads everything and answers status queries;
    "stall" never reads; "unplug" closes the master after `unplug_after` bytes."""

    def __init__(self, mode: str = "print", *, answers: dict[int, int] | None = None,
                 unplug_after: int = 0) -> None:
        self.mode = mode
        self.answerer = StatusAnswerer(answers)
        self.unplug_after = unplug_after
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
            if not poller.poll(50):
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            with self._changed:
                self.received += data
                self._changed.notify_all()
            if self.mode == "unplug" and len(self.received) >= self.unplug_after:
                os.close(self.master)
                self._master_closed = True
                self.unplugged.set()
                return
            reply = self.answerer.feed(data)
            if reply:
                os.write(self.master, reply)
