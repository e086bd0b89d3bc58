"""While the read models are being built after an upgrade (central/backfill.py), what reads them
answers 503 "being built" instead of partial rows: the back office's pages and JSON (a director
would take a half-built count or figure for the true one) and the public site's progress look-up
(a ticket not built yet would read as a miss, and misses lock a number). The devices' sync and
everything else are served as always. In the `window` phase (schema 24's window sums: every other
row is whole) only the pages and JSON that read those sums answer so (WINDOW_PATHS); the rest of
the office and the look-up are served. Once the backfill is seen done, nothing is looked up again.
"""

from __future__ import annotations

import asyncio
import json
import time

from .. import backfill
from ..messages import t
from ..storage import Storage
from ..templating import STYLESHEET, render
from .limits import OFFICE_PATHS

RECHECK = 5.0  # seconds a look at the backfill's progress is reused
RETRY_AFTER = 30
PUBLIC_PROGRESS = "/public/progress"  # central/public/progress.py (the public site imports api/, not back)
# What reads rating_sum's window kinds: the window report (central/ratings_export.py window_report,
# central/api/ratings.py), its page and JSON. Its exports read the ratings' rows, whole then.
WINDOW_PATHS = ("/office/ratings", "/api/v1/office/ratings")


def percent(progress: backfill.Progress) -> int:
    return int(progress.share() * 100)


def _said(progress: backfill.Progress) -> tuple[str, dict]:
    """The message and its values: tickets, or the ratings of the `window` phase alone (schema 24)."""
    if progress.phase == "window" and not progress.tickets_total:
        return "office_building_ratings", {"percent": percent(progress), "done": progress.events_done,
                                           "total": progress.events_total}
    return "office_building", {"percent": percent(progress), "done": progress.tickets_done,
                               "total": progress.tickets_total}


def _office_page(progress: backfill.Progress) -> bytes:
    key, values = _said(progress)
    return render("building.html", refresh=RETRY_AFTER, zh=t(key, "zh", **values), en=t(key, "en", **values),
                  title=f'{t("office_building_title", "zh")} · {t("office_building_title", "en")}').encode()


def _office_json(progress: backfill.Progress) -> bytes:
    key, values = _said(progress)
    return json.dumps({"error": "building", "detail": t(key, "en", **values),
                       "done": round(progress.share(), 3), "tickets_done": progress.tickets_done,
                       "tickets_total": progress.tickets_total}).encode()


def _public_page() -> bytes:
    zh = t("public_building", "zh")
    return render("building.html", refresh=None, zh=zh, en=t("public_building", "en"), title=zh).encode()


class Backfilling:
    def __init__(self, app, storage: Storage, office: bool = True):
        self.app, self.storage, self.office = app, storage, office  # office: False on the public site's own port
        self.whole = False
        self.looked_at = -RECHECK
        self.progress: backfill.Progress | None = None

    async def __call__(self, scope, receive, send):
        if self.whole or scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        office = self.office and path != STYLESHEET and any(path == p or path.startswith(p + "/") for p in OFFICE_PATHS)
        public = path == PUBLIC_PROGRESS and scope.get("method") == "POST"
        if not (office or public):
            return await self.app(scope, receive, send)
        progress = await self._progress()
        if progress is None or (progress.sums_only() and path not in WINDOW_PATHS):  # reads no window sum
            return await self.app(scope, receive, send)
        if public:
            body, kind = _public_page(), b"text/html; charset=utf-8"
        elif path.startswith("/api/"):
            body, kind = _office_json(progress), b"application/json"
        else:
            body, kind = _office_page(progress), b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(RETRY_AFTER).encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    async def _progress(self) -> backfill.Progress | None:
        now = time.monotonic()
        if now - self.looked_at >= RECHECK:
            self.progress = await asyncio.to_thread(backfill.pending, self.storage)
            self.looked_at = now
            self.whole = self.progress is None
        return self.progress
