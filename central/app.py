"""The HTTP API (FastAPI; OpenAPI at /openapi.json). The contract is in central/README-API.md.

Endpoints are plain functions: FastAPI runs them in its thread pool, where the blocking
database calls belong. The push endpoint reads its own body (central/ingest.py checks it with
msgspec, in C); the changes endpoint writes its own (payloads relayed as stored text), rather
than have FastAPI walk them.
"""


import json
import logging
import os
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.domain.clock import DEFAULT_ZONE, set_zone
from kiosk.store.worklist import item_dict, to_csv

from . import devices, feed, followups, ingest, office, office_pages
from . import due as due_list
from . import satisfaction as satisfaction_figures
from . import worklist as open_work
from .auth import Device, device_for_token, office_token_matches
from .storage import Busy, Storage, open_storage

log = logging.getLogger("central")

MAX_BODY = 16 * 1024 * 1024  # bytes: 500 events with room to spare


# ---- the wire shapes ---------------------------------------------------------------------


class RejectedEvent(BaseModel):
    uid: str
    error: str


class Problem(BaseModel):
    """Every error: `detail` says why (FastAPI's own validation errors give a list there);
    `error` is a stable word where there is one; `rejected` names refused events."""

    detail: str | list[dict[str, Any]]
    error: str | None = None
    rejected: list[RejectedEvent] | None = None


class EnrollIn(BaseModel):
    code: str = Field(max_length=100)
    device_uid: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                            description="the device's UUID, canonical lower-case form")
    prefix: str = Field(pattern=r"^[A-Z0-9]{1,8}$", description="its ticket-number prefix")
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of the raw 32-byte Ed25519 key")


class EnrollOut(BaseModel):
    token: str
    device_uid: str
    role: str


class EventIn(BaseModel):
    # For the OpenAPI description; the body is checked by central/ingest.py. A bad uid, kind,
    # time or payload comes back *by uid* in `rejected` (so the device can park that one event).
    uid: str
    kind: str
    created_at: str
    payload: dict[str, Any]


class EventsIn(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=ingest.MAX_BATCH)


class Acked(BaseModel):
    acked: list[str]


class Change(BaseModel):
    seq: int
    kind: str
    data: dict[str, Any]


class Changes(BaseModel):
    changes: list[Change]
    next: int
    more: bool


class Health(BaseModel):
    ok: bool


class CloseIn(BaseModel):
    """Closing a follow-up from the back office. Both are cleaned (widths folded, whitespace
    collapsed, no control characters) and required: the name at most 200 characters, the
    note at most 500."""

    name: str = Field(max_length=2000, description="who made the call")
    note: str = Field(max_length=5000, description="what was said and done")


# Declared as security schemes, so the OpenAPI description says how to authenticate. The
# office takes its token as a bearer token (tools) or as an HTTP Basic password (a browser
# asks for it by itself; any user name).
DEVICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="device", description="A device token from /api/v1/enroll")
OFFICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="office", description="kiosk central office-token")
OFFICE_BASIC = HTTPBasic(auto_error=False, scheme_name="office_basic", realm="central office",
                         description="Any user name; the office token as the password")

UNAUTHORISED = {401: {"model": Problem, "description": "No token, an unknown one or a revoked device's"}}
BUSY = {503: {"model": Problem, "description": "The database is busy or unreachable: retry"}}
MALFORMED = {422: {"model": Problem, "description": "A malformed request"},
             413: {"model": Problem, "description": "A body over 16 MB"}}
BAD_QUERY = {422: {"model": Problem, "description": "A bad parameter"}}
# An HTML page's errors: its own refusals are pages; authentication, FastAPI's checks and a
# busy database answer JSON (declared explicitly: a model would be documented as text/html).
PROBLEM_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
HTML_TEXT = {"text/html": {"schema": {"type": "string"}}}
PAGE = {401: {"description": UNAUTHORISED[401]["description"], "content": PROBLEM_JSON},
        503: {"description": BUSY[503]["description"], "content": PROBLEM_JSON}}
PAGE_ERRORS = {422: {"description": "A bad parameter, said in the page", "content": {**HTML_TEXT, **PROBLEM_JSON}}}
HTML_ERROR = {"content": HTML_TEXT}
CSV = {200: {"description": "CSV (UTF-8)", "content": {"text/csv": {"schema": {"type": "string"}}}}}
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WITHIN = r"^[0-9]{1,5}[dwDW]?$"
MAX_FORM = 64 * 1024  # bytes: a name and a note
FORM_BODY = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["name", "note"],
    "properties": {"name": {"type": "string", "description": "who made the call (at most 200 characters)"},
                   "note": {"type": "string", "description": "what was said and done (at most 500)"}}}}}}}


# ---- the app -----------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class _BodyLimit:
    """ASGI middleware: a body over MAX_BODY bytes is a 413 before it fills memory, whether it
    says its length (Content-Length) or not (chunked)."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _send_413(send)
        seen, started = 0, False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_413(send)


async def _send_413(send) -> None:
    body = json.dumps({"detail": f"request body over {MAX_BODY} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), status,
                    media_type="application/json")


def _document_body(app: FastAPI, model: type[BaseModel]) -> None:
    """The push endpoint parses its own body (see push): add the model it documents, and the
    models that one refers to, to the OpenAPI components."""
    default = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = default()
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
        return app.openapi_schema

    app.openapi = openapi


def _is_json(content_type: str | None) -> bool:
    return content_type is None or content_type.split(";")[0].strip().lower() == "application/json"


class _BadParameter(ValueError):
    pass


def _day(text: str | None, name: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip()) if re.fullmatch(DAY, text.strip()) else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2999:
        raise _BadParameter(f"{name}: a date like 2026-11-24 (years 2000 to 2999)")
    return day


def _period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first, last = _day(start, "from"), _day(end, "to")
    if first and last and first > last:
        raise _BadParameter("from: after to")
    return first, last


def _within(text: str | None) -> tuple[int, str]:
    from kiosk.store.due import parse_within

    text = (text or "30d").strip()
    try:
        if not re.fullmatch(WITHIN, text):
            raise ValueError(text)
        return parse_within(text), text
    except ValueError:
        raise _BadParameter("within: a number of days like 30d (or weeks like 6w), 1 to 3660 days") from None


def _flag(text: str | None, name: str, default: bool) -> bool:
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise _BadParameter(f"{name}: 1 or 0")


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


def _form(content_type: str | None, body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body: the first value of each field."""
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise _BadParameter("the form must be sent as application/x-www-form-urlencoded")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise _BadParameter("the form is not readable (UTF-8, at most 20 fields)") from None
    return {key: values[0] for key, values in fields.items()}


def _csv(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _close_problem(error: followups.CloseError) -> dict:
    body = {"detail": str(error), "error": error.code}
    if error.field:
        body["field"] = error.field
    if error.closed:
        body["closed"] = error.closed
    return body


def create_app(storage: Storage) -> FastAPI:
    # The institute's zone for every date the office shows or a rule counts ($INSTITUTE_TIME_ZONE):
    # a server's own clock is usually UTC.
    set_zone(os.environ.get("INSTITUTE_TIME_ZONE") or DEFAULT_ZONE)
    app = FastAPI(title="Metrology kiosk central", version="1",
                  description="The central system kiosks and clerk desks sync with. See central/README-API.md.")
    _document_body(app, EventsIn)
    app.state.storage = storage

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # FastAPI answers a body it cannot decode (not UTF-8) with 400; the contract says a
        # malformed body is a 422, like every other malformed body.
        if error.status_code == 400:
            return JSONResponse({"detail": str(error.detail)}, 422)
        return await http_exception_handler(request, error)

    @app.exception_handler(Busy)
    def busy(request: Request, error: Busy) -> JSONResponse:
        log.warning("database busy: %s", error)
        return JSONResponse({"detail": "the database is busy; retry shortly"}, 503, headers={"Retry-After": "2"})

    def device(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(DEVICE_TOKEN)]) -> Device:
        found = device_for_token(storage, credentials.credentials if credentials else None)
        if found is None:
            raise _Unauthorised("a valid device token is required (Authorization: Bearer TOKEN)", "Bearer")
        return found

    def office_user(token: Annotated[HTTPAuthorizationCredentials | None, Security(OFFICE_TOKEN)],
                    basic: Annotated[HTTPBasicCredentials | None, Security(OFFICE_BASIC)]) -> None:
        secret = token.credentials if token else (basic.password if basic else None)
        if not office_token_matches(storage, secret):
            raise _Unauthorised("the office token is required (kiosk central office-token)",
                                'Basic realm="central office", charset="UTF-8"')

    @app.exception_handler(_Unauthorised)
    def unauthorised(request: Request, error: _Unauthorised) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 401, headers={"WWW-Authenticate": error.challenge})

    @app.get("/api/v1/health", response_model=Health, tags=["device"])
    def health() -> Health:
        return Health(ok=True)

    @app.post("/api/v1/enroll", response_model=EnrollOut, tags=["device"],
              responses={**MALFORMED, 403: {"model": Problem, "description": "A bad, used or expired code"},
                         409: {"model": Problem, "description": "The prefix is taken, or the key changed"}, **BUSY})
    def enroll(body: EnrollIn) -> Response:
        try:
            done = devices.enroll(storage, body.code, body.device_uid, body.prefix, body.public_key)
        except devices.EnrolError as e:
            return _json({"detail": str(e), "error": e.code}, e.status)
        log.info("device enrolled: %s", done.device_uid)
        return _json({"token": done.token, "device_uid": done.device_uid, "role": done.role})

    @app.post("/api/v1/events", response_model=Acked, tags=["device"],
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/EventsIn"}}}}},
              responses={**MALFORMED, 422: {"model": Problem, "description": "Refused events by uid in "
                                            "`rejected` (nothing was applied), or a malformed body"},
                         **UNAUTHORISED, **BUSY})
    async def push(request: Request, me: Annotated[Device, Depends(device)]) -> Response:
        # The body is read here rather than bound by FastAPI: ingest checks a batch once, from
        # the bytes (msgspec), and stores each payload as sent. EventsIn documents the shape.
        if not _is_json(request.headers.get("content-type")):
            return _json({"detail": [{"type": "content_type", "loc": ["body"],
                                      "msg": "Content-Type must be application/json"}]}, 422)
        return await run_in_threadpool(_push, me, await request.body())

    def _push(me: Device, body: bytes) -> Response:
        try:
            events = ingest.parse_batch(body)
        except ingest.Malformed as e:
            return _json({"detail": e.problems}, 422)
        checked, rejected = ingest.validate(me, events)
        if rejected:
            devices.touch(storage, me)
            log.info("push refused: %d of %d events from %s", len(rejected), len(events), me.uid)
            return _json({"rejected": [{"uid": r.uid, "error": r.error} for r in rejected],
                          "detail": f"{len(rejected)} of {len(events)} events refused; nothing was applied"}, 422)
        return _json({"acked": ingest.apply(storage, me, checked)})

    @app.get("/api/v1/changes", response_model=Changes, tags=["device"],
             responses={**MALFORMED, **UNAUTHORISED, **BUSY})
    def changes(me: Annotated[Device, Depends(device)],
                after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                limit: Annotated[int, Query(ge=1, le=feed.MAX_LIMIT)] = 500) -> Response:
        devices.touch(storage, me, pulled=True)
        page = feed.read(storage, after, limit, me.role, me.id)
        return Response(page.json().encode("utf-8"), media_type="application/json")

    @app.get("/api/v1/office/summary", tags=["office"], responses={**UNAUTHORISED, **BUSY})
    def office_summary(_: Annotated[None, Depends(office_user)]) -> Response:
        return _json(office.summary(storage))

    @app.get("/office", response_class=HTMLResponse, tags=["office"], responses=PAGE)
    def office_page(_: Annotated[None, Depends(office_user)]) -> HTMLResponse:
        return HTMLResponse(office.render_html(office.summary(storage)))

    # ---- follow-ups ---------------------------------------------------------------------

    @app.get("/api/v1/office/followups", tags=["office"], responses={**UNAUTHORISED, **BUSY})
    def office_followups(_: Annotated[None, Depends(office_user)]) -> Response:
        return _json(followups.followups(storage))

    @app.get("/office/followups", response_class=HTMLResponse, tags=["office"], responses=PAGE)
    def office_followups_page(_: Annotated[None, Depends(office_user)]) -> HTMLResponse:
        return HTMLResponse(office_pages.followups_html(followups.followups(storage)))

    @app.post("/api/v1/office/followups/{uid}/close", tags=["office"],
              responses={**MALFORMED, **UNAUTHORISED, **BUSY,
                         404: {"model": Problem, "description": "No follow-up has this uid"},
                         409: {"model": Problem, "description": "Already closed: `closed` says when and by whom"}})
    def office_close(_: Annotated[None, Depends(office_user)],
                     uid: Annotated[str, Path(pattern=UUID, description="the follow-up's uid")],
                     body: CloseIn) -> Response:
        try:
            return _json(followups.close(storage, uid, body.name, body.note))
        except followups.CloseError as e:
            return _json(_close_problem(e), e.status)

    @app.post("/office/followups/{uid}/close", tags=["office"], openapi_extra=FORM_BODY, response_class=HTMLResponse,
              responses={**PAGE,
                         303: {"description": "Closed: back to the follow-ups"},
                         403: {"description": "Posted from another site", **HTML_ERROR},
                         404: {"description": "No follow-up has this uid", **HTML_ERROR},
                         409: {"description": "Already closed (when and by whom)", **HTML_ERROR},
                         413: {"description": "A body over 64 KB", "content": PROBLEM_JSON},
                         422: {"description": "A missing or bad name or note", **HTML_ERROR}})
    async def office_close_form(request: Request, _: Annotated[None, Depends(office_user)], uid: str) -> Response:
        title = "未能办结 · Not closed"
        if _cross_site(request):
            return HTMLResponse(office_pages.message_html(title, "请从后台页面提交 · Please use the back-office page"),
                                403)
        body = await request.body()
        if len(body) > MAX_FORM:
            return _json({"detail": f"request body over {MAX_FORM} bytes"}, 413)
        try:
            fields = _form(request.headers.get("content-type"), body)
        except _BadParameter as e:
            return HTMLResponse(office_pages.message_html(title, str(e)), 422)
        if not re.fullmatch(UUID, uid):
            return HTMLResponse(office_pages.message_html(title, "没有这个回访 · No such follow-up"), 404)
        try:
            await run_in_threadpool(followups.close, storage, uid, fields.get("name"), fields.get("note"))
        except followups.CloseError as e:
            return HTMLResponse(office_pages.message_html(title, _close_message(e)), e.status)
        return RedirectResponse("/office/followups", 303)

    # ---- satisfaction ---------------------------------------------------------------------

    @app.get("/api/v1/office/satisfaction", tags=["office"], responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_satisfaction(_: Annotated[None, Depends(office_user)],
                            start: Annotated[str | None, Query(alias="from", pattern=DAY)] = None,
                            end: Annotated[str | None, Query(alias="to", pattern=DAY)] = None) -> Response:
        try:
            first, last = _period(start, end)
        except _BadParameter as e:
            return _json({"detail": str(e), "error": "invalid"}, 422)
        return _json(satisfaction_figures.report(storage, first, last).figures())

    @app.get("/office/satisfaction", response_class=HTMLResponse, tags=["office"],
             responses={**PAGE_ERRORS, **PAGE})
    def office_satisfaction_page(_: Annotated[None, Depends(office_user)],
                                 start: Annotated[str | None, Query(alias="from")] = None,
                                 end: Annotated[str | None, Query(alias="to")] = None) -> HTMLResponse:
        try:
            first, last = _period(start, end)
        except _BadParameter as e:
            return HTMLResponse(office_pages.message_html("满意度统计 · Satisfaction", str(e), "/office/satisfaction"),
                                422)
        return HTMLResponse(office_pages.satisfaction_html(satisfaction_figures.report(storage, first, last).figures()))

    @app.get("/office/satisfaction.csv", response_class=Response, tags=["office"],
             responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_satisfaction_csv(_: Annotated[None, Depends(office_user)],
                                start: Annotated[str | None, Query(alias="from", pattern=DAY)] = None,
                                end: Annotated[str | None, Query(alias="to", pattern=DAY)] = None) -> Response:
        from kiosk.domain.satisfaction import csv_text

        try:
            first, last = _period(start, end)
        except _BadParameter as e:
            return _json({"detail": str(e), "error": "invalid"}, 422)
        return _csv(csv_text(satisfaction_figures.ratings(storage, first, last)), "satisfaction.csv")

    # ---- the due list ---------------------------------------------------------------------

    @app.get("/api/v1/office/due", tags=["office"], responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_due(_: Annotated[None, Depends(office_user)],
                   within: Annotated[str, Query(pattern=WITHIN, description="30d, 30 or 6w")] = "30d",
                   overdue: bool = True) -> Response:
        try:
            days, _text = _within(within)
        except _BadParameter as e:
            return _json({"detail": str(e), "error": "invalid"}, 422)
        report = due_list.due_report(storage, days, overdue=overdue)
        return _json({"today": report.today.isoformat(), "within_days": days, "overdue_included": overdue,
                      "catalog_version": report.catalog_version,
                      "items": [_due_item(i, report.today) for i in report.items]})

    @app.get("/office/due", response_class=HTMLResponse, tags=["office"],
             responses={**PAGE_ERRORS, **PAGE})
    def office_due_page(_: Annotated[None, Depends(office_user)], within: str | None = None,
                        overdue: str | None = None) -> HTMLResponse:
        try:
            days, text = _within(within)
            include = _flag(overdue, "overdue", True)
        except _BadParameter as e:
            return HTMLResponse(office_pages.message_html("周检到期 · Verification due", str(e), "/office/due"), 422)
        return HTMLResponse(office_pages.due_html(due_list.due_report(storage, days, overdue=include), text))

    @app.get("/office/due.csv", response_class=Response, tags=["office"],
             responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_due_csv(_: Annotated[None, Depends(office_user)],
                       within: Annotated[str, Query(pattern=WITHIN, description="30d, 30 or 6w")] = "30d",
                       overdue: bool = True, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
        from kiosk.store.due import to_csv

        try:
            days, _text = _within(within)
        except _BadParameter as e:
            return _json({"detail": str(e), "error": "invalid"}, 422)
        return _csv(to_csv(due_list.due_report(storage, days, overdue=overdue).items, lang), "due.csv")

    # ---- the work list (在办清单) ------------------------------------------------------------

    pickup_days = Annotated[int, Query(ge=1, le=365, description="days to collect before a pickup is overdue")]

    @app.get("/api/v1/office/worklist", tags=["office"], responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_worklist(_: Annotated[None, Depends(office_user)], days: pickup_days = 30) -> Response:
        found = open_work.work_list(storage, pickup_days=days)
        return _json({"pickup_days": days, "in_lab": found.in_lab, "in_lab_late": found.in_lab_late,
                      "waiting": found.waiting, "waiting_overdue": found.waiting_overdue,
                      "items": [item_dict(i, office.mask_phone) for i in found.items]})

    @app.get("/office/worklist", response_class=HTMLResponse, tags=["office"], responses={**PAGE_ERRORS, **PAGE})
    def office_worklist_page(_: Annotated[None, Depends(office_user)], days: pickup_days = 30) -> HTMLResponse:
        return HTMLResponse(office_pages.worklist_html(open_work.work_list(storage, pickup_days=days)))

    @app.get("/office/worklist.csv", response_class=Response, tags=["office"],
             responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
    def office_worklist_csv(_: Annotated[None, Depends(office_user)], days: pickup_days = 30) -> Response:
        return _csv(to_csv(open_work.work_list(storage, pickup_days=days).items), "worklist.csv")

    app.add_middleware(_BodyLimit)
    return app


def _close_message(error: followups.CloseError) -> str:
    if error.code == "no_followup":
        return "没有这个回访 · No such follow-up"
    if error.code == "closed":
        c = error.closed or {}
        return (f"此回访已于 {office._when(c.get('at'))} 由 {c.get('name') or c.get('device') or '—'} 办结 · "
                f"Already closed at {office._when(c.get('at'))} by {c.get('name') or c.get('device') or '—'}")
    zh = {"name": "请填写回访人姓名", "note": "请填写回访情况"}.get(error.field or "", "")
    return f"{zh}（{error}）· {error}" if zh else str(error)


def _due_item(item, today: date) -> dict:
    return {"due_on": item.due_on.isoformat(), "overdue": item.due_on < today, "number": item.number,
            "organisation": item.organisation, "contact": item.contact, "phone": office.mask_phone(item.phone),
            "name_zh": item.name_zh, "name_en": item.name_en, "code": item.code,
            "serial_number": item.serial_number, "quantity": item.quantity,
            "picked_up_on": item.picked_up_on.isoformat(), "cycle_months": item.cycle_months}


class _Unauthorised(Exception):
    def __init__(self, message: str, challenge: str):
        super().__init__(message)
        self.challenge = challenge


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory` and for `kiosk central serve --workers N`: each worker process
    opens its own pool on $DATABASE_URL (the schema was made by `serve` before it started them)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    pool = int(os.environ.get("CENTRAL_POOL_SIZE", "8"))
    return settle(create_app(open_storage(url, pool_size=pool)))


def settle(app: FastAPI) -> FastAPI:
    """Once the app is built: the objects alive now live as long as the process, so the
    garbage collector need not walk them again on every collection a push triggers."""
    import gc

    gc.collect()
    gc.freeze()
    return app
