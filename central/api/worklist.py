"""在办清单 in the back office: every ticket taken in and not handed back, as JSON and pages of
PAGE_SIZE in the list's order (latest work first), and CSV of the whole list for the staff who call
customers (the phone in full there only). The list is ordered by lateness as of now: `page=N` is
a place in that order (an offset); `after`, the `next` a page gives, is a keyset that keeps the
first page's moment (central/worklist.py WorkCursor), so paging on neither repeats nor skips a
ticket as time passes. A cursor not as a page gave it is a 400 `bad_cursor`."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.worklist import item_dict, to_csv

from ..office import mask_phone
from ..office_pages import message_html, worklist_html
from ..worklist import CURSOR, MAX_PAGE_SIZE, PAGE_SIZE, BadCursor, WorkCursor, work_list, work_page
from . import params
from .auditing import seen
from .deps import Personal, Store
from .responses import BAD_QUERY, BUSY, CSV, FORBIDDEN, PAGE, UNAUTHORISED, csv_response, json_response

router = APIRouter(tags=["office"])

PickupDays = Annotated[int, Query(ge=1, le=365, description="days to collect before a pickup is overdue"),
                     params.DIGITS]
PageNumber = params.page_number()
Size = params.page_size("tickets", PAGE_SIZE, MAX_PAGE_SIZE)
AFTER = params.optional(CURSOR.pattern)
After = Annotated[str | None, Query(**params.described(
    AFTER, "the page after another: its `next` (the list as of that page's moment; then `days` and `page` are "
           "the cursor's); one not as a page gave it is a 400 `bad_cursor`"))]
BAD_CURSOR = {400: {"description": "`after` is not a `next` a page gave (cut or changed): error `bad_cursor`"}}


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


@router.get("/office/worklist.csv", response_class=Response,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_worklist_csv(viewer: Personal, store: Store, request: Request, days: PickupDays = 30) -> Response:
    items = work_list(store, pickup_days=days).items
    seen(store, viewer, request, len(items), export=True)
    return csv_response(to_csv(items), "worklist.csv")
