"""Where the public site is served (central/app.py):

- `only(app)`: its own port (`kiosk central serve --public-port P`, `--serves public`): the
  site's pages and nothing else (no /office, no /api/..., no /openapi.json), every path behind
  PublicGuard; `/` goes to the site's home page, any other path is the site's 404 page.
- `beside(app, public_port)`: on the main port, under /public/ (a one-machine institute), or,
  when the site has a port of its own, a 307 there (as the office's elsewhere does).

Why a port of its own: the public site faces the internet, the devices' API and the back office
do not. A separate listening socket lets the firewall or the reverse proxy forward only it;
a separate process keeps a flood of public requests off the devices' pushes (the public
process runs at the office's lower CPU priority) and its rate limits in one process.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import router
from .guard import PublicGuard
from .pages import PREFIX, message


def only(app: FastAPI) -> FastAPI:
    app.openapi_url = None  # the API's description is not the public's business
    app.router.routes.clear()  # FastAPI's own /openapi.json, /docs, /redoc: none here
    app.include_router(router)
    app.add_api_route("/", home_redirect, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/{rest:path}", not_found, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
                      include_in_schema=False)
    app.add_middleware(PublicGuard, every_path=True)
    return app


def beside(app: FastAPI, public_port: int | None) -> None:
    if public_port:
        def elsewhere(request: Request, rest: str = "") -> Response:
            return RedirectResponse(str(request.url.replace(port=public_port)), 307)

        for path in (PREFIX, PREFIX + "/{rest:path}"):
            app.add_api_route(path, elsewhere, methods=["GET", "POST"], include_in_schema=False)
        return
    app.include_router(router)
    # Any other path of the site is the site's 404 page, not the API's JSON.
    app.add_api_route(PREFIX + "/{rest:path}", not_found, methods=["GET", "HEAD", "POST"], include_in_schema=False)
    app.add_middleware(PublicGuard)


def home_redirect() -> Response:
    return RedirectResponse(PREFIX + "/", 303)


def not_found(request: Request, rest: str = "") -> HTMLResponse:
    return message(request, "not_found", 404)
