"""Security headers on every answer (ASGI middleware), set unless the route set its own:

- Cache-Control: no-store: pages, CSVs and JSON carry customers' names and phones; no browser
  or proxy keeps a copy (the office's stylesheet says otherwise for itself).
- A content security policy: the page's own server only (no script, no inline style: the back
  office's CSS is a file central serves), never in a frame (with X-Frame-Options for older
  browsers), forms posted only back to central.
- nosniff, and no Referer: a page's address (a search, a ticket) stays on central.
"""

from __future__ import annotations

POLICY = b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"
# /docs and /redoc when turned on ($CENTRAL_API_DOCS): FastAPI's pages load their script from a CDN,
# so their policy forbids only framing.
DOCS_POLICY = b"frame-ancestors 'none'; form-action 'self'"
HEADERS = ((b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"))


class SecurityHeaders:
    def __init__(self, app, docs_paths: tuple[str, ...] = ()):
        self.app, self.docs_paths = app, docs_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = DOCS_POLICY if scope.get("path") in self.docs_paths else POLICY

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in (*HEADERS, (b"content-security-policy", policy))
                            if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
