"""What a route depends on: the storage the app was made with, and who is asking (a device by
its token, or the back office by its token).

Declared as security schemes, so the OpenAPI description says how to authenticate. The
office takes its token as a bearer token (tools) or as an HTTP Basic password (a browser
asks for it by itself; any user name).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from ..auth import Device, office_token_matches
from ..storage import Storage
from ..tokens import TokenRefused, authenticate

DEVICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="device", description="A device token from /api/v1/enroll")
OFFICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="office", description="kiosk central office-token")
OFFICE_BASIC = HTTPBasic(auto_error=False, scheme_name="office_basic", realm="central office",
                         description="Any user name; the office token as the password")


class Unauthorised(Exception):
    """A 401 with its WWW-Authenticate challenge and a stable word (central/api/errors.py
    answers it): `bad_token`, or `token_expired` (the device must enrol again)."""

    def __init__(self, message: str, challenge: str, error: str = "bad_token"):
        super().__init__(message)
        self.challenge, self.error = challenge, error


async def storage(request: Request) -> Storage:
    # async: read on the event loop, not a trip to the thread pool for an attribute.
    return request.app.state.storage


Store = Annotated[Storage, Depends(storage)]


def presented_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(DEVICE_TOKEN)]) -> str | None:
    return credentials.credentials if credentials else None


DeviceToken = Annotated[str | None, Depends(presented_token)]


def device(token: DeviceToken, store: Store) -> Device:
    try:
        return authenticate(store, token)
    except TokenRefused as e:
        raise Unauthorised(str(e), "Bearer", e.error) from None


def office_user(token: Annotated[HTTPAuthorizationCredentials | None, Security(OFFICE_TOKEN)],
                basic: Annotated[HTTPBasicCredentials | None, Security(OFFICE_BASIC)], store: Store) -> None:
    secret = token.credentials if token else (basic.password if basic else None)
    if not office_token_matches(store, secret):
        raise Unauthorised("the office token is required (kiosk central office-token)",
                           'Basic realm="central office", charset="UTF-8"')


Me = Annotated[Device, Depends(device)]
Office = Annotated[None, Depends(office_user)]
