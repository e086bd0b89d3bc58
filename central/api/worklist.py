"""在办清单 in the back office: every ticket taken in and not handed back, as JSON and pages of
PAGE_SIZE in the list's order (latest work first), and CSV of the whole list for the staff who call
customers (the phone in full there only), streamed in keyset chunks. The list is ordered by
lateness as of now: `page=N` is a place in that order (an offset); `after`, the `next` a page
gives, is a keyset that keeps the first page's moment (central/worklist.py WorkCursor), so paging
on neither repeats nor skips a ticket as time passes. A cursor not as a page gave it is a 400 `bad_cursor`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from kiosk.domain.clock import utc_now
from kiosk.domain.worklist import WorkItem, item_dict, to_csv

from ..office import mask_phone
from ..office_pages import message_html, worklist_html
from ..storage import Storage
from ..worklist import CURSOR, MAX_PAGE_SIZE, PAGE_SIZE, BadCursor, WorkCursor, work_page
from . import params
from .auditing import seen
from .deps import Personal, Store, Viewer
from .responses import BAD_QUERY, BUSY, CSV, FORBIDDEN, PAGE, UNAUTHORISED, Responses, json_response

router = APIRouter(tags=["office"])

PickupDays = Annotated[int, Query(ge=1, le=365, description="days to collect before a pickup is overdue"),
                     params.DIGITS]
PageNumber = Annotated[int, params.page_number_query(), params.DIGITS]
Size = Annotated[int, params.page_size_query("tickets", PAGE_SIZE, MAX_PAGE_SIZE), params.DIGITS]
AFTER = params.optional(CURSOR.pattern)
After = Annotated[str | None, Query(**params.described(
    AFTER, "the page after another: its `next` (the list as of that page's moment; then `days` and `page` are "
           "the cursor's); one not as a page gave it is a 400 `bad_cursor`"))]
EXPORT_CHUNK = 1_000  # tickets a statement while the CSV streams (each chunk its own short read)
BAD_CURSOR: Responses = {400: {"description":
                                "`after` is not a `next` a page gave (cut or changed): error `bad_cursor`"}}


def _cursor(after: str | None) -> WorkCursor | None:
    if not re.fullmatch(AFTER, after or ""):
        raise BadCursor("after: a work list's `next` link, as a page gave it")
    return WorkCursor.parse(after) if after is not None and after.strip() else None


@router.get("/api/v1/office/worklist", responses={**BAD_QUERY, **BAD_CURSOR, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_worklist(viewer: Personal, store: Store, request: Request, days: PickupDays = 30, page: PageNumber = 1,
                    size: Size = PAGE_SIZE, after: After = None) -> Response:
    try:
        cursor = _cursor(after)
    except BadCursor as e:
        return json_response({"detail": str(e), "error": "bad_cursor"}, 400)
    found = work_page(store, page, size, pickup_days=days, after=cursor)
    seen(store, viewer, request, len(found.items))
    return json_response({"pickup_days": found.pickup_days, "in_lab": found.in_lab, "in_lab_late": found.in_lab_late,
                          "waiting": found.waiting, "waiting_overdue": found.waiting_overdue,
                          "page": found.position // size + 1, "pages": found.pages, "size": size,
                          "next": found.next.text() if found.next else None,
                          "items": [item_dict(i, mask_phone) for i in found.items]})


@router.get("/office/worklist", response_class=HTMLResponse, responses={**BAD_CURSOR, **PAGE})
def office_worklist_page(viewer: Personal, store: Store, request: Request, days: PickupDays = 30,
                         page: PageNumber = 1, size: Size = PAGE_SIZE, after: After = None) -> HTMLResponse:
    try:
        cursor = _cursor(after)
    except BadCursor as e:
        return HTMLResponse(message_html("在办清单 · Work list", str(e), "/office/worklist", viewer), 400)
    found = work_page(store, page, size, pickup_days=days, after=cursor)
    seen(store, viewer, request, len(found.items))
    return HTMLResponse(worklist_html(found, found.items, viewer, page=found.position // size + 1, pages=found.pages,
                                      size=size))


@router.get("/office/worklist.csv", response_class=StreamingResponse,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_worklist_csv(viewer: Personal, store: Store, request: Request, days: PickupDays = 30) -> Response:
    return StreamingResponse(_stream(store, viewer, request, days), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="worklist.csv"'})


def exported(storage: Storage, pickup_days: int, now: datetime | None = None) -> Iterator[list[WorkItem]]:
    """The whole list in its order, EXPORT_CHUNK tickets a chunk: the work list's keyset pages
    (central/worklist.py work_page `after`: index ranges, the list as of the first chunk's moment),
    each read in its own short transaction."""
    found = work_page(storage, 1, EXPORT_CHUNK, now=now or utc_now(), pickup_days=pickup_days)
    while True:
        if found.items:
            yield found.items
        if found.next is None:
            return
        found = work_page(storage, size=EXPORT_CHUNK, after=found.next)


def _stream(store: Storage, viewer: Viewer, request: Request, days: int) -> Iterator[bytes]:
    """The CSV a chunk at a time (to_csv's lines: its header, then each chunk's rows); the export
    is in the audit log with the rows it gave, also when the download stopped midway."""
    sent = 0
    header = to_csv([])
    try:
        yield header.encode("utf-8")
        for chunk in exported(store, days):
            sent += len(chunk)  # handed over (a download stopped during it may have had them)
            yield to_csv(chunk)[len(header):].encode("utf-8")
    finally:
        seen(store, viewer, request, sent, export=True)
