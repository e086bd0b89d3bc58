"""What holds for every request to the public site before a page sees it (ASGI middleware, on
the paths under PREFIX, or on every path of the public site's own port):

- at most RATE requests a minute per client address (a bucket of BURST, refilled RATE a
  minute): 429 with Retry-After and a page that says so. Per worker process; the public port
  runs one (central/cli.py). The address is the connection's, or the one a trusted proxy says
  (uvicorn's --forwarded-allow-ips decides whom to believe; by default only 127.0.0.1).
- a body over MAX_BODY bytes (LARGER_BODIES: a path's own, e.g. an upload) is a 413 before it
  fills memory, said length or chunked;
- headers on every answer, over the app's own: a CSP of central's own styles and images only
  (no script at all, nothing inline, no frame, forms only back here, no <base>), no-store
  unless the route says otherwise (its stylesheet), no Referer, nosniff, no frame, a
  Permissions-Policy that asks for nothing, and same-origin opener and resources.
"""

from __future__ import annotations

import time

from .pages import PREFIX

RATE = 60  # requests a minute per address
BURST = 30
MAX_BODY = 16 * 1024  # bytes: the site's forms are a few fields, an estimate's list ~40 lines
# A path (exact) that may take more, e.g. an upload: {PREFIX + "/prepare/upload": 2 * 1024 * 1024}
LARGER_BODIES: dict[str, int] = {}
MAX_ADDRESSES = 50_000  # buckets kept; beyond it the full ones are forgotten

POLICY = (b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
          b"frame-ancestors 'none'; base-uri 'none'")
HEADERS = ((b"content-security-policy", POLICY), (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin"),
           (b"cross-origin-resource-policy", b"same-origin"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"))
REPLACED = {name for name, _ in HEADERS}

PAGE_429 = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>请稍后 · Please wait</title>"
            "<p>请求过于频繁，请稍后再试。</p><p lang=\"en\">Too many requests: please try again shortly.</p></html>")
PAGE_413 = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>过大 · Too large</title>"
            "<p>提交的内容过大。</p><p lang=\"en\">What was sent is too large.</p></html>")


class Buckets:
    """Requests per address, a token bucket each. `clock`: monotonic seconds (a test's own)."""

    def __init__(self, rate: float = RATE, burst: int = BURST, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate / 60.0, burst, clock
        self.levels: dict[str, tuple[float, float]] = {}

    def take(self, address: str) -> float:
        """0 if the request may go, else the seconds until it might."""
        now = self.clock()
        level, at = self.levels.get(address, (float(self.burst), now))
        level = min(float(self.burst), level + (now - at) * self.rate)
        if level < 1:
            self.levels[address] = (level, now)
            return (1 - level) / self.rate
        self.levels[address] = (level - 1, now)
        if len(self.levels) > MAX_ADDRESSES:
            self._forget(now)
        return 0.0

    def _forget(self, now: float) -> None:
        full = [a for a, (level, at) in self.levels.items() if level + (now - at) * self.rate >= self.burst]
        for address in full or list(self.levels)[: len(self.levels) // 2]:
            del self.levels[address]


def is_public(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def client_address(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "?"


class PublicGuard:
    def __init__(self, app, every_path: bool = False, buckets: Buckets | None = None):
        self.app, self.every_path = app, every_path
        self.buckets = buckets or Buckets()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not (self.every_path or is_public(scope.get("path", ""))):
            return await self.app(scope, receive, send)
        wait = self.buckets.take(client_address(scope))
        if wait:
            return await _answer(send, 429, PAGE_429, [(b"retry-after", str(max(1, round(wait))).encode())])
        limit = LARGER_BODIES.get(scope.get("path", ""), MAX_BODY)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _answer(send, 413, PAGE_413)
        seen, started = 0, False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        async def guarded_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": _headers(message.get("headers", ()))}
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not started:
                await _answer(send, 413, PAGE_413)


class _TooLarge(Exception):
    pass


def _headers(headers) -> list:
    kept = [(name, value) for name, value in headers if name.lower() not in REPLACED]
    if not any(name.lower() == b"cache-control" for name, _ in kept):
        kept.append((b"cache-control", b"no-store"))
    return kept + list(HEADERS)


async def _answer(send, status: int, page: str, extra: list | None = None) -> None:
    body = page.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": _headers([(b"content-type", b"text/html; charset=utf-8"),
                                     (b"content-length", str(len(body)).encode()), *(extra or [])])})
    await send({"type": "http.response.body", "body": body})


__all__ = ["Buckets", "PublicGuard", "is_public"]
