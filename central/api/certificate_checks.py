"""证书核对 in the back office (central/certificate_checks.py): certificates checked at the dispatch
counters, returned and why, by lab field and week, with the error rate; as JSON, a page and CSV. No
personal data: every role that may see the figures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from kiosk.domain import certificate_check as rule
from kiosk.domain.clock import today

from .. import certificate_checks
from ..certificate_checks import MAX_PAGE_SIZE, PAGE_LINK, PAGE_SIZE, Cursor, FiguresPage
from ..templating import render
from .deps import Office, Store
from .params import DAY, BadParameter, described, optional, period
from .responses import BAD_QUERY, BUSY, CSV, PAGE, UNAUTHORISED, invalid, json_response

router = APIRouter(tags=["office"])

Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD (its week "
                                                                    "counts whole); default: 12 weeks back"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`; "
                                                                "default: today"))]
SIZE = optional("[1-9][0-9]?|[1-4][0-9]{2}|500")  # 1 to MAX_PAGE_SIZE
LINK = optional(PAGE_LINK)
Size = Annotated[str | None, Query(**described(SIZE, f"rows (week and field) a page, 1 to {MAX_PAGE_SIZE} "
                                                     f"({PAGE_SIZE})"))]
Link = Annotated[str | None, Query(**described(LINK, "another page: the `next` or `previous` a page gave"))]
TITLE = "证书核对 · Certificate checks"
WEEKS = 12


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    first, last = period(start, end)
    last = last or today()
    return first or rule.week_of(last) - timedelta(weeks=WEEKS - 1), last


def _read(store, start: str | None, end: str | None, size: str | None, page: str | None
          ) -> tuple[date, date, int, FiguresPage]:
    """The period and one page of its rows, as asked: BadParameter says what is wrong."""
    first, last = _period(start, end)
    for name, value, rule_, says in (("size", size, SIZE, f"a number of rows, 1 to {MAX_PAGE_SIZE}"),
                                     ("page", page, LINK, "a page link this list gave")):
        if not re.fullmatch(rule_, value or ""):
            raise BadParameter(f"{name}: {says}")
    rows = int(size.strip()) if size and size.strip() else PAGE_SIZE
    cursor, after = Cursor.parse(page.strip()) if page and page.strip() else (None, True)
    found = certificate_checks.page(store, first, last, after=cursor if after else None,
                                    before=None if after else cursor, size=rows)
    return first, last, rows, found


def _links(first: date, last: date, size: int, found: FiguresPage) -> dict[str, str | None]:
    """The query strings of the pages before and after this one: the same period and size."""
    kept = {"from": first.isoformat(), "to": last.isoformat(), **({"size": str(size)} if size != PAGE_SIZE else {})}
    return {"next": urlencode({**kept, "page": found.next.link(True)}) if found.next else None,
            "previous": urlencode({**kept, "page": found.previous.link(False)}) if found.previous else None}


def _dict(f: rule.CheckFigure) -> dict:
    return {"week": f.week.isoformat(), "field": f.field, "checked": f.checked, "returned": f.returned,
            "rechecked": f.rechecked, "error_rate": round(f.error_rate, 4), "reasons": f.reasons}


@router.get("/api/v1/office/certificate-checks", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_certificate_checks(_: Office, store: Store, start: Start = None, end: End = None, size: Size = None,
                              page: Link = None) -> Response:
    try:
        first, last, rows, found = _read(store, start, end, size, page)
    except BadParameter as e:
        return invalid(e)
    return json_response({"from": first.isoformat(), "to": last.isoformat(), "size": rows,
                          "next": found.next.link(True) if found.next else None,
                          "previous": found.previous.link(False) if found.previous else None,
                          "rows": [_dict(f) for f in found.rows]})


@router.get("/office/certificate-checks", response_class=HTMLResponse, responses=PAGE)
def office_certificate_checks_page(viewer: Office, store: Store, start: Start = None, end: End = None,
                                   size: Size = None, page: Link = None) -> HTMLResponse:
    from kiosk.i18n import field_name
    from kiosk.i18n.checks_text import reasons_text

    from ..office_pages import message_html

    try:
        first, last, rows, found = _read(store, start, end, size, page)
    except BadParameter as e:
        return HTMLResponse(message_html(TITLE, str(e), "/office/certificate-checks", viewer), 422)
    total, fields = certificate_checks.summary(store, first, last)

    def field(letter: str) -> str:
        return f"{letter} {field_name(letter, 'zh')} · {field_name(letter, 'en')}" if letter not in ("?", "*") \
            else "—"

    return HTMLResponse(render(
        "certificate_checks.html", title=TITLE, viewer=viewer, first=first, last=last, rows=found.rows,
        total=total, fields=fields, field=field, links=_links(first, last, rows, found),
        reasons=lambda r: f"{reasons_text(r, 'zh')} · {reasons_text(r, 'en')}" if r else "—",
        percent=lambda f: f"{f.error_rate * 100:.1f}%",
        query=urlencode({"from": first.isoformat(), "to": last.isoformat()})))


@router.get("/office/certificate-checks.csv", response_class=StreamingResponse,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_certificate_checks_csv(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last = _period(start, end)
    except BadParameter as e:
        return invalid(e)
    return StreamingResponse(_stream(store, first, last), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="certificate-checks-{first}-{last}.csv"'})


def _stream(store: Store, first: date, last: date) -> Iterator[bytes]:
    """The CSV a week at a time (rule.to_csv's lines: its header, then each chunk's rows)."""
    header = rule.to_csv([])
    yield header.encode("utf-8")
    for chunk in certificate_checks.exported(store, first, last):
        yield rule.to_csv(chunk)[len(header):].encode("utf-8")
