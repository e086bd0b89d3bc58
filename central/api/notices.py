"""The notices in the back office: GET /api/v1/office/notices and /office/notices (counts by state, each
up to COUNT_CAP, the latest notices, one state's), for clerks and directors (an auditor:
403, they are of customers; the addresses are masked). A ticket's own are on its page (central/ticket_page.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..notices.outbox import capped_counts, listing, notice_json
from ..templating import render
from .auditing import seen
from .deps import Personal, Store
from .responses import BAD_QUERY, BUSY, FORBIDDEN, PAGE, UNAUTHORISED, json_response

router = APIRouter(tags=["office"])
COUNT_CAP = 1_000  # each state counted up to here ("1000+"): an index range of at most this many rows

State = Annotated[Literal["queued", "failed", "sending", "sent", "parked", "dropped"] | None,
                  Query(description="only the notices in this state (failed: queued again after a failure)")]
Limit = Annotated[int, Query(ge=1, le=1000, description="how many, the latest changed first")]


def _read(store, state, limit):
    """The counts by state, each up to COUNT_CAP (`more`: there are more), and the latest notices."""
    with store.read() as tx:
        return (*capped_counts(tx, COUNT_CAP), listing(tx, state, limit))


@router.get("/api/v1/office/notices", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_notices(viewer: Personal, store: Store, request: Request, state: State = None,
                   limit: Limit = 100) -> Response:
    found, more, rows = _read(store, state, limit)
    seen(store, viewer, request, len(rows))
    return json_response({"counts": found, "more": more, "state": state, "notices": [notice_json(n) for n in rows]})


@router.get("/office/notices", response_class=HTMLResponse, responses=PAGE)
def office_notices_page(viewer: Personal, store: Store, request: Request, state: State = None,
                        limit: Limit = 100) -> HTMLResponse:
    found, more, rows = _read(store, state, limit)
    seen(store, viewer, request, len(rows))
    return HTMLResponse(render("notices.html", title="通知 · Notices", viewer=viewer, counts=found, more=more,
                               notice_list=rows, state=state))
