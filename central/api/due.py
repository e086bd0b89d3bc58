"""周检到期 in the back office: the instruments due for verification soon (and overdue), as
JSON and a page, a page at a time (keyset: `from` a row's key, `size` rows), and as CSV for the
staff who call their owners (the phone in full there only), streamed in chunks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from kiosk.domain.clock import today as institute_today
from kiosk.domain.due import DueInstrument
from kiosk.domain.events import NUMBER_PATTERN
from kiosk.i18n.due_text import csv_rows

from ..due import MAX_PAGE_SIZE, PAGE_SIZE, Count, Cursor, due_page, exported
from ..office import mask_phone
from ..office_pages import due_html, message_html
from ..storage import Storage
from . import params
from .auditing import seen
from .deps import Personal, Store, Viewer
from .responses import BAD_QUERY, BUSY, CSV, FORBIDDEN, PAGE, UNAUTHORISED, invalid, json_response
from .search import SITE_NAME

router = APIRouter(tags=["office"])

SIZE = params.optional("[1-9][0-9]?|[1-4][0-9]{2}|500")  # MAX_PAGE_SIZE
# A row's key as Cursor.text() writes it: its due date, its ticket's number, its line.
FROM = params.optional(f"{params.CALENDAR_DAY}_{NUMBER_PATTERN.strip('^$')}_(?:0|[1-9][0-9]{{0,3}})")

Within = Annotated[str | None, Query(**params.described(params.WITHIN, "30d, 30 or 6w: 1 to 3660 days (30d if blank)"))]
Overdue = Annotated[str | None, Query(**params.described(params.FLAG, "1 or 0 (1 if blank)"))]
From = Annotated[str | None, Query(alias="from", **params.described(
    FROM, "where the page starts: a row's key as `next` or `previous` gave it (the first page if blank)"))]
Size = Annotated[str | None, Query(**params.described(
    SIZE, f"rows a page, 1 to {MAX_PAGE_SIZE} ({PAGE_SIZE} if blank)"))]
Site = Annotated[str | None, Query(**params.described(
    SITE_NAME, "the instruments of this site's tickets only (every site's if blank)"))]


def _site(site: str | None) -> str | None:
    if not re.fullmatch(SITE_NAME, site or ""):
        raise params.BadParameter("site: a site's name, at most 64 characters, no control characters or commas")
    return (site or "").strip() or None


def _page_query(within: str | None, overdue: str | None, start: str | None, size: str | None
                ) -> tuple[int, str, bool, Cursor | None, int]:
    days, text = params.within(within)
    include = params.flag(overdue, "overdue", True)
    if not re.fullmatch(FROM, start or ""):
        raise params.BadParameter("from: a row's key as a page's link gives it, like 2026-07-31_K1A-261124-0007_0")
    if not re.fullmatch(SIZE, size or ""):
        raise params.BadParameter(f"size: rows a page, 1 to {MAX_PAGE_SIZE}")
    cursor = Cursor.parse(start.strip()) if start and start.strip() else None
    rows = int(size.strip()) if size and size.strip() else PAGE_SIZE
    return days, text, include, cursor, rows


def _count(count: Count) -> dict:
    return {"n": count.n, "more": count.more}


@router.get("/api/v1/office/due", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_due(viewer: Personal, store: Store, request: Request, within: Within = None, overdue: Overdue = None,
               start: From = None, size: Size = None, site: Site = None) -> Response:
    try:
        days, _text, include, cursor, rows = _page_query(within, overdue, start, size)
        chosen = _site(site)
    except params.BadParameter as e:
        return invalid(e)
    page = due_page(store, days, overdue=include, start=cursor, size=rows, site=chosen)
    seen(store, viewer, request, len(page.items))
    return json_response({"today": page.today.isoformat(), "within_days": days, "overdue_included": include,
                          "site": chosen, "catalog_version": page.catalog_version, "size": rows,
                          "total": _count(page.total), "overdue": _count(page.overdue),
                          "next": page.next.text() if page.next else None,
                          "previous": page.previous.text() if page.previous else None,
                          "items": [_item(i, page.today) for i in page.items]})


@router.get("/office/due", response_class=HTMLResponse, responses=PAGE)
def office_due_page(viewer: Personal, store: Store, request: Request, within: Within = None,
                    overdue: Overdue = None, start: From = None, size: Size = None, site: Site = None) -> HTMLResponse:
    try:
        days, text, include, cursor, rows = _page_query(within, overdue, start, size)
        chosen = _site(site)
    except params.BadParameter as e:
        return HTMLResponse(message_html("周检到期 · Verification due", str(e), "/office/due", viewer), 422)
    page = due_page(store, days, overdue=include, start=cursor, size=rows, site=chosen)
    seen(store, viewer, request, len(page.items))
    return HTMLResponse(due_html(page, text, viewer))


@router.get("/office/due.csv", response_class=StreamingResponse,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_due_csv(viewer: Personal, store: Store, request: Request, within: Within = None, overdue: Overdue = None,
                   lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh", site: Site = None) -> Response:
    try:
        days, _text = params.within(within)
        include = params.flag(overdue, "overdue", True)
        chosen = _site(site)
    except params.BadParameter as e:
        return invalid(e)
    return StreamingResponse(_stream(store, viewer, request, days, include, lang, institute_today(), chosen),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="due.csv"'})


def _stream(store: Storage, viewer: Viewer, request: Request, days: int, overdue: bool, lang: str,
            today: date, site: str | None = None) -> Iterator[bytes]:
    """The CSV a chunk at a time; the export is in the audit log with the rows it gave, also when
    the download stopped midway."""
    sent = 0
    try:
        yield csv_rows([], lang, header=True).encode("utf-8")
        for chunk in exported(store, days, today, overdue=overdue, site=site):
            yield csv_rows(chunk, lang, header=False).encode("utf-8")
            sent += len(chunk)
    finally:
        seen(store, viewer, request, sent, export=True)


def _item(item: DueInstrument, today: date) -> dict:
    """One instrument as the JSON gives it: the phone masked."""
    return {"due_on": item.due_on.isoformat(), "overdue": item.due_on < today, "number": item.number,
            "organisation": item.organisation, "contact": item.contact, "phone": mask_phone(item.phone),
            "name_zh": item.name_zh, "name_en": item.name_en, "code": item.code,
            "serial_number": item.serial_number, "quantity": item.quantity,
            "picked_up_on": item.picked_up_on.isoformat(), "cycle_months": item.cycle_months}
