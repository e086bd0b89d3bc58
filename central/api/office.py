"""The back office's overview: tickets by status and the devices (central/office.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ..office import render_html, summary
from ..templating import CSS, STYLESHEET
from .deps import Office, Store
from .responses import BUSY, PAGE, UNAUTHORISED, json_response

router = APIRouter(tags=["office"])


@router.get("/api/v1/office/summary", responses={**UNAUTHORISED, **BUSY})
def office_summary(_: Office, store: Store) -> Response:
    return json_response(summary(store))


@router.get("/office", response_class=HTMLResponse, responses=PAGE)
def office_page(_: Office, store: Store) -> HTMLResponse:
    return HTMLResponse(render_html(summary(store)))


@router.get(STYLESHEET, include_in_schema=False)
def office_stylesheet() -> Response:
    """The pages' CSS: no personal data, the same for everyone, so a browser may keep it a day."""
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=86400"})
