"""A page per ticket in the back office (central/ticket_page.py), and the same as JSON; linked
from every list that names a ticket. Customers' names and phones: clerks and directors only,
and every view is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.domain.events import NUMBER_PATTERN

from ..office_pages import message_html, ticket_html
from ..ticket_page import ticket_page
from .auditing import seen
from .deps import Personal, Store
from .responses import BUSY, FORBIDDEN, PAGE, UNAUTHORISED, Problem, Responses, json_response

router = APIRouter(tags=["office"])

Number = Annotated[str, Path(pattern=NUMBER_PATTERN, description="The ticket's number, like K1A-261124-0007")]
NOT_FOUND: Responses = {404: {"model": Problem, "description": "Central has no ticket with this number (`not_found`)"}}


@router.get("/api/v1/office/tickets/{number}", responses={**UNAUTHORISED, **FORBIDDEN, **NOT_FOUND, **BUSY})
def office_ticket(number: Number, viewer: Personal, store: Store, request: Request) -> Response:
    page = ticket_page(store, number)
    if page is None:
        return json_response({"detail": f"no ticket {number}", "error": "not_found"}, 404)
    seen(store, viewer, request, 1)
    return json_response(page)


@router.get("/office/tickets/{number}", response_class=HTMLResponse,
            responses={**PAGE, 404: {"description": "No such ticket, said in the page", "content": {"text/html": {}}}})
def office_ticket_page(number: Number, viewer: Personal, store: Store, request: Request) -> HTMLResponse:
    page = ticket_page(store, number)
    if page is None:
        return HTMLResponse(message_html("受理单 · Ticket", f"没有受理单 {number} · No ticket {number}", "/office",
                                         viewer), 404)
    seen(store, viewer, request, 1)
    return HTMLResponse(ticket_html(page, viewer))
