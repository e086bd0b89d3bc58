"""好差评 in the back office (issue 21): the window pads' ratings by counter, clerk, stage and week
(JSON and a page), the provincial export (CSV and JSON: no personal data, so every office role; the
reason a rater typed, which may name a customer, to clerks and directors only),
and appeals: listed for every role, decided by a director (the supervisor) as JSON or from the
page's form. central/ratings_export.py and central/appeals.py do the work."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import appeals
from ..appeals import MAX_REASON, DecideError, decide
from ..office_pages import message_html, ratings_html
from ..ratings_export import csv_chunks, department, export_name, json_chunks, window_report
from ..storage import Storage
from ..words import UUID_PATTERN
from ..work_orders import MAX_PAGE_SIZE, PAGE_LINK, PAGE_SIZE, STATES, Cursor, Orders
from .auditing import seen
from .deps import Director, Office, Store, Viewer
from .forms import CSRF_FIELD, CSRF_HEADER, TooLarge, cross_site, csrf_refused, fields
from .params import DAY, BadParameter, described, optional, period
from .responses import (
    BAD_QUERY,
    BUSY,
    CSV,
    HTML_ERROR,
    MALFORMED,
    PAGE,
    PROBLEM_JSON,
    UNAUTHORISED,
    Problem,
    Responses,
    invalid,
    json_response,
)
from .satisfaction import figures_period

router = APIRouter(tags=["office"])

Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD (2000-2999)"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`"))]
STATE = optional("|".join(STATES))
SIZE = optional("[1-9][0-9]?|[1-4][0-9]{2}|500")  # 1 to MAX_PAGE_SIZE
LINK = optional(PAGE_LINK)
State = Annotated[str | None, Query(**described(STATE, "the work orders still open, or those closed (blank: both)"))]
Size = Annotated[str | None, Query(**described(SIZE, f"work orders a page, 1 to {MAX_PAGE_SIZE} ({PAGE_SIZE})"))]
Link = Annotated[str | None, Query(**described(LINK, "another page of the work orders: the `next` or `previous` "
                                                     "a page gave"))]
APPEALS_LINK = optional(appeals.PAGE_LINK)
AppealsLink = Annotated[str | None, Query(alias="appeals", **described(
    APPEALS_LINK, "another page of the appeals: the `appeals_next` or `appeals_previous` a page gave"))]
APPEALS_STATE = optional("|".join(appeals.STATES))
AppealsState = Annotated[str | None, Query(alias="appeals_state", **described(
    APPEALS_STATE, "the appeals listed: waiting (blank: the default, oldest filed first), decided, upheld or "
                   "rejected (newest decided first), or all (newest filed first)"))]
NOT_DECIDED = "未能审核 · Not decided"
JSON_FILE: Responses = {200: {"description": "JSON (UTF-8): the department and one record per rating",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}


def _printable_text(limit: int):
    """As central/api/followups.py describes its note: the rule clean_text(required=True) applies."""
    def describe(json_schema: dict) -> None:
        from kiosk.domain.validation import required_text_pattern

        json_schema.update(maxLength=limit, format="printable-text", pattern=required_text_pattern())

    return describe


# The form's fields: the JSON body's and the session's CSRF token.
FORM_BODY = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["decision", "reason", CSRF_FIELD],
    "properties": {"decision": {"$ref": "#/components/schemas/DecideIn/properties/decision"},
                   "reason": {"$ref": "#/components/schemas/DecideIn/properties/reason"},
                   CSRF_FIELD: {"type": "string",
                                "description": "the session's CSRF token, as the page's form holds it"}}}}}}}


class DecideIn(BaseModel):
    """A supervisor's decision on an appeal: upheld (the rating is set aside, never deleted) or
    rejected, with the reason."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["upheld", "rejected"]
    reason: str = Field(description="why, in a few words", json_schema_extra=_printable_text(MAX_REASON))


def _orders(state: str | None, size: str | None, page: str | None) -> Orders:
    """Which page of the work orders, as asked: BadParameter says what is wrong."""
    for name, value, rule, says in (("state", state, STATE, "open or closed"),
                                    ("size", size, SIZE, f"a number of work orders, 1 to {MAX_PAGE_SIZE}"),
                                    ("page", page, LINK, "a page link this list gave")):
        if not re.fullmatch(rule, value or ""):
            raise BadParameter(f"{name}: {says}")
    row, after = Cursor.parse(page.strip()) if page and page.strip() else (None, True)
    return Orders(state=(state or "").strip() or None, size=int(size.strip()) if size and size.strip() else PAGE_SIZE,
                  after=row if after else None, before=None if after else row)


def _appealed(link: str | None, state: str | None) -> appeals.Asked:
    """Which page of the appeals, as asked: BadParameter says what is wrong."""
    if not re.fullmatch(APPEALS_STATE, state or ""):
        raise BadParameter(f"appeals_state: {', '.join(appeals.STATES)}")
    if not re.fullmatch(APPEALS_LINK, link or ""):
        raise BadParameter("appeals: a page link the appeals' list gave")
    state = (state or "").strip() or appeals.DEFAULT_STATE
    if not link or not link.strip():
        return appeals.Asked(state=state)
    row, after = appeals.Cursor.parse(link.strip())
    return appeals.Asked(after=row if after else None, before=None if after else row, state=state)


def _links(report: dict, orders: Orders, page: str | None = None, appealed: str | None = None) -> dict[str, str | None]:
    """The query strings of the work orders' pages before and after this one (`next`,
    `previous`), of the appeals' (`appeals_next`, `appeals_previous`), and of each state's first
    page of the appeals (`appeals_<state>`): the same period (as shown), state and size, the
    appeals' state, and the other list's page as it is (`page`, `appealed`: as asked)."""
    kept = {"from": report["from"], "to": report["to"], "state": orders.state,
            "size": str(orders.size) if orders.size != PAGE_SIZE else None}
    kept = {k: v for k, v in kept.items() if v}
    shown = {"appeals_state": report["appeals_state"]} if report["appeals_state"] != appeals.DEFAULT_STATE else {}
    orders_page = {"page": page.strip()} if page and page.strip() else {}
    appeals_page = {"appeals": appealed.strip()} if appealed and appealed.strip() else {}
    links = {way: urlencode({**kept, **shown, **appeals_page, "page": report[way]}) if report[way] else None
             for way in ("next", "previous")}
    for way in ("appeals_next", "appeals_previous"):
        links[way] = urlencode({**kept, **orders_page, **shown, "appeals": report[way]}) if report[way] else None
    for state in appeals.STATES:  # a state's first page (a page link is a place in one state's order)
        links[f"appeals_{state}"] = urlencode({**kept, **orders_page, **(
            {"appeals_state": state} if state != appeals.DEFAULT_STATE else {})})
    return links


def _shown(report: dict, viewer: Viewer, store: Store, request: Request) -> dict:
    """The report as this viewer may see it. A work order's notes (what a clerk wrote of a call-back
    with the customer: personal data, which retention erases) only to a role that may see personal
    data, the view in the audit log; to an auditor or the office token the orders without them."""
    orders = report["work_orders"]
    if viewer.user.may("personal"):
        if orders:
            seen(store, viewer, request, len(orders))
        return report
    return report | {"work_orders": [order | {"note": None, "calls": [call | {"note": None} for call in order["calls"]]}
                                     for order in orders]}


@router.get("/api/v1/office/ratings", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_ratings(viewer: Office, store: Store, request: Request, start: Start = None, end: End = None,
                   state: State = None, size: Size = None, page: Link = None,
                   appealed: AppealsLink = None, appeals_state: AppealsState = None) -> Response:
    """The window ratings' groups, a page of the appeals of `appeals_state` (waiting by default,
    oldest filed first; decided, upheld, rejected newest decided first; all newest filed first:
    `appeals_next`, `appeals_previous` its neighbouring pages, as `appeals`; `appeals_count` the
    state's up to 10,000, `appeals_more`: more; `appeals_counts` each state's `count` and `more`)
    and a page of the work orders (newest rating first), of the
    period asked for, else of the last 12 weeks (`from=2000-01-01`: all); `next` and `previous`:
    the work orders' neighbouring pages, as `page`. The orders' call-back and closing notes for
    clerks and directors only (null for an auditor or the office token). Each appeal with its
    rating as central counts it: the ticket's `number` (null: an anonymous rating), the `stage`
    rated (intake, completion; null: the lobby kiosk's), the `rating` (1-5) and its `level`; all
    null when central does not count the rating."""
    try:
        first, last = figures_period(start, end)
        orders = _orders(state, size, page)
        asked = _appealed(appealed, appeals_state)
    except BadParameter as e:
        return invalid(e)
    return json_response(_shown(window_report(store, first, last, orders, asked), viewer, store, request))


@router.get("/office/ratings", response_class=HTMLResponse, responses=PAGE)
def office_ratings_page(viewer: Office, store: Store, request: Request, start: Start = None, end: End = None,
                        state: State = None, size: Size = None, page: Link = None,
                        appealed: AppealsLink = None, appeals_state: AppealsState = None) -> HTMLResponse:
    try:  # the last 12 weeks unless asked (as the satisfaction page): a page read whatever the years stored
        first, last = figures_period(start, end)
        orders = _orders(state, size, page)
        asked = _appealed(appealed, appeals_state)
    except BadParameter as e:
        return HTMLResponse(message_html("窗口评价 · Window ratings", str(e), "/office/ratings", viewer), 422)
    report = _shown(window_report(store, first, last, orders, asked), viewer, store, request)
    shown = {key: report[key] for key in ("from", "to") if report[key]}  # the exports' links: the period shown
    values = {key: value for key, value in report.items() if key not in ("next", "previous")}
    return HTMLResponse(ratings_html(viewer, query=urlencode(shown), may_decide=viewer.user.may("audit"),
                                     start=report["from"], end=report["to"], state=orders.state, states=STATES,
                                     links=_links(report, orders, page, appealed), appeal_states=appeals.STATES,
                                     **values))


@router.get("/office/ratings/export.csv", response_class=StreamingResponse,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_ratings_csv(viewer: Office, store: Store, request: Request, start: Start = None,
                       end: End = None) -> Response:
    """Streamed: the header at once, then the ratings a chunk at a time (no personal data in it but
    the reasons a rater typed, which may name a customer: only to a role that may see personal
    data, and then in the audit log, `_audited`)."""
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return invalid(e)
    return StreamingResponse(_audited(csv_chunks, store, viewer, request, first, last),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{export_name("csv")}"'})


@router.get("/office/ratings/export.json", response_class=StreamingResponse,
            responses={**JSON_FILE, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_ratings_json(viewer: Office, store: Store, request: Request, start: Start = None,
                        end: End = None) -> Response:
    """Streamed as the CSV: one JSON object (the department, the array of ratings) sent in pieces."""
    try:
        first, last = period(start, end)
    except BadParameter as e:
        return invalid(e)
    return StreamingResponse(_audited(json_chunks, store, viewer, request, first, last),
                             media_type="application/json",
                             headers={"Content-Disposition": f'attachment; filename="{export_name("json")}"'})


def _audited(chunks: Callable[..., Iterator[bytes]], store: Storage, viewer: Viewer, request: Request,
             first: date | None, last: date | None) -> Iterator[bytes]:
    """The export's pieces; with the reasons raters typed (a role that may see personal data) it is
    in the audit log with the ratings it gave, also when the download stopped midway (as due.csv)."""
    free_text = viewer.user.may("personal")
    sent = 0

    def count(rows: int) -> None:
        nonlocal sent
        sent += rows

    try:
        yield from chunks(store, first, last, department(store), free_text=free_text, sent=count)
    finally:
        if free_text:
            seen(store, viewer, request, sent, export=True)


@router.post("/api/v1/office/appeals/{uid}/decide",
             responses={**MALFORMED, **UNAUTHORISED, **BUSY,
                        403: {"model": Problem, "description": "Not a director (`forbidden`), or a browser "
                                                               "session's post without its X-CSRF-Token (`csrf`)"},
                        404: {"model": Problem, "description": "No appeal has this uid"},
                        409: {"model": Problem, "description": "Already decided: when, by whom, how"}})
def office_decide(viewer: Director, store: Store,
                  uid: Annotated[str, Path(pattern=UUID_PATTERN, description="the appeal's uid")],
                  body: DecideIn,
                  csrf: Annotated[str | None, Header(alias=CSRF_HEADER, include_in_schema=False)] = None) -> Response:
    if viewer.by_cookie and csrf_refused(viewer, csrf):
        return json_response({"detail": "the session's CSRF token is required (X-CSRF-Token)", "error": "csrf"}, 403)
    try:
        return json_response(decide(store, uid, body.decision, body.reason, viewer.user.full_name,
                                    username=viewer.user.name))
    except DecideError as e:
        return json_response({"detail": str(e), "error": e.code, **({"field": e.field} if e.field else {})},
                             e.status)


@router.post("/office/ratings/appeals/{uid}/decide", openapi_extra=FORM_BODY, response_class=HTMLResponse,
             responses={**PAGE,
                        303: {"description": "Decided: back to the window ratings"},
                        403: {"description": "Posted from another site, without the form's CSRF token, or not "
                                             "by a director", **HTML_ERROR},
                        404: {"description": "No appeal has this uid", **HTML_ERROR},
                        409: {"description": "Already decided", **HTML_ERROR},
                        413: {"description": "A body too large", "content": PROBLEM_JSON},
                        422: {"description": "A missing decision or reason", **HTML_ERROR}})
async def office_decide_form(request: Request, viewer: Director, store: Store, uid: str) -> Response:
    if cross_site(request):
        return HTMLResponse(message_html(NOT_DECIDED, "请从后台页面提交 · Please use the back-office page",
                                         "/office/ratings"), 403)
    try:
        posted = await fields(request)
    except TooLarge as e:
        return json_response({"detail": str(e)}, 413)
    except BadParameter as e:
        return HTMLResponse(message_html(NOT_DECIDED, str(e), "/office/ratings"), 422)
    if csrf_refused(viewer, posted.pop(CSRF_FIELD, None)):
        return HTMLResponse(message_html(NOT_DECIDED, "页面已过期，请刷新后重试 · The page has expired: reload it and "
                                                      "try again", "/office/ratings"), 403)
    try:
        given = DecideIn.model_validate(posted)
    except ValidationError:
        return HTMLResponse(message_html(NOT_DECIDED, "请选择审核结果并填写理由 · Choose a decision and give the "
                                                      "reason", "/office/ratings"), 422)
    if not re.fullmatch(UUID_PATTERN, uid):
        return HTMLResponse(message_html(NOT_DECIDED, "没有这个申诉 · No such appeal", "/office/ratings"), 404)
    try:
        await run_in_threadpool(decide, store, uid, given.decision, given.reason, viewer.user.full_name,
                                username=viewer.user.name)
    except DecideError as e:
        words = {"no_appeal": "没有这个申诉 · No such appeal", "decided": f"已审核 · Already decided（{e}）"}
        return HTMLResponse(message_html(NOT_DECIDED, words.get(e.code, str(e)), "/office/ratings"), e.status)
    return RedirectResponse("/office/ratings", 303)
