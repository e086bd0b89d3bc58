"""What a route depends on: the storage the app was made with, and who is asking (a device by
its token, or a back-office user by their session).

Declared as security schemes, so the OpenAPI description says how to authenticate. A
back-office user's session comes as a cookie (a browser, after /office/login) or as a bearer
token (a script, after POST /api/v1/office/session); the office token (`kiosk central
office-token`) is a bearer token for scripts with an auditor's reach: figures, no personal data.
Each office route asks for what it shows (central/accounts.py PERMISSIONS): `Office` the figures,
`Personal` customers' names and phones, `Closer` closing follow-ups, `Director` the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from ..accounts import OfficeUser
from ..auth import Device, office_token_matches
from ..office_sessions import Session, find_session
from ..storage import Storage
from ..tokens import TokenRefused, authenticate

SESSION_COOKIE = "office_session"
DEVICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="device", description="A device token from /api/v1/enroll")
OFFICE_TOKEN = HTTPBearer(auto_error=False, scheme_name="office",
                          description="A session token from POST /api/v1/office/session, or the office token "
                                      "(kiosk central office-token: figures only, an auditor's reach)")
OFFICE_COOKIE = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="office_cookie",
                             description="The session cookie /office/login sets (a browser)")
# The office token's holder: a script reading figures.
OFFICE_TOKEN_USER = OfficeUser(None, "office-token", "office token", "auditor")


@dataclass(frozen=True)
class Viewer:
    """Who is asking in the back office. `session` None: the office token. `by_cookie`: a
    browser's session, whose posts must carry its CSRF token (a script's bearer token is never
    sent by a browser on its own)."""

    user: OfficeUser
    session: Session | None
    by_cookie: bool = False

    @property
    def csrf(self) -> str | None:
        return self.session.csrf if self.session else None


class SignInNeeded(Exception):
    """No session: a page goes to the sign-in page, an API answers 401 (central/api/errors.py)."""


class Forbidden(Exception):
    """Signed in, but the role may not (403). `viewer`: who asked (the refusal's page keeps their
    pages' links and the sign-out)."""

    def __init__(self, message: str, viewer: Viewer):
        super().__init__(message)
        self.viewer = viewer


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


def office_viewer(token: Annotated[HTTPAuthorizationCredentials | None, Security(OFFICE_TOKEN)],
                  cookie: Annotated[str | None, Security(OFFICE_COOKIE)], store: Store) -> Viewer:
    if token is not None:
        session = find_session(store, token.credentials)
        if session is not None:
            return Viewer(session.user, session)
        if office_token_matches(store, token.credentials):
            return Viewer(OFFICE_TOKEN_USER, None)
        raise SignInNeeded("a back-office session (POST /api/v1/office/session) or the office token is required")
    session = find_session(store, cookie)
    if session is None:
        raise SignInNeeded("sign in to the back office (/office/login)")
    return Viewer(session.user, session, by_cookie=True)


def _allowed(permission: str):
    def check(viewer: Annotated[Viewer, Depends(office_viewer)]) -> Viewer:
        if not viewer.user.may(permission):
            raise Forbidden(f"the role {viewer.user.role} may not see or do this", viewer)
        return viewer

    return check


Me = Annotated[Device, Depends(device)]
Office = Annotated[Viewer, Depends(office_viewer)]  # every role: the figures
Personal = Annotated[Viewer, Depends(_allowed("personal"))]
Closer = Annotated[Viewer, Depends(_allowed("close"))]
Director = Annotated[Viewer, Depends(_allowed("audit"))]
