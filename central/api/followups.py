"""回访 in the back office: the follow-ups to call back, and closing one, as JSON (tools) and as
a page with a form per follow-up (people; central/followups.py does the work)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.domain.feedback import MAX_NOTE
from kiosk.domain.validation import required_text_pattern

from ..followups import MAX_NAME, CloseError, close, followups
from ..office_pages import followups_html, message_html
from ..templating import shown_time
from ..words import UUID_PATTERN
from .deps import Office, Store
from .params import BadParameter, form
from .responses import BUSY, HTML_ERROR, MALFORMED, PAGE, PROBLEM_JSON, UNAUTHORISED, Problem, json_response

router = APIRouter(tags=["office"])

MAX_FORM = 64 * 1024  # bytes: a name and a note
# The form's fields are the JSON body's.
FORM_BODY = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "$ref": "#/components/schemas/CloseIn"}}}}}
NOT_CLOSED = "未能办结 · Not closed"
PRINTABLE_TEXT = "printable-text"  # kiosk/domain/validation.py clean_text(required=True)


def _printable_text(limit: int):
    def describe(json_schema: dict[str, Any]) -> None:
        # Built when the description is first asked for, not at import (~0.4 s). The format
        # names the rule the pattern spells out, for a tool that would rather not read 10 KB.
        json_schema.update(maxLength=limit, format=PRINTABLE_TEXT, pattern=required_text_pattern())

    return describe


class CloseIn(BaseModel):
    """Closing a follow-up from the back office. Both are required and cleaned (widths folded,
    whitespace collapsed); neither may hold a control character or one a receipt printer
    cannot print (the pattern says which). Checked by close() and `_lengths`, so that a
    refusal names its field (`field`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="who made the call", json_schema_extra=_printable_text(MAX_NAME))
    note: str = Field(description="what was said and done", json_schema_extra=_printable_text(MAX_NOTE))


@router.get("/api/v1/office/followups", responses={**UNAUTHORISED, **BUSY})
def office_followups(_: Office, store: Store) -> Response:
    return json_response(followups(store))


@router.get("/office/followups", response_class=HTMLResponse, responses=PAGE)
def office_followups_page(_: Office, store: Store) -> HTMLResponse:
    return HTMLResponse(followups_html(followups(store)))


@router.post("/api/v1/office/followups/{uid}/close",
             responses={**MALFORMED, **UNAUTHORISED, **BUSY,
                        404: {"model": Problem, "description": "No follow-up has this uid"},
                        409: {"model": Problem, "description": "Already closed: `closed` says when and by whom"}})
def office_close(_: Office, store: Store,
                 uid: Annotated[str, Path(pattern=UUID_PATTERN, description="the follow-up's uid")],
                 body: CloseIn) -> Response:
    try:
        _lengths(body)
        return json_response(close(store, uid, body.name, body.note))
    except CloseError as e:
        return json_response(_problem(e), e.status)


@router.post("/office/followups/{uid}/close", openapi_extra=FORM_BODY, response_class=HTMLResponse,
             responses={**PAGE,
                        303: {"description": "Closed: back to the follow-ups"},
                        403: {"description": "Posted from another site", **HTML_ERROR},
                        404: {"description": "No follow-up has this uid", **HTML_ERROR},
                        409: {"description": "Already closed (when and by whom)", **HTML_ERROR},
                        413: {"description": "A body over 64 KB", "content": PROBLEM_JSON},
                        422: {"description": "A missing or bad name or note", **HTML_ERROR}})
async def office_close_form(request: Request, _: Office, store: Store, uid: str) -> Response:
    if _cross_site(request):
        return HTMLResponse(message_html(NOT_CLOSED, "请从后台页面提交 · Please use the back-office page"), 403)
    body = await request.body()
    if len(body) > MAX_FORM:
        return json_response({"detail": f"request body over {MAX_FORM} bytes"}, 413)
    try:
        fields = CloseIn.model_validate(form(request.headers.get("content-type"), body))
    except BadParameter as e:
        return HTMLResponse(message_html(NOT_CLOSED, str(e)), 422)
    except ValidationError as e:  # the JSON route's rules: a missing or unknown field, one too long
        return HTMLResponse(message_html(NOT_CLOSED, _message(_form_error(e))), 422)
    if not re.fullmatch(UUID_PATTERN, uid):
        return HTMLResponse(message_html(NOT_CLOSED, "没有这个回访 · No such follow-up"), 404)
    try:
        _lengths(fields)
        await run_in_threadpool(close, store, uid, fields.name, fields.note)
    except CloseError as e:
        return HTMLResponse(message_html(NOT_CLOSED, _message(e)), e.status)
    return RedirectResponse("/office/followups", 303)


def _cross_site(request: Request) -> bool:
    """A form posted from another site (CSRF: the browser would send the office's Basic
    credentials with it). Sec-Fetch-Site where the browser sends it, else Origin against Host."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()


def _problem(error: CloseError) -> dict:
    body: dict[str, Any] = {"detail": str(error), "error": error.code}
    if error.field:
        body["field"] = error.field
    if error.closed:
        body["closed"] = error.closed
    return body


def _lengths(given: CloseIn) -> None:
    """The lengths as typed, as the description says them (close() counts them cleaned: a run
    of spaces is one)."""
    for field, limit in (("name", MAX_NAME), ("note", MAX_NOTE)):
        if len(getattr(given, field)) > limit:
            raise CloseError("invalid", f"{field}: at most {limit} characters", field=field, key="error.too_long")


def _form_error(error: ValidationError) -> CloseError:
    """The first thing wrong with the form's fields, as close() says it."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "form"
    why = {"missing": "required", "extra_forbidden": "不是此表单的字段 · not a field of this form"}
    return CloseError("invalid", f"{field}: {why.get(first['type'], first['msg'])}", field=field)


def _message(error: CloseError) -> str:
    """Why it was not closed, for the page, Chinese first."""
    if error.code == "no_followup":
        return "没有这个回访 · No such follow-up"
    if error.code == "closed":
        c = error.closed or {}
        return (f"此回访已于 {shown_time(c.get('at'))} 由 {c.get('name') or c.get('device') or '—'} 办结 · "
                f"Already closed at {shown_time(c.get('at'))} by {c.get('name') or c.get('device') or '—'}")
    zh = {"name": "请填写回访人姓名", "note": "请填写回访情况"}.get(error.field or "", "")
    return f"{zh}（{error}）· {error}" if zh else str(error)
