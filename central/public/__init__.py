"""The public mobile site (issue 22): what the institute does and promises, its fee schedule, an
estimate, and a ticket's progress, for a customer's phone. Server-rendered HTML (Jinja2, no
script), 360 px wide first, zh/en, nothing loaded from elsewhere.

Where it is served (central/app.py, central/cli.py):
- `kiosk central serve --public-port P [--public-host H]`: a process of its own that serves
  ONLY this site (`create_app(serves="public")`): no /office and no device API exist on that
  port, so exposing it to the internet (or to a proxy) exposes nothing else. The main port then
  sends /public/... there (a 307, as the office's elsewhere does).
- without it, the main app serves the same pages under /public/ beside the rest (a one-machine
  institute, and the tests).
Every path is under PREFIX on both, so a page's links are the same wherever it is served; on the
public port `/` goes to PREFIX.

One module per page group, each with an APIRouter `router` of plain functions (FastAPI runs
them in its thread pool, where database calls belong); pages render through central/public/pages.py.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import estimate, fees, info, prepare, progress
from .pages import PREFIX

__all__ = ["PREFIX", "router"]

router = APIRouter(include_in_schema=False)
for _module in (info, fees, estimate, progress):
    router.include_router(_module.router)
router.include_router(prepare.router)  # 预约送检: central/public/prepare.py
