"""The notices in the back office: GET /api/v1/office/notices and /office/notices (counts by state, the
latest notices, one state's), for clerks and directors (an auditor: 403, they are of customers; the
addresses are masked). A ticket's own are on its page (central/ticket_page.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..notices.outbox import counts, listing, notice_json
from ..templating import render
from .auditing import seen
from .deps import Personal, Store
from .responses import BAD_QUERY, BUSY, FORBIDDEN, PAGE, UNAUTHORISED, json_response

router = APIRouter(tags=["office"])

State = Annotated[Literal["queued", "failed", "sending", "sent", "parked", "dropped"] | None,
                  Query(description="only the notices in this state (failed: queued again after a failure)")]
Limit = Annotated[int, Query(ge=1, le=1000, description="how many, the latest changed first")]


def _read(store, state, limit):
    with store.read() as tx:
        return counts(tx), listing(tx, state, limit)


@router.get("/api/v1/office/notices", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_notices(viewer: Personal, store: Store, request: Request, state: State = None,
                   limit: Limit = 100) -> Response:
    found, rows = _read(store, state, limit)
    seen(store, viewer, request, len(rows))
    return json_response({"counts": found, "state": state, "notices": [notice_json(n) for n in rows]})


@router.get("/office/notices", response_class=HTMLResponse, responses=PAGE)
def office_notices_page(viewer: Personal, store: Store, request: Request, state: State = None,
                        limit: Limit = 100) -> HTMLResponse:
    found, rows = _read(store, state, limit)
    seen(store, viewer, request, len(rows))
    return HTMLResponse(render("notices.html", title="通知 · Notices", viewer=viewer, counts=found,
                               notice_list=rows, state=state))
