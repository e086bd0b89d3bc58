"""How errors raised anywhere in a request are answered. FastAPI takes exception handlers on
the app only: central/app.py installs `HANDLERS`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..office_pages import message_html
from ..storage import Busy
from .deps import Forbidden, SignInNeeded, Unauthorised
from .quotas import OverQuota

log = logging.getLogger("central")


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    # FastAPI answers a body it cannot decode (not UTF-8) with 400; the contract says a
    # malformed body is a 422, like every other malformed body.
    if error.status_code == 400:
        return JSONResponse({"detail": str(error.detail)}, 422)
    return await http_exception_handler(request, error)


async def malformed(request: Request, error: RequestValidationError) -> Response:
    """A script or a download is told 422 with FastAPI's details (the contract); a person who
    typed or trimmed a page's address (a ticket number in lower case, a page size in words) is
    told on a page which value, with the way back (signed in: the route's sign-in came first)."""
    if getattr(request.scope.get("route"), "response_class", None) is not HTMLResponse:
        return await request_validation_exception_handler(request, error)
    names = ", ".join(dict.fromkeys(str(e["loc"][-1]) for e in error.errors() if e.get("loc")))
    return HTMLResponse(message_html("地址有误 · Not a valid address", f"地址中这一项的值不对 · This value in the "
                                     f"address is not valid: {names}", "/office"), 422)


def busy(request: Request, error: Busy) -> JSONResponse:
    log.warning("database busy: %s", error)
    return JSONResponse({"detail": "the database is busy; retry shortly", "error": "busy"}, 503,
                        headers={"Retry-After": "2"})


def over_quota(request: Request, error: OverQuota) -> JSONResponse:
    log.info("device %s over quota: %s", error.device_uid, error)
    return JSONResponse({"detail": str(error), "error": "quota"}, 429, headers={"Retry-After": str(error.retry_after)})


def unauthorised(request: Request, error: Unauthorised) -> JSONResponse:
    return JSONResponse({"detail": str(error), "error": error.error}, 401,
                        headers={"WWW-Authenticate": error.challenge})


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def sign_in_needed(request: Request, error: SignInNeeded) -> Response:
    """A script is told 401; a person is sent to sign in, and back to the page afterwards."""
    if _api(request):
        return JSONResponse({"detail": str(error), "error": "bad_token"}, 401,
                            headers={"WWW-Authenticate": 'Bearer realm="central office"'})
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/office/login?" + urlencode({"next": back if request.method == "GET" else "/office"}), 303)


def forbidden(request: Request, error: Forbidden) -> Response:
    if _api(request):
        return JSONResponse({"detail": str(error), "error": "forbidden"}, 403)
    return HTMLResponse(message_html("无权访问 · Not allowed", "您的角色不能查看此页或执行此操作 · "
                                     "Your role may not see this page or do this", "/office", error.viewer), 403)


HANDLERS: dict[type[Exception], Callable[..., Any]] = {
    StarletteHTTPException: http_error, RequestValidationError: malformed, Busy: busy, Unauthorised: unauthorised,
    OverQuota: over_quota, SignInNeeded: sign_in_needed, Forbidden: forbidden}
