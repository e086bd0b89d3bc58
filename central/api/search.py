"""受理单 in the back office: every ticket, newest first, searched and filtered in keyset pages
(central/search.py), as a page and as JSON; each row links its ticket's page. Customers' names
and phones: clerks and directors only; every search is in the audit log, a phone typed in the box
kept there with its last 4 digits only (search.masked_query)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.vocabulary import FIELDS

from .. import audit
from ..office import STATUS_NAMES, mask_phone
from ..office_pages import message_html
from ..search import (
    MAX_PAGE_SIZE,
    MAX_QUERY,
    PAGE_LINK,
    PAGE_SIZE,
    STATUSES,
    Cursor,
    Page,
    Search,
    masked_query,
    tickets,
)
from ..storage import Storage
from ..templating import render
from . import params
from .auditing import address
from .deps import Personal, Store, Viewer
from .responses import BAD_QUERY, BUSY, FORBIDDEN, PAGE, UNAUTHORISED, invalid, json_response

router = APIRouter(tags=["office"])

TEXT = f"^[^\\x00-\\x1f\\x7f]{{0,{MAX_QUERY}}}$"
STATUS = params.optional("|".join(STATUSES))
NAME = params.optional("[A-Za-z0-9_.:\\-]{1,64}")  # a device's uid
SITE_NAME = params.optional("[^\\x00-\\x1f\\x7f,]{1,64}")  # as CENTRAL_SITES names it
CLERK = params.optional("[^\\x00-\\x1f\\x7f]{1,64}")  # a clerk's username as an intake names it
FIELD = params.optional("|".join(f"[{letter}{letter.lower()}]" for letter in FIELDS))  # a lab field's letter
SIZE = params.optional("[1-9][0-9]?|[1-4][0-9]{2}|500")  # 1 to MAX_PAGE_SIZE
LINK = params.optional(PAGE_LINK)

Q = Annotated[str | None, Query(**params.described(
    TEXT, "a ticket number or its start, a part of the organisation's name, a phone (whole or its last 4 "
          "digits) or an instrument's serial number"))]
Status = Annotated[str | None, Query(**params.described(STATUS, "registered, received, ready or picked_up"))]
Site = Annotated[str | None, Query(**params.described(SITE_NAME, "the tickets of this site only"))]
Kiosk = Annotated[str | None, Query(**params.described(NAME, "the tickets this kiosk (its device uid) registered"))]
Counter = Annotated[str | None, Query(**params.described(
    NAME, "the tickets this counter (a clerk desk's device uid) took in"))]
Clerk = Annotated[str | None, Query(**params.described(CLERK, "the tickets this clerk (a username) took in"))]
Field = Annotated[str | None, Query(**params.described(
    FIELD, "the tickets with a line of this lab field: its letter, " + ", ".join(
        f"{letter} {en}" for letter, (_zh, en) in FIELDS.items())))]
Start = Annotated[str | None, Query(alias="from", **params.described(params.DAY, "registered on or after this local "
                                                                                 "day, YYYY-MM-DD"))]
End = Annotated[str | None, Query(alias="to", **params.described(params.DAY, "registered on or before this local day"))]
Size = Annotated[str | None, Query(**params.described(SIZE, f"tickets a page, 1 to {MAX_PAGE_SIZE} ({PAGE_SIZE})"))]
Link = Annotated[str | None, Query(**params.described(LINK, "another page: the `next` or `previous` a page gave"))]


def _search(q, status, site, kiosk, start, end, size, page, counter=None, clerk=None, field=None) -> Search:
    """The query as typed, checked: BadParameter says what is wrong."""
    if not re.fullmatch(TEXT, q or ""):
        raise params.BadParameter(f"q: at most {MAX_QUERY} characters, no control characters")
    for name, value, rule, says in (("status", status, STATUS, "one of " + ", ".join(STATUSES)),
                                    ("site", site, SITE_NAME, "a site's name"),
                                    ("kiosk", kiosk, NAME, "a device's uid"),
                                    ("counter", counter, NAME, "a clerk desk's device uid"),
                                    ("clerk", clerk, CLERK, "a clerk's username, no control characters"),
                                    ("field", field, FIELD, "a lab field's letter, one of " + ", ".join(FIELDS)),
                                    ("size", size, SIZE, f"a number of tickets, 1 to {MAX_PAGE_SIZE}"),
                                    ("page", page, LINK, "a page link this list gave")):
        if not re.fullmatch(rule, value or ""):
            raise params.BadParameter(f"{name}: {says}")
    first, last = params.period(start, end)
    row, after = Cursor.parse(page.strip()) if page and page.strip() else (None, True)
    return Search(text=(q or "").strip(), status=(status or "").strip() or None, site=(site or "").strip() or None,
                  kiosk=(kiosk or "").strip() or None, counter=(counter or "").strip() or None,
                  clerk=(clerk or "").strip() or None, field=(field or "").strip().upper() or None,
                  start=first, end=last,
                  size=int(size.strip()) if size and size.strip() else PAGE_SIZE,
                  after=row if after else None, before=None if after else row)


def _audited(store: Storage, viewer: Viewer, request: Request, rows: int) -> None:
    """The search in the audit log: what was asked, a phone typed in the box masked."""
    asked = [(key, masked_query(value) if key == "q" else value) for key, value in request.query_params.multi_items()]
    audit.record(store, viewer.user, "view", request.url.path, urlencode(asked), rows, address=address(request))


def links(search: Search, page: Page) -> dict[str, str | None]:
    """The query strings of the pages before and after this one, the same search and filters."""
    kept = {"q": search.text, "status": search.status, "site": search.site, "kiosk": search.kiosk,
            "counter": search.counter, "clerk": search.clerk, "field": search.field,
            "from": search.start.isoformat() if search.start else None,
            "to": search.end.isoformat() if search.end else None,
            "size": str(search.size) if search.size != PAGE_SIZE else None}
    kept = {k: v for k, v in kept.items() if v}
    return {"next": urlencode({**kept, "page": page.next.link(True)}) if page.next else None,
            "previous": urlencode({**kept, "page": page.previous.link(False)}) if page.previous else None}


def _item(row: dict) -> dict:
    return {"number": row["number"], "status": row["status"], "registered_at": _iso(row["registered_at"]),
            "listed_at": _iso(row["first_at"]), "organisation": row["organisation"], "contact": row["contact"],
            "phone": mask_phone(row["phone"]), "instruments": row["instruments"], "site": row["site"],
            "kiosk": row["kiosk"], "page": f"/office/tickets/{row['number']}"}


def tickets_html(search: Search, page: Page, viewer: Viewer) -> str:
    return render("search.html", title="受理单 · Tickets", viewer=viewer, search=search, page=page,
                  links=links(search, page), statuses=STATUSES, status_names=STATUS_NAMES, mask_phone=mask_phone,
                  max_query=MAX_QUERY, fields=FIELDS)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/api/v1/office/tickets", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_tickets(viewer: Personal, store: Store, request: Request, q: Q = None, status: Status = None,
                   site: Site = None, kiosk: Kiosk = None, counter: Counter = None, clerk: Clerk = None,
                   field: Field = None, start: Start = None, end: End = None, size: Size = None,
                   page: Link = None) -> Response:
    try:
        search = _search(q, status, site, kiosk, start, end, size, page, counter, clerk, field)
    except params.BadParameter as e:
        return invalid(e)
    found = tickets(store, search)
    _audited(store, viewer, request, len(found.rows))
    return json_response({"items": [_item(row) for row in found.rows],
                          "next": found.next.link(True) if found.next else None,
                          "previous": found.previous.link(False) if found.previous else None})


@router.get("/office/tickets", response_class=HTMLResponse, responses=PAGE)
def office_tickets_page(viewer: Personal, store: Store, request: Request, q: Q = None, status: Status = None,
                        site: Site = None, kiosk: Kiosk = None, counter: Counter = None, clerk: Clerk = None,
                        field: Field = None, start: Start = None, end: End = None,
                        size: Size = None, page: Link = None) -> HTMLResponse:
    try:
        search = _search(q, status, site, kiosk, start, end, size, page, counter, clerk, field)
    except params.BadParameter as e:
        return HTMLResponse(message_html("受理单 · Tickets", str(e), "/office/tickets", viewer), 422)
    found = tickets(store, search)
    _audited(store, viewer, request, len(found.rows))
    return HTMLResponse(tickets_html(search, found, viewer))
