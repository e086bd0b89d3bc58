"""满意度统计 in the back office: the figures as JSON, a page, and the ratings as CSV, over an
optional period of local days (`from`, `to`). The figures, asked without a period, are of the
weeks the chart shows (the last 12, as a desk's admin screen shows them): a period every page
answers in a few index reads however many years are stored; `from=2000-01-01` asks for all.
The CSV, asked without one, is every rating (it is streamed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from kiosk.domain.clock import today as institute_today
from kiosk.domain.satisfaction import csv_rows
from kiosk.domain.satisfaction import period as weeks_shown

from ..office_pages import message_html, satisfaction_html
from ..satisfaction import WEEKS, exported, report
from ..storage import Storage
from .deps import Office, Store
from .params import DAY, BadParameter, described, period
from .responses import BAD_QUERY, BUSY, CSV, PAGE, UNAUTHORISED, invalid, json_response

router = APIRouter(tags=["office"])

Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD (2000-2999)"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`"))]


def figures_period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """The period asked for, else the weeks the chart shows (the last 12, to this one); also the window
    ratings' (central/api/ratings.py)."""
    first, last = period(start, end)
    return weeks_shown(WEEKS, institute_today()) if first is None and last is None else (first, last)


@router.get("/api/v1/office/satisfaction", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_satisfaction(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last = figures_period(start, end)
    except BadParameter as e:
        return invalid(e)
    return json_response(report(store, first, last).figures())


@router.get("/office/satisfaction", response_class=HTMLResponse, responses=PAGE)
def office_satisfaction_page(viewer: Office, store: Store, start: Start = None, end: End = None) -> HTMLResponse:
    try:
        first, last = figures_period(start, end)
    except BadParameter as e:
        return HTMLResponse(message_html("满意度统计 · Satisfaction", str(e), "/office/satisfaction", viewer), 422)
    return HTMLResponse(satisfaction_html(report(store, first, last).figures(), viewer))


@router.get("/office/satisfaction.csv", response_class=StreamingResponse,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_satisfaction_csv(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return invalid(e)
    return StreamingResponse(_stream(store, first, last), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="satisfaction.csv"'})


def _stream(store: Storage, first: date | None, last: date | None) -> Iterator[bytes]:
    """The CSV a chunk at a time (no personal data in it: nothing for the audit log)."""
    yield csv_rows([], header=True).encode("utf-8")
    for chunk in exported(store, first, last):
        yield csv_rows(chunk).encode("utf-8")
