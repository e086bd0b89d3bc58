"""What holds for a request before a route sees it, as ASGI middleware:

- `BodyLimit`: a body over MAX_BODY bytes is a 413 before it fills memory, whether it says its
  length (Content-Length) or not (chunked).
- `Lanes`: the back office's requests use the office's own database connections and timeouts,
  every other request the devices' (central/storage.py `Lane`); and at most OFFICE_AT_ONCE of
  them run at once in a worker process, the others wait their turn. The office's database
  connections are its own, but the worker's Python is shared: four report users rendering pages
  at once held the interpreter from the devices' pushes. bench/office_load.py, 200,000 tickets,
  4 kiosks pushing, push p95 alone -> with 4 report users (the interpreter switching threads every
  SWITCH_INTERVAL): no limit 41 -> 288 ms and 47 -> 327 ms; two at a time (one per office
  connection) 41 -> 227 and 41 -> 211 ms; one at a time 46 -> 119 and 52 -> 167 ms. The office's
  second connection then serves the other workers' turn, not this one's. A turn is waited for
  as long as a connection would be (OFFICE.wait), then 503 `busy`. `CENTRAL_OFFICE_AT_ONCE`:
  another figure (0: no limit).

Per-device quotas need the device, so they are checked in the routes (central/api/quotas.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from ..storage import DEVICE, OFFICE, asking

# Bytes. A registration is ~1.1-2.5 KB (1 to 5 instruments), so 500 of them are ~0.6-1.2 MB;
# a batch of larger ones gets a 413 and the device halves it (kiosk/sync/loop.py).
MAX_BODY = 2 * 1024 * 1024
OFFICE_PATHS = ("/office", "/api/v1/office")
OFFICE_AT_ONCE = 1  # back-office requests running at once per worker process (measured: see above)
# Seconds a thread may hold the interpreter while another waits (Python's default: 0.005): a push
# waiting behind a page's rendering gets it back sooner, at each of its database round trips.
SWITCH_INTERVAL = 0.0005


def office_at_once() -> int:
    text = os.environ.get("CENTRAL_OFFICE_AT_ONCE", "").strip()
    return int(text) if text.isdigit() else OFFICE_AT_ONCE


class Lanes:
    def __init__(self, app, at_once: int | None = None):
        self.app = app
        at_once = office_at_once() if at_once is None else at_once
        self.office_turns = asyncio.Semaphore(at_once) if at_once > 0 else None
        sys.setswitchinterval(SWITCH_INTERVAL)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        office = any(path == p or path.startswith(p + "/") for p in OFFICE_PATHS)
        if office and self.office_turns is not None:
            try:  # as long as a page may wait for a connection, then 503 as then
                async with asyncio.timeout(OFFICE.wait):
                    await self.office_turns.acquire()
            except TimeoutError:
                return await _send_busy(send, page=not path.startswith("/api/"))
            try:
                with asking(OFFICE):
                    await self.app(scope, receive, send)
            finally:
                self.office_turns.release()
            return
        with asking(OFFICE if office else DEVICE):
            await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _send_413(send)
        seen, started = 0, False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_413(send)


BUSY_PAGE = ("<!doctype html><html lang=\"zh\"><meta charset=\"utf-8\"><title>后台繁忙 · Busy</title>"
             "<p>后台正忙，请稍后刷新本页。</p><p lang=\"en\">The back office is busy; reload this page shortly.</p>"
             "</html>")


async def _send_busy(send, *, page: bool = False) -> None:
    """503 `busy`: JSON for the API, a page for a browser (a person reads it)."""
    if page:
        body, kind = BUSY_PAGE.encode(), b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": "the back office is busy; retry shortly", "error": "busy"}).encode()
        kind = b"application/json"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"2")]})
    await send({"type": "http.response.body", "body": body})


async def _send_413(send) -> None:
    body = json.dumps({"detail": f"request body over {MAX_BODY} bytes", "error": "too_large"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
