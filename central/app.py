"""The HTTP API (FastAPI; OpenAPI at /openapi.json). The contract is in central/README-API.md;
the routes, one module per resource, are in central/api/.

Endpoints are plain functions: FastAPI runs them in its thread pool, where the blocking
database calls belong. The push endpoint reads its own body (central/ingest.py checks it with
msgspec, in C); the changes endpoint writes its own (payloads relayed as stored text), rather
than have FastAPI walk them.
"""

from __future__ import annotations

from fastapi import FastAPI

from kiosk.domain.clock import set_zone

from . import settings
from .api import (
    accounts,
    certificate_checks,
    changes,
    devices,
    due,
    elsewhere,
    errors,
    events,
    figures,
    followups,
    notices,
    office,
    ratings,
    satisfaction,
    search,
    tickets,
    worklist,
)
from .api.backfilling import Backfilling
from .api.headers import SecurityHeaders
from .api.limits import BodyLimit, Lanes
from .api.quotas import Meter, Quotas
from .public import mount as public_site
from .schema import open_storage
from .storage import Storage

# In this order in the OpenAPI description: the device's routes, then the office's.
DEVICE_ROUTERS = (devices, events, changes)
ROUTERS = (*DEVICE_ROUTERS, office, search, tickets, followups, satisfaction, ratings, figures,
           certificate_checks, due, worklist, accounts, notices)


def create_app(storage: Storage, quotas: Quotas | None = None, serves: str = "all",
               office_port: int | None = None, public_port: int | None = None) -> FastAPI:
    """`quotas`: per device (central/api/quotas.py); $CENTRAL_QUOTAS or the defaults if not given.
    `serves`: every route, or the devices' only (the office then on `office_port`, its own
    process: `kiosk central serve --office-port`), or the office's only, or the public site's
    only (central/public/: `kiosk central serve --public-port`; `public_port`: this process
    sends /public/... there instead of serving it)."""
    # The institute's zone for every date the office shows or a rule counts.
    set_zone(settings.time_zone())
    # FastAPI's /docs and /redoc load their script from a CDN: off unless asked for (an office
    # network may be closed, and a page should load nothing from elsewhere).
    docs = ("/docs", "/redoc") if settings.api_docs() else (None, None)
    app = FastAPI(title="Metrology kiosk central", version="1", docs_url=docs[0], redoc_url=docs[1],
                  description="The central system kiosks and clerk desks sync with. See central/README-API.md.")
    events.document_body(app)
    app.state.storage = storage  # central/api/deps.py hands it to the routes
    app.state.meter = Meter(quotas or Quotas.parse(settings.quotas()))
    for error, handler in errors.HANDLERS.items():
        app.add_exception_handler(error, handler)
    # 503 "being built" while an upgrade's backfill runs (central/backfill.py)
    app.add_middleware(Backfilling, storage=storage, office=serves != "public")
    if serves == "public":  # nothing else exists on the port the internet may reach
        return public_site.only(app)
    for module in ROUTERS:
        if serves == "all" or (module in DEVICE_ROUTERS) == (serves == "devices"):
            app.include_router(module.router)
    if serves == "devices" and office_port:
        elsewhere.send_office_to(app, office_port)
    if serves != "office":  # the public pages beside the devices' API, or a pointer to their port
        public_site.beside(app, public_port)
    app.add_middleware(Lanes)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, docs_paths=tuple(path for path in docs if path))  # outermost: every answer
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory` and for `kiosk central serve --workers N`: each worker process
    opens its own pool on $DATABASE_URL (the schema was made by `serve` before it started them)."""
    import os

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    storage = open_storage(url, pool_size=settings.pool_size())
    storage.close()  # the schema check's connection: requests take their own lanes' (central/storage.py)
    return settle(create_app(storage, serves=settings.serves(), office_port=settings.office_port(),
                             public_port=settings.public_port()))


def settle(app: FastAPI) -> FastAPI:
    """Once the app is built: the objects alive now live as long as the process, so the
    garbage collector need not walk them again on every collection a push triggers."""
    import gc

    gc.collect()
    gc.freeze()
    return app
