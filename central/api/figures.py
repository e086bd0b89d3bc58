"""统计 in the back office (central/figures.py): intake, turnaround and on-time rate, revenue,
verification waived and satisfaction by week or month, as JSON, a page with its charts drawn in
it (inline SVG, nothing loaded from elsewhere) and CSV. No personal data: every role."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from ..figures import PERIODS, TooLong, csv_text, report
from ..office_pages import figures_html, message_html
from .deps import Office, Store
from .params import DAY, BadParameter, described, optional, period
from .responses import BAD_QUERY, BUSY, CSV, PAGE, UNAUTHORISED, csv_response, invalid, json_response

router = APIRouter(tags=["office"])

BY = optional("week|month")
Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD; "
                                                                    "default: 12 weeks or months back"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`; "
                                                                "default: today"))]
By = Annotated[str | None, Query(**described(BY, "week (ISO weeks, Monday first; the default) or month"))]
TITLE = "统计 · Figures"


def _read(store, by: str | None, start: str | None, end: str | None):
    if not re.fullmatch(BY, by or ""):
        raise BadParameter("by: week or month")
    first, last = period(start, end)
    try:
        return report(store, (by or "").strip() or PERIODS[0], first, last)
    except TooLong as e:
        raise BadParameter(str(e)) from None


@router.get("/api/v1/office/figures", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_figures(_: Office, store: Store, by: By = None, start: Start = None, end: End = None) -> Response:
    try:
        return json_response(_read(store, by, start, end).to_dict())
    except BadParameter as e:
        return invalid(e)


@router.get("/office/figures", response_class=HTMLResponse, responses=PAGE)
def office_figures_page(viewer: Office, store: Store, by: By = None, start: Start = None,
                        end: End = None) -> HTMLResponse:
    try:
        found = _read(store, by, start, end)
    except BadParameter as e:
        return HTMLResponse(message_html(TITLE, str(e), "/office/figures", viewer), 422)
    return HTMLResponse(figures_html(found, viewer))


@router.get("/office/figures.csv", response_class=Response, responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_figures_csv(_: Office, store: Store, by: By = None, start: Start = None, end: End = None) -> Response:
    try:
        found = _read(store, by, start, end)
    except BadParameter as e:
        return invalid(e)
    return csv_response(csv_text(store, found), f"figures-{found.by}-{found.first}-{found.last}.csv")
