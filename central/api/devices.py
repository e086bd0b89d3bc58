"""Devices: the health check, and enrolment (a one-time code and the device's key give it a token)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import devices
from ..words import UUID_PATTERN
from .deps import Store
from .responses import BUSY, MALFORMED, Problem, json_response

log = logging.getLogger("central")

router = APIRouter(tags=["device"])


class Health(BaseModel):
    ok: bool


class EnrollIn(BaseModel):
    code: str = Field(max_length=100)
    device_uid: str = Field(pattern=UUID_PATTERN, description="the device's UUID, canonical lower-case form")
    prefix: str = Field(pattern=r"^[A-Z0-9]{1,8}$", description="its ticket-number prefix")
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of the raw 32-byte Ed25519 key")


class EnrollOut(BaseModel):
    token: str
    device_uid: str
    role: str


@router.get("/api/v1/health", response_model=Health)
def health() -> Health:
    return Health(ok=True)


@router.post("/api/v1/enroll", response_model=EnrollOut,
             responses={**MALFORMED, 403: {"model": Problem, "description": "A bad, used or expired code"},
                        409: {"model": Problem, "description": "The prefix is taken, or the key changed"}, **BUSY})
def enroll(body: EnrollIn, store: Store) -> Response:
    try:
        done = devices.enroll(store, body.code, body.device_uid, body.prefix, body.public_key)
    except devices.EnrolError as e:
        return json_response({"detail": str(e), "error": e.code}, e.status)
    log.info("device enrolled: %s", done.device_uid)
    return json_response({"token": done.token, "device_uid": done.device_uid, "role": done.role})
