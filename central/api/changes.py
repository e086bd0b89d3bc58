"""The change feed a device pulls: `GET /api/v1/changes?after=CURSOR` (central/feed.py). The
body is written by the feed itself: payloads go out as the text stored, not decoded and
encoded again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from .. import devices, feed
from . import params
from .deps import Me, Store
from .responses import BUSY, MALFORMED, UNAUTHORISED

router = APIRouter(tags=["device"])


class Change(BaseModel):
    seq: int
    kind: str
    data: dict[str, Any]


class Changes(BaseModel):
    changes: list[Change]
    next: int
    more: bool


@router.get("/api/v1/changes", response_model=Changes, responses={**MALFORMED, **UNAUTHORISED, **BUSY})
def changes(me: Me, store: Store, after: Annotated[int, params.DIGITS, Query(ge=0, le=2**62)] = 0,
            limit: Annotated[int, params.DIGITS, Query(ge=1, le=feed.MAX_LIMIT)] = 500) -> Response:
    devices.touch(store, me, pulled=True)
    page = feed.read(store, after, limit, me.role, me.id)
    return Response(page.json().encode("utf-8"), media_type="application/json")
