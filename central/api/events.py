"""A device pushes its outbox: `POST /api/v1/events`, a batch applied whole or refused whole.

The body is read here rather than bound by FastAPI: central/ingest.py checks a batch once,
from the bytes (msgspec, in C), and stores each payload as sent. `EventsIn` only documents
the shape (`document_body` adds it to the OpenAPI components)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import devices, ingest
from ..auth import Device
from ..events import KINDS, UID_RE
from ..push_quota import PushQuota
from ..storage import Storage
from . import params
from .deps import Me, Store, Unauthorised
from .quotas import meter
from .responses import BUSY, MALFORMED, QUOTA, UNAUTHORISED, Problem, json_response

log = logging.getLogger("central")

router = APIRouter(tags=["device"])


# The time as a device writes it (datetime.isoformat(), UTC offset included).
CREATED_AT = (f"^{params.CALENDAR_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{{1,6}})?"
              "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")


def _kinds(json_schema: dict[str, Any]) -> None:
    json_schema["enum"] = sorted(KINDS)


class EventIn(BaseModel):
    """For the OpenAPI description; the body is checked by central/ingest.py. An event whose
    uid, kind, time or payload is not as described comes back *by uid* in `rejected` (the
    device parks that one event), as does one the trust rules refuse; the payload's shape is
    its kind's (kiosk/domain/events.py)."""

    uid: str = Field(pattern=UID_RE.pattern, description="unique per device; the device's outbox uid")
    kind: str = Field(json_schema_extra=_kinds)
    created_at: str = Field(pattern=CREATED_AT, description="ISO-8601 with a UTC offset, e.g. "
                                                            "2026-11-24T09:30:00.123456+08:00")
    payload: dict[str, Any]


class EventsIn(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=ingest.MAX_BATCH)


class Acked(BaseModel):
    acked: list[str]


@router.post("/api/v1/events", response_model=Acked,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/EventsIn"}}}}},
             responses={**MALFORMED, 422: {"model": Problem, "description": "Refused events by uid in "
                                           "`rejected` (nothing was applied), or a malformed body"},
                        **UNAUTHORISED, **QUOTA, **BUSY})
async def push(request: Request, me: Me, store: Store) -> Response:
    if not _is_json(request.headers.get("content-type")):
        return json_response({"detail": [{"type": "content_type", "loc": ["body"],
                                          "msg": "Content-Type must be application/json"}]}, 422)
    body = await request.body()
    return await run_in_threadpool(_push, store, me, body, meter(request).pushes)


def _push(store: Storage, me: Device, body: bytes, quota: PushQuota) -> Response:
    """Every push counts against the device's quota (central/push_quota.py): one that is applied
    in its own transaction, one that is not in a transaction of its own (OverQuota: a 429)."""
    try:
        events = ingest.parse_batch(body)
    except ingest.Malformed as e:
        quota.charge(store, me.id, me.uid, len(body))
        return json_response({"detail": e.problems}, 422)
    checked, rejected = ingest.validate(me, events)
    if not rejected:
        try:
            return json_response({"acked": ingest.apply(store, me, checked, quota.cost(len(body)))})
        except ingest.Refused as e:  # by the rules that need the database (central/trust.py)
            rejected = e.rejections
        except ingest.Revoked:
            raise Unauthorised("this device was revoked", "Bearer", "revoked") from None
    quota.charge(store, me.id, me.uid, len(body))
    devices.touch(store, me)
    devices.record_refused(store, me, [r.error.split(":", 1)[0] for r in rejected])
    log.info("push refused: %d of %d events from %s (%s)", len(rejected), len(events), me.uid,
             ", ".join(sorted({r.error.split(":", 1)[0] for r in rejected})))
    return json_response({"rejected": [{"uid": r.uid, "error": r.error} for r in rejected],
                          "detail": f"{len(rejected)} of {len(events)} events refused; nothing was applied"}, 422)


def _is_json(content_type: str | None) -> bool:
    return content_type is None or content_type.split(";")[0].strip().lower() == "application/json"


def document_body(app: FastAPI) -> None:
    """Add `EventsIn`, and the models it refers to, to the app's OpenAPI components: push
    parses its own body, so FastAPI does not know it."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            body = EventsIn.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components[EventsIn.__name__] = body
            return schema  # FastAPI keeps it as app.openapi_schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend its description
