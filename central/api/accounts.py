"""Signing in and out of the back office, and the audit log (directors).

A browser signs in at /office/login and gets the session cookie: HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it), Secure over https or when
$CENTRAL_SECURE_COOKIES says so. The sign-in form carries a token of its own, matched
against a short-lived cookie (there is no session yet to bind it to). A script signs in with
POST /api/v1/office/session and sends the token it gets as a bearer token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import audit, settings
from ..account_pages import audit_html, login_html
from ..accounts import MAX_PASSWORD, OfficeUser, SignInRefused, has_users, sign_in
from ..office_pages import message_html
from ..office_sessions import ABSOLUTE, IDLE, end_session, find_session, open_session
from .auditing import address
from .deps import SESSION_COOKIE, Director, Office, Store, Viewer
from .forms import CSRF_FIELD, TooLarge, cross_site, csrf_refused, fields
from .params import BadParameter
from .responses import BUSY, FORBIDDEN, MALFORMED, PAGE, UNAUTHORISED, Problem, json_response

router = APIRouter(tags=["office"])

SIGN_IN_COOKIE = "office_sign_in"  # the sign-in form's own token, for the minutes a form is filled in
SIGN_IN_FORM_LIFE = 3600  # seconds
WRONG = "用户名或密码不正确 · Wrong user name or password"
LOCKED = "失败次数过多，请15分钟后再试 · Too many failed attempts: try again in 15 minutes"
EXPIRED = "登录页已过期，请重试 · The sign-in page had expired: please try again"
ELSEWHERE = "请从后台登录页提交 · Please use the back office's sign-in page"


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)
    password: str = Field(max_length=MAX_PASSWORD)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or settings.secure_cookies()


def _next_page(given: str | None) -> str:
    """Only a back-office page of this server (never another site's address)."""
    if not given:
        return "/office"
    parts = urlsplit(given)
    if parts.scheme or parts.netloc or not given.startswith("/office") or given.startswith("//"):
        return "/office"
    return given


def _login_page(request: Request, store: Store, next_page: str, message: str | None = None,
                status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    page = HTMLResponse(login_html(token, next_page, not has_users(store), message), status)
    page.set_cookie(SIGN_IN_COOKIE, token, max_age=SIGN_IN_FORM_LIFE, path="/office/login", httponly=True,
                    samesite="strict", secure=_secure(request))
    return page


@router.get("/office/login", response_class=HTMLResponse,
            responses={303: {"description": "Signed in already: to `next`"}, 422: PAGE[422], **BUSY})
def login_page(request: Request, store: Store, next: Annotated[str | None, Query(max_length=2000)] = None,
               ) -> Response:
    if find_session(store, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(_next_page(next), 303)
    return _login_page(request, store, _next_page(next))


@router.post("/office/login", response_class=HTMLResponse, include_in_schema=False)
async def login(request: Request, store: Store) -> Response:
    if cross_site(request):
        return HTMLResponse(message_html("登录 · Sign in", ELSEWHERE, "/office/login"), 403)
    try:
        posted = await fields(request)
    except TooLarge as e:
        return json_response({"detail": str(e)}, 413)
    except BadParameter as e:
        return await run_in_threadpool(_login_page, request, store, "/office", str(e), 422)
    next_page = _next_page(posted.get("next"))
    expected = request.cookies.get(SIGN_IN_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected, posted.get(CSRF_FIELD) or ""):
        return await run_in_threadpool(_login_page, request, store, next_page, EXPIRED, 403)
    try:
        user = await run_in_threadpool(sign_in, store, (posted.get("name") or "").strip(),
                                       posted.get("password") or "", address(request))
    except SignInRefused as e:
        return await run_in_threadpool(_login_page, request, store, next_page, LOCKED if e.locked else WRONG,
                                       429 if e.locked else 401)
    session = await run_in_threadpool(open_session, store, user)
    done = RedirectResponse(next_page, 303)
    done.set_cookie(SESSION_COOKIE, session.token, path="/", httponly=True, samesite="strict",
                    secure=_secure(request))
    done.delete_cookie(SIGN_IN_COOKIE, path="/office/login")
    return done


@router.post("/office/logout", include_in_schema=False)
async def logout(request: Request, viewer: Office, store: Store) -> Response:
    if cross_site(request):
        return HTMLResponse(message_html("退出 · Sign out", ELSEWHERE, "/office", viewer), 403)
    try:
        posted = await fields(request)
    except BadParameter as e:
        return HTMLResponse(message_html("退出 · Sign out", str(e), "/office", viewer), 422)
    if csrf_refused(viewer, posted.get(CSRF_FIELD)):
        return HTMLResponse(message_html("退出 · Sign out", EXPIRED, "/office", viewer), 403)
    await run_in_threadpool(_sign_out, store, viewer, request)
    gone = RedirectResponse("/office/login", 303)
    gone.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return gone


def _sign_out(store: Store, viewer: Viewer, request: Request) -> None:
    if viewer.session is not None:
        end_session(store, viewer.session.token)
        audit.record(store, viewer.user, "sign_out", request.url.path, address=address(request))


# ---- scripts ------------------------------------------------------------------------------


def _session_answer(token: str, user: OfficeUser) -> dict:
    return {"token": token, "name": user.name, "full_name": user.full_name, "role": user.role,
            "idle_minutes": int(IDLE.total_seconds() // 60), "hours": int(ABSOLUTE.total_seconds() // 3600)}


@router.post("/api/v1/office/session",
             responses={401: {"model": Problem, "description": "A wrong name or password (`bad_credentials`)"},
                        429: {"model": Problem, "description": "Too many failures of this name or from this "
                                                               "address (`locked`): wait 15 minutes"},
                        **MALFORMED, **BUSY})
def api_sign_in(body: SignIn, store: Store, request: Request) -> Response:
    """A session for a script: send `token` as `Authorization: Bearer TOKEN`. It ends like a
    browser's (idle, absolute) or with DELETE."""
    try:
        user = sign_in(store, body.name.strip(), body.password, address(request))
    except SignInRefused as e:
        if e.locked:
            return json_response({"detail": "too many failed attempts: try again in 15 minutes", "error": "locked"},
                                 429)
        return json_response({"detail": "wrong name or password", "error": "bad_credentials"}, 401)
    return json_response(_session_answer(open_session(store, user).token, user))


@router.delete("/api/v1/office/session", status_code=204, responses={**UNAUTHORISED, **BUSY})
def api_sign_out(viewer: Office, store: Store, request: Request) -> Response:
    _sign_out(store, viewer, request)
    return Response(status_code=204)


# ---- the audit log ------------------------------------------------------------------------


@router.get("/office/audit", response_class=HTMLResponse, responses=PAGE)
def audit_page(viewer: Director, store: Store,
               before: Annotated[int | None, Query(ge=1, le=2**63 - 1,
                                                   description="an entry's id: the entries before it")] = None,
               ) -> HTMLResponse:
    entries = audit.entries(store, before)
    older = entries[-1].id if len(entries) == audit.PAGE_ROWS else None
    return HTMLResponse(audit_html(entries, viewer, before, older))


@router.get("/office/audit.csv", response_class=StreamingResponse,
            responses={200: {"description": "CSV (UTF-8), oldest first",
                             "content": {"text/csv": {"schema": {"type": "string"}}}},
                       **UNAUTHORISED, **FORBIDDEN, **BUSY})
def audit_csv(viewer: Director, store: Store, request: Request) -> StreamingResponse:
    entry = audit.record(store, viewer.user, "export", request.url.path, request.url.query,
                         address=address(request))  # in the log it exports; its rows written once sent
    return StreamingResponse(audit.csv_chunks(store, entry), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
