"""The back office on its own port (`kiosk central serve --office-port`): the devices' process
sends a person who opens an office page there, and answers the office's API with where it is.

Why a process of its own: a report renders Python while a push waits for the same interpreter,
and the office process runs at a lower CPU priority (central/cli.py OFFICE_NICE), so the
devices' pushes come first on a busy machine (bench/office_load.py --office-port)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from .limits import OFFICE_PATHS


def send_office_to(app: FastAPI, port: int) -> None:
    def elsewhere(request: Request, rest: str = "") -> Response:
        target = request.url.replace(port=port)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": f"the back office is served on port {port}", "error": "office_elsewhere",
                                 "url": str(target)}, 404)
        return RedirectResponse(str(target), 307)

    for prefix in OFFICE_PATHS:
        for path in (prefix, prefix + "/{rest:path}"):
            app.add_api_route(path, elsewhere, methods=["GET", "POST"], include_in_schema=False)
