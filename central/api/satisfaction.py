"""满意度统计 in the back office: the figures as JSON, a page, and the ratings as CSV, over an
optional period of local days (`from`, `to`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.satisfaction import csv_text

from ..office_pages import message_html, satisfaction_html
from ..satisfaction import ratings, report
from .deps import Office, Store
from .params import DAY, BadParameter, described, period
from .responses import BAD_QUERY, BUSY, CSV, PAGE, PAGE_ERRORS, UNAUTHORISED, csv_response, invalid, json_response

router = APIRouter(tags=["office"])

Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD (2000-2999)"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`"))]


@router.get("/api/v1/office/satisfaction", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_satisfaction(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return invalid(e)
    return json_response(report(store, first, last).figures())


@router.get("/office/satisfaction", response_class=HTMLResponse, responses={**PAGE_ERRORS, **PAGE})
def office_satisfaction_page(viewer: Office, store: Store, start: Start = None, end: End = None) -> HTMLResponse:
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return HTMLResponse(message_html("满意度统计 · Satisfaction", str(e), "/office/satisfaction", viewer), 422)
    return HTMLResponse(satisfaction_html(report(store, first, last).figures(), viewer))


@router.get("/office/satisfaction.csv", response_class=Response, responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_satisfaction_csv(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return invalid(e)
    return csv_response(csv_text(ratings(store, first, last)), "satisfaction.csv")
