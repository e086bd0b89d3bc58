"""周检到期 in the back office: the instruments due for verification soon (and overdue), as
JSON, a page, and CSV for the staff who call their owners (the phone in full there only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.due import DueInstrument
from kiosk.i18n.due_text import to_csv

from ..due import due_report
from ..office import mask_phone
from ..office_pages import due_html, message_html
from . import params
from .auditing import seen
from .deps import Personal, Store
from .responses import (
    BAD_QUERY,
    BUSY,
    CSV,
    FORBIDDEN,
    PAGE,
    PAGE_ERRORS,
    UNAUTHORISED,
    csv_response,
    invalid,
    json_response,
)

router = APIRouter(tags=["office"])

Within = Annotated[str | None, Query(**params.described(params.WITHIN, "30d, 30 or 6w: 1 to 3660 days (30d if blank)"))]
Overdue = Annotated[str | None, Query(**params.described(params.FLAG, "1 or 0 (1 if blank)"))]


@router.get("/api/v1/office/due", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_due(viewer: Personal, store: Store, request: Request, within: Within = None,
               overdue: bool = True) -> Response:
    try:
        days, _text = params.within(within)
    except params.BadParameter as e:
        return invalid(e)
    report = due_report(store, days, overdue=overdue)
    seen(store, viewer, request, len(report.items))
    return json_response({"today": report.today.isoformat(), "within_days": days, "overdue_included": overdue,
                          "catalog_version": report.catalog_version,
                          "items": [_item(i, report.today) for i in report.items]})


@router.get("/office/due", response_class=HTMLResponse, responses={**PAGE_ERRORS, **PAGE})
def office_due_page(viewer: Personal, store: Store, request: Request, within: Within = None,
                    overdue: Overdue = None) -> HTMLResponse:
    try:
        days, text = params.within(within)
        include = params.flag(overdue, "overdue", True)
    except params.BadParameter as e:
        return HTMLResponse(message_html("周检到期 · Verification due", str(e), "/office/due", viewer), 422)
    report = due_report(store, days, overdue=include)
    seen(store, viewer, request, len(report.items))
    return HTMLResponse(due_html(report, text, viewer))


@router.get("/office/due.csv", response_class=Response,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_due_csv(viewer: Personal, store: Store, request: Request, within: Within = None, overdue: bool = True,
                   lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
    try:
        days, _text = params.within(within)
    except params.BadParameter as e:
        return invalid(e)
    items = due_report(store, days, overdue=overdue).items
    seen(store, viewer, request, len(items), export=True)
    return csv_response(to_csv(items, lang), "due.csv")


def _item(item: DueInstrument, today: date) -> dict:
    """One instrument as the JSON gives it: the phone masked."""
    return {"due_on": item.due_on.isoformat(), "overdue": item.due_on < today, "number": item.number,
            "organisation": item.organisation, "contact": item.contact, "phone": mask_phone(item.phone),
            "name_zh": item.name_zh, "name_en": item.name_en, "code": item.code,
            "serial_number": item.serial_number, "quantity": item.quantity,
            "picked_up_on": item.picked_up_on.isoformat(), "cycle_months": item.cycle_months}
