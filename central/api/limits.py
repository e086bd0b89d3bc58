"""What holds for a request before a route sees it, as ASGI middleware:

- `BodyLimit`: a body over MAX_BODY bytes is a 413 before it fills memory, whether it says its
  length (Content-Length) or not (chunked).
- `Lanes`: the back office's requests use the office's own database connections and timeouts,
  every other request the devices' (central/storage.py `Lane`).

Per-device quotas need the device, so they are checked in the routes (central/api/quotas.py).
"""

from __future__ import annotations

import json

from ..storage import DEVICE, OFFICE, asking

# Bytes. A registration is ~1.1-2.5 KB (1 to 5 instruments), so 500 of them are ~0.6-1.2 MB;
# a batch of larger ones gets a 413 and the device halves it (kiosk/sync/loop.py).
MAX_BODY = 2 * 1024 * 1024
OFFICE_PATHS = ("/office", "/api/v1/office")


class Lanes:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        office = any(path == p or path.startswith(p + "/") for p in OFFICE_PATHS)
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


async def _send_413(send) -> None:
    body = json.dumps({"detail": f"request body over {MAX_BODY} bytes", "error": "too_large"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
