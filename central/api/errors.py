"""How errors raised anywhere in a request are answered. FastAPI takes exception handlers on
the app only: central/app.py installs `HANDLERS`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..storage import Busy
from .deps import Unauthorised
from .quotas import OverQuota

log = logging.getLogger("central")


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    # FastAPI answers a body it cannot decode (not UTF-8) with 400; the contract says a
    # malformed body is a 422, like every other malformed body.
    if error.status_code == 400:
        return JSONResponse({"detail": str(error.detail)}, 422)
    return await http_exception_handler(request, error)


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


HANDLERS: dict[type[Exception], Callable[..., Any]] = {
    StarletteHTTPException: http_error, Busy: busy, Unauthorised: unauthorised, OverQuota: over_quota}
