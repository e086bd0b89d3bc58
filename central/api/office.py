"""The back office's overview: tickets by status and the devices (central/office.py). An
auditor gets the counts and the devices, not the latest tickets (their customers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..alerts import alerts
from ..office import render_html, summary
from ..templating import CSS, STYLESHEET
from .auditing import seen
from .deps import Office, Store, Viewer
from .responses import BUSY, PAGE, UNAUTHORISED, json_response

router = APIRouter(tags=["office"])


@router.get("/api/v1/office/summary", responses={**UNAUTHORISED, **BUSY})
def office_summary(viewer: Office, store: Store, request: Request) -> Response:
    return json_response(_shown(viewer, store, request))


@router.get("/api/v1/office/alerts", responses={**UNAUTHORISED, **BUSY})
def office_alerts(viewer: Office, store: Store) -> Response:
    """Devices not synced for a day and devices holding parked events or changes, per site
    (central/alerts.py): device names, counts and reason words, no personal data."""
    return json_response(alerts(store))


@router.get("/office", response_class=HTMLResponse, responses=PAGE)
def office_page(viewer: Office, store: Store, request: Request) -> HTMLResponse:
    return HTMLResponse(render_html(_shown(viewer, store, request), viewer))


def _shown(viewer: Viewer, store: Store, request: Request) -> dict:
    """The summary as this viewer may see it; a view of customers' data is logged."""
    data = summary(store)
    recent = data["tickets"]["recent"]
    if viewer.user.may("personal"):
        seen(store, viewer, request, sum(len(listed) for listed in recent.values()))
    else:
        data["tickets"]["recent"] = {status: [] for status in recent}
    return data


@router.get(STYLESHEET, include_in_schema=False)
def office_stylesheet() -> Response:
    """The pages' CSS: no personal data, the same for everyone, so a browser may keep it a day."""
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=86400"})
