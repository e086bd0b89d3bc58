"""Writing the audit log from a route (central/audit.py): what was asked (path and query) and
how many rows it gave, under the viewer's name."""

from __future__ import annotations

from fastapi import Request

from .. import audit
from ..storage import Storage
from .deps import Viewer


def address(request: Request) -> str | None:
    return request.client.host if request.client else None


def seen(store: Storage, viewer: Viewer, request: Request, rows: int, *, export: bool = False) -> None:
    """Personal data was viewed (a page, JSON) or exported (a CSV)."""
    audit.record(store, viewer.user, "export" if export else "view", request.url.path, request.url.query, rows,
                 address=address(request))
