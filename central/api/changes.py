"""The change feed a device pulls: `GET /api/v1/changes?after=CURSOR` (central/feed.py). The
body is written by the feed itself: payloads go out as the text stored, not decoded and
encoded again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel

from .. import devices, feed
from . import params
from .deps import Store
from .quotas import Puller
from .responses import BUSY, MALFORMED, QUOTA, UNAUTHORISED

router = APIRouter(tags=["device"])


class Change(BaseModel):
    seq: int
    kind: str
    data: dict[str, Any]


class Changes(BaseModel):
    changes: list[Change]
    next: int
    more: bool


@router.get("/api/v1/changes", response_model=Changes, responses={**MALFORMED, **UNAUTHORISED, **QUOTA, **BUSY})
def changes(me: Puller, store: Store, after: Annotated[int, Query(ge=0, le=2**62), params.DIGITS] = 0,
            limit: Annotated[int, Query(ge=1, le=feed.MAX_LIMIT), params.DIGITS] = 500,
            x_parked: Annotated[str | None, Header(description=(
                "What the device keeps parked: events=N;changes=N;reasons=a,b (reason names only), for "
                "the back office's alerts; optional"))] = None) -> Response:
    devices.touch(store, me, pulled=True)
    devices.record_parked(store, me, x_parked)
    page = feed.read(store, after, limit, me.role, me.id, site=me.site)
    return Response(page.json().encode("utf-8"), media_type="application/json")
