"""在办清单 in the back office: every ticket taken in and not handed back, as JSON and pages of
PAGE_SIZE in the list's order (latest work first), and CSV of the whole list for the staff who call
customers (the phone in full there only). The list is ordered by lateness as of now, so a page is
its place in that order (an offset), not a keyset: the order moves as time passes anyway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.worklist import item_dict, to_csv

from ..office import mask_phone
from ..office_pages import worklist_html
from ..worklist import MAX_PAGE_SIZE, PAGE_SIZE, work_list, work_page
from . import params
from .auditing import seen
from .deps import Personal, Store
from .responses import BAD_QUERY, BUSY, CSV, FORBIDDEN, PAGE, PAGE_ERRORS, UNAUTHORISED, csv_response, json_response

router = APIRouter(tags=["office"])

PickupDays = Annotated[int, Query(ge=1, le=365, description="days to collect before a pickup is overdue"),
                     params.DIGITS]
PageNumber = params.page_number()
Size = params.page_size("tickets", PAGE_SIZE, MAX_PAGE_SIZE)


@router.get("/api/v1/office/worklist", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_worklist(viewer: Personal, store: Store, request: Request, days: PickupDays = 30, page: PageNumber = 1,
                    size: Size = PAGE_SIZE) -> Response:
    found = work_page(store, page, size, pickup_days=days)
    seen(store, viewer, request, len(found.items))
    return json_response({"pickup_days": days, "in_lab": found.in_lab, "in_lab_late": found.in_lab_late,
                          "waiting": found.waiting, "waiting_overdue": found.waiting_overdue,
                          "page": page, "pages": found.pages, "size": size,
                          "items": [item_dict(i, mask_phone) for i in found.items]})


@router.get("/office/worklist", response_class=HTMLResponse, responses={**PAGE_ERRORS, **PAGE})
def office_worklist_page(viewer: Personal, store: Store, request: Request, days: PickupDays = 30,
                         page: PageNumber = 1, size: Size = PAGE_SIZE) -> HTMLResponse:
    found = work_page(store, page, size, pickup_days=days)
    seen(store, viewer, request, len(found.items))
    return HTMLResponse(worklist_html(found, found.items, viewer, page=page, pages=found.pages, size=size))


@router.get("/office/worklist.csv", response_class=Response,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_worklist_csv(viewer: Personal, store: Store, request: Request, days: PickupDays = 30) -> Response:
    items = work_list(store, pickup_days=days).items
    seen(store, viewer, request, len(items), export=True)
    return csv_response(to_csv(items), "worklist.csv")
