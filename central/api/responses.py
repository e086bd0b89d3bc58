"""What the routes answer with: compact JSON, CSV downloads, and the error shapes the OpenAPI
description documents for them."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from .limits import MAX_BODY


class RejectedEvent(BaseModel):
    uid: str
    error: str


class Problem(BaseModel):
    """Every error: `detail` says why (FastAPI's own validation errors give a list there);
    `error` is a stable word where there is one; `rejected` names refused events."""

    detail: str | list[dict[str, Any]]
    error: str | None = None
    rejected: list[RejectedEvent] | None = None


# What a route documents beside its 200, by status code (FastAPI's `responses`).
Responses = dict[int | str, dict[str, Any]]

UNAUTHORISED: Responses = {401: {"model": Problem, "description": "No token, an unknown one or a revoked "
                                                                  "device's (`bad_token`), or an expired one "
                                                                  "(`token_expired`: enrol again)"}}
FORBIDDEN: Responses = {403: {"model": Problem, "description": "The signed-in user's role may not see this "
                                                          "(`forbidden`): customers' names and phones are for "
                                                          "clerks and directors, the audit log for directors"}}
BUSY: Responses = {503: {"model": Problem, "description": "The database is busy or unreachable (`busy`): retry "
                                                     "after Retry-After seconds"}}
MALFORMED: Responses = {422: {"model": Problem, "description": "A malformed request"},
             413: {"model": Problem, "description": f"A body over {MAX_BODY // (1024 * 1024)} MB (`too_large`)"}}
QUOTA: Responses = {429: {"model": Problem, "description": "Over this device's quota (`quota`): retry after "
                                                           "Retry-After seconds"}}
BAD_QUERY: Responses = {422: {"model": Problem, "description": "A bad parameter"}}
# An HTML page's errors: its own refusals and FastAPI's checks of its parameters are pages; a
# busy database answers JSON (declared explicitly: a model would be documented as text/html).
PROBLEM_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
HTML_TEXT = {"text/html": {"schema": {"type": "string"}}}
HTML_ERROR = {"content": HTML_TEXT}
PAGE: Responses = {303: {"description": "Not signed in: to /office/login, and back after"},
                   403: {"description": "The signed-in user's role may not see this page", **HTML_ERROR},
                   422: {"description": "A bad parameter, said in the page (central/api/errors.py)", **HTML_ERROR},
                   503: {"description": BUSY[503]["description"], "content": PROBLEM_JSON}}
CSV: Responses = {200: {"description": "CSV (UTF-8)", "content": {"text/csv": {"schema": {"type": "string"}}}}}


def json_response(data: Any, status: int = 200) -> Response:
    """UTF-8 JSON without spaces: Chinese text as itself, not as \\u escapes."""
    return Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), status,
                    media_type="application/json")


def csv_response(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def invalid(error: ValueError) -> Response:
    """A bad parameter of a JSON or CSV route."""
    return json_response({"detail": str(error), "error": "invalid"}, 422)
