"""回访 in the back office: the follow-ups to call back, and closing one, as JSON (tools) and as
a page with a form per follow-up (people; central/followups.py does the work). Clerks and
directors only (call-back phones); the closer is the signed-in user, by name."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.domain.feedback import MAX_NOTE
from kiosk.domain.validation import required_text_pattern

from ..followups import PAGE_LINK, CloseError, Cursor, close, followups
from ..office_pages import followups_html, message_html
from ..templating import shown_time
from ..words import UUID_PATTERN
from ..worklist import MAX_PAGE_SIZE, PAGE_SIZE
from . import params
from .auditing import seen
from .deps import Closer, Personal, Store
from .forms import CSRF_FIELD, CSRF_HEADER, MAX_FORM, TooLarge, cross_site, csrf_refused, fields
from .params import BadParameter
from .responses import (
    BAD_QUERY,
    BUSY,
    FORBIDDEN,
    HTML_ERROR,
    MALFORMED,
    PAGE,
    PROBLEM_JSON,
    UNAUTHORISED,
    Problem,
    invalid,
    json_response,
)

router = APIRouter(tags=["office"])

# The form's fields: the JSON body's and the session's CSRF token.
FORM_BODY = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["note", CSRF_FIELD],
    "properties": {"note": {"$ref": "#/components/schemas/CloseIn/properties/note"}, CSRF_FIELD: {
        "type": "string", "description": "the session's CSRF token, as the page's form holds it"}}}}}}}
NOT_CLOSED = "未能办结 · Not closed"
PRINTABLE_TEXT = "printable-text"  # kiosk/domain/validation.py clean_text(required=True)


def _printable_text(limit: int):
    def describe(json_schema: dict[str, Any]) -> None:
        # Built when the description is first asked for, not at import (~0.4 s). The format
        # names the rule the pattern spells out, for a tool that would rather not read 10 KB.
        json_schema.update(maxLength=limit, format=PRINTABLE_TEXT, pattern=required_text_pattern())

    return describe


class CloseIn(BaseModel):
    """Closing a follow-up from the back office, as the signed-in user (who made the call). The
    note is required and cleaned (widths folded, whitespace collapsed); it may not hold a
    control character or one a receipt printer cannot print (the pattern says which). Checked
    by close() and `_lengths`, so that a refusal names its field (`field`)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(description="what was said and done", json_schema_extra=_printable_text(MAX_NOTE))


def _shown(data: dict) -> int:
    return len(data["open"]) + len(data["closed"])


Size = Annotated[int, params.page_size_query("open follow-ups", PAGE_SIZE, MAX_PAGE_SIZE), params.DIGITS]
LINK = params.optional(PAGE_LINK)
Link = Annotated[str | None, Query(**params.described(
    LINK, "another page of the open follow-ups: the `next` or `previous` a page gave (blank: the first)"))]


def _page(page: str | None) -> tuple[Cursor | None, bool]:
    """The follow-up a page starts after (True) or ends before (False); BadParameter if `page` is
    not a link a page gave (an old page number among them: the list is a keyset now)."""
    if not re.fullmatch(LINK, page or ""):
        raise BadParameter("page: a page link this list gave (next or previous)")
    return Cursor.parse(page.strip()) if page and page.strip() else (None, True)


def _read(store: Store, page: str | None, size: int) -> dict:
    cursor, after = _page(page)
    data = followups(store, after=cursor if after else None, before=None if after else cursor, size=size)
    kept = {"size": str(size)} if size != PAGE_SIZE else {}
    return data | {"links": {way: urlencode({"page": data[way], **kept}) if data[way] else None
                             for way in ("next", "previous")}}


@router.get("/api/v1/office/followups", responses={**BAD_QUERY, **UNAUTHORISED, **FORBIDDEN, **BUSY})
def office_followups(viewer: Personal, store: Store, request: Request, page: Link = None,
                     size: Size = PAGE_SIZE) -> Response:
    try:
        data = _read(store, page, size)
    except BadParameter as e:
        return invalid(e)
    seen(store, viewer, request, _shown(data))
    return json_response({k: v for k, v in data.items() if k != "links"})


@router.get("/office/followups", response_class=HTMLResponse, responses=PAGE)
def office_followups_page(viewer: Personal, store: Store, request: Request, page: Link = None,
                          size: Size = PAGE_SIZE) -> HTMLResponse:
    try:
        data = _read(store, page, size)
    except BadParameter as e:
        return HTMLResponse(message_html("回访 · Follow-ups", str(e), "/office/followups", viewer), 422)
    seen(store, viewer, request, _shown(data))
    return HTMLResponse(followups_html(data, viewer))


@router.post("/api/v1/office/followups/{uid}/close",
             responses={**MALFORMED, **UNAUTHORISED, **BUSY,
                        403: {"model": Problem, "description": "A role that may not close (`forbidden`), or a "
                                                               "browser session's post without its X-CSRF-Token "
                                                               "(`csrf`)"},
                        404: {"model": Problem, "description": "No follow-up has this uid"},
                        409: {"model": Problem, "description": "Already closed: `closed` says when and by whom"}})
def office_close(viewer: Closer, store: Store,
                 uid: Annotated[str, Path(pattern=UUID_PATTERN, description="the follow-up's uid")],
                 body: CloseIn, csrf: Annotated[str | None, Header(alias=CSRF_HEADER, include_in_schema=False)] = None,
                 ) -> Response:
    if viewer.by_cookie and csrf_refused(viewer, csrf):  # a bearer token is never sent by a browser on its own
        return json_response({"detail": "the session's CSRF token is required (X-CSRF-Token)", "error": "csrf"}, 403)
    try:
        _lengths(body)
        return json_response(close(store, uid, viewer.user.full_name, body.note, username=viewer.user.name))
    except CloseError as e:
        return json_response(_problem(e), e.status)


@router.post("/office/followups/{uid}/close", openapi_extra=FORM_BODY, response_class=HTMLResponse,
             responses={**PAGE,
                        303: {"description": "Closed: back to the follow-ups"},
                        403: {"description": "Posted from another site, without the form's CSRF token, or by a "
                                             "role that may not close", **HTML_ERROR},
                        404: {"description": "No follow-up has this uid", **HTML_ERROR},
                        409: {"description": "Already closed (when and by whom)", **HTML_ERROR},
                        413: {"description": f"A body over {MAX_FORM // 1024} KB", "content": PROBLEM_JSON},
                        422: {"description": "A missing or bad note", **HTML_ERROR}})
async def office_close_form(request: Request, viewer: Closer, store: Store, uid: str) -> Response:
    if cross_site(request):
        return HTMLResponse(message_html(NOT_CLOSED, "请从后台页面提交 · Please use the back-office page"), 403)
    try:
        posted = await fields(request)
    except TooLarge as e:
        return json_response({"detail": str(e)}, 413)
    except BadParameter as e:
        return HTMLResponse(message_html(NOT_CLOSED, str(e)), 422)
    if csrf_refused(viewer, posted.pop(CSRF_FIELD, None)):
        return HTMLResponse(message_html(NOT_CLOSED, "页面已过期，请刷新后重试 · The page has expired: reload it "
                                                     "and try again"), 403)
    try:
        closing = CloseIn.model_validate(posted)
    except ValidationError as e:  # the JSON route's rules: a missing or unknown field, one too long
        return HTMLResponse(message_html(NOT_CLOSED, _message(_form_error(e))), 422)
    if not re.fullmatch(UUID_PATTERN, uid):
        return HTMLResponse(message_html(NOT_CLOSED, "没有这个回访 · No such follow-up"), 404)
    try:
        _lengths(closing)
        await run_in_threadpool(close, store, uid, viewer.user.full_name, closing.note, username=viewer.user.name)
    except CloseError as e:
        return HTMLResponse(message_html(NOT_CLOSED, _message(e)), e.status)
    return RedirectResponse("/office/followups", 303)


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
    if len(given.note) > MAX_NOTE:
        raise CloseError("invalid", f"note: at most {MAX_NOTE} characters", field="note", key="error.too_long")


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
