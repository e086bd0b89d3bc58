"""Devices: the health check, enrolment (a one-time code and proof of the device's key give it a
token) and renewing that token."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import devices, tokens
from ..storage import StorageError, ts
from ..words import UUID_PATTERN
from .deps import DeviceToken, Me, Store, Unauthorised
from .responses import BUSY, MALFORMED, UNAUTHORISED, Problem, json_response

log = logging.getLogger("central")

router = APIRouter(tags=["device"])


class Health(BaseModel):
    ok: bool
    error: str | None = None


class EnrollIn(BaseModel):
    code: str = Field(max_length=100)
    device_uid: str = Field(pattern=UUID_PATTERN, description="the device's UUID, canonical lower-case form")
    prefix: str = Field(pattern=r"^[A-Z0-9]{1,8}$", description="its ticket-number prefix")
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of the raw 32-byte Ed25519 key")
    signature: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$",
                           description="base64 of the device key's Ed25519 signature of kiosk/domain/enrolment.py "
                                       "proof_message(code, device_uid, prefix, public_key)")


class EnrollOut(BaseModel):
    token: str
    device_uid: str
    role: str
    expires_at: str = Field(description="when the token stops working unless renewed (POST /api/v1/token)")


class TokenOut(BaseModel):
    token: str
    expires_at: str


@router.get("/api/v1/health", response_model=Health,
            responses={503: {"model": Health, "description": "The database does not answer (`database`)"}})
def health(store: Store) -> Response:
    """Whether central can read its database (within ~2 s), for a load balancer or a monitor."""
    try:
        store.ping()
    except StorageError as e:
        log.warning("health: the database does not answer: %s", e)
        return json_response({"ok": False, "error": "database"}, 503)
    return json_response({"ok": True})


@router.post("/api/v1/enroll", response_model=EnrollOut,
             responses={**MALFORMED, 403: {"model": Problem, "description": "A bad, used or expired code, a "
                                                                         "signature that does not prove the key, "
                                                                         "or a revoked device"},
                        409: {"model": Problem, "description": "The prefix is taken, or an enrolled device's key, "
                                                              "role, site or prefix would change"}, **BUSY})
def enroll(body: EnrollIn, store: Store) -> Response:
    try:
        done = devices.enroll(store, body.code, body.device_uid, body.prefix, body.public_key, body.signature)
    except devices.EnrolError as e:
        return json_response({"detail": str(e), "error": e.code}, e.status)
    log.info("device enrolled: %s", done.device_uid)
    return json_response({"token": done.token, "device_uid": done.device_uid, "role": done.role,
                          "expires_at": ts(done.expires_at)})


@router.post("/api/v1/token", response_model=TokenOut,
             responses={**UNAUTHORISED, 409: {"model": Problem, "description": "Renewed moments ago: ask later"},
                        **BUSY})
def renew_token(me: Me, token: DeviceToken, store: Store) -> Response:
    """A new token; the one presented stays good until the new one is first used (or 7 days)."""
    try:
        issued = tokens.renew(store, token)
    except tokens.TokenRefused as e:
        if e.status == 401:  # revoked or expired meanwhile
            raise Unauthorised(str(e), "Bearer", e.error) from None
        return json_response({"detail": str(e), "error": e.error}, e.status)
    log.info("token renewed: %s", me.uid)
    return json_response({"token": issued.token, "expires_at": ts(issued.expires_at)})
