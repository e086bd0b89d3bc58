"""A faulty network between a device and central, for the sync fault tests: an asyncio TCP
proxy on 127.0.0.1:0 in a thread of its own, forwarding to central's port.

The device's client (kiosk/sync/client.py `Central`, stdlib http.client) opens a fresh connection for
each request, so a connection here is one HTTP request and its answer. The request is read
whole (headers, then Content-Length bytes) before a seeded `random.Random` picks what happens:

    forward         pass it on, return the answer
    drop_response   pass it on, read central's whole answer, then close the device's
                    connection without sending it (central applied it; the device never heard)
    reset_before    reset the device's connection (SO_LINGER 0) before anything reaches central
    reset_after     pass it on, wait for central's answer, then reset the device's connection
    duplicate       send the same request bytes to central twice, at once, on two connections;
                    return one answer
    delay           hold the request, or central's answer, or both (`delay_where`), for a
                    short, bounded time each (`delay`, seconds); a request whose client
                    goes away while it is held is not sent on (counted as `client_gone`)

`fault_rate` is the share of connections that get a fault (its kind chosen evenly among
`kinds`); `heal()` makes every later connection `forward`. `counts` says what was done, by
kind, and `by_request[(kind, "POST /api/v1/events")]` by kind and request line; `statuses`
counts central's answers (each of a duplicate's two too) by request line and HTTP status.

    with FaultProxy(central.port, fault_rate=0.4, seed=7) as proxy:
        node.sync(url=proxy.url)
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections import Counter
from typing import Self

FAULTS = ("drop_response", "reset_before", "reset_after", "duplicate", "delay")
IO_TIMEOUT = 30.0  # seconds: a stuck peer fails a connection here, never the test run


class FaultProxy:
    def __init__(self, upstream_port: int, *, fault_rate: float = 0.3, seed: int = 0,
                 kinds: tuple[str, ...] = FAULTS, delay: tuple[float, float] = (0.02, 0.25),
                 delay_where: tuple[str, ...] = ("request", "response"), upstream_host: str = "127.0.0.1"):
        unknown = set(kinds) - set(FAULTS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds: some of {FAULTS}, not {sorted(unknown)}")
        self.upstream = (upstream_host, upstream_port)
        self.fault_rate, self.kinds, self.delay, self.delay_where = fault_rate, kinds, delay, delay_where
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.by_request: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()  # central's answers, by request line and status
        self.errors: list[str] = []  # what went wrong in the proxy itself (not a planned fault)
        self._healed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-proxy")
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = 0

    # ---- life --------------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heal(self) -> None:
        """Every connection from now on is forwarded untouched."""
        self._healed = True

    def close(self) -> None:
        async def stop():
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def faults(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind in FAULTS)

    # ---- one connection: one request ---------------------------------------------------------

    def _choose(self) -> str:
        # Drawn on the loop's thread, one draw per connection, in arrival order: a sequential
        # client sees the same sequence of faults for the same seed.
        roll, kind = self.rng.random(), self.rng.choice(self.kinds)
        if self._healed or roll >= self.fault_rate:
            return "forward"
        return kind

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            request, line = await asyncio.wait_for(_read_request(reader), IO_TIMEOUT)
            if request is None:
                return
            kind = self._choose()
            self.counts[kind] += 1
            self.by_request[(kind, line)] += 1
            await self._act(kind, request, line, reader, writer)
        except asyncio.CancelledError:
            _reset(writer)
            raise
        except Exception as e:  # noqa: BLE001 - a peer gone, a timeout: this connection fails, said in `errors`
            self.errors.append(f"{type(e).__name__}: {e}")
            _reset(writer)
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _act(self, kind: str, request: bytes, line: str, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
        if kind == "reset_before":
            _reset(writer)
            return
        where = self.rng.choice(self.delay_where) if kind == "delay" else ""
        if where in ("request", "both") and await _gone_within(reader, self.rng.uniform(*self.delay)):
            self.counts["client_gone"] += 1  # the device died holding it: the request dies too
            return
        if kind == "duplicate":
            answers = await asyncio.gather(self._upstream(request, line), self._upstream(request, line),
                                           return_exceptions=True)
            good = [a for a in answers if isinstance(a, bytes)]
            if not good:
                raise answers[0]
            answer = good[0]
        else:
            answer = await self._upstream(request, line)
        if where in ("response", "both"):
            await asyncio.sleep(self.rng.uniform(*self.delay))
        if kind == "drop_response":
            writer.close()  # a clean close, no answer: the client reads end of file
            return
        if kind == "reset_after":
            _reset(writer)
            return
        writer.write(answer)
        await asyncio.wait_for(writer.drain(), IO_TIMEOUT)

    async def _upstream(self, request: bytes, line: str) -> bytes:
        """Send the request to central on a fresh connection; its whole answer."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), IO_TIMEOUT)
        try:
            writer.write(request)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), IO_TIMEOUT)  # to end of file: Connection: close
        finally:
            writer.close()
        status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b""
        self.statuses[(line, int(status) if status.isdigit() else 0)] += 1
        return answer


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes | None, str]:
    """One whole HTTP/1.1 request, with `Connection: close` put in its headers so that central
    closes after its answer (the answer then ends at end of file); and its request line."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None, ""  # the client went away before asking anything
    lines = head[:-4].split(b"\r\n")
    request_line = lines[0].decode("latin-1")
    headers, length = [], 0
    for raw in lines[1:]:
        name, _, value = raw.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key in (b"connection", b"keep-alive"):
            continue
        headers.append(raw)
    body = await reader.readexactly(length) if length else b""
    method, path = (request_line.split(" ") + ["", ""])[:2]
    rebuilt = b"\r\n".join([lines[0], *headers, b"Connection: close"]) + b"\r\n\r\n" + body
    return rebuilt, f"{method} {path.split('?')[0]}"


async def _gone_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Hold for `seconds`; True if the client went away meanwhile (it sends nothing more
    after its request: anything it does send now is end of file or a reset)."""
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly end of file."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
