"""`kiosk enroll URL CODE`: this device proves it holds its key, trades a one-time code for its
token at central, and keeps where central is, who it is there and when the token expires.
Sync renews the token while it is young enough (kiosk/sync/loop.py), storing the new one
before it is ever used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Setting, database_proxy
from kiosk.store.keys import signing_key
from kiosk.sync.client import Central, SyncError
from kiosk.sync.settings import ROLE, TOKEN, TOKEN_EXPIRES, URL, put_setting, setting


@dataclass(frozen=True)
class Enrolment:
    url: str
    token: str
    role: str
    expires_at: datetime | None  # None: a token from before tokens expired (renewed on the next pass)


def enrolment() -> Enrolment | None:
    url, token = setting(URL), setting(TOKEN)
    return Enrolment(url, token, setting(ROLE, "kiosk"), token_expiry()) if url and token else None


def token_expiry() -> datetime | None:
    expires = setting(TOKEN_EXPIRES)
    return datetime.fromisoformat(expires) if expires else None


def save_enrolment(url: str, token: str, role: str, expires_at: datetime | None) -> None:
    with database_proxy.atomic():
        put_setting(URL, url.rstrip("/"))
        put_setting(ROLE, role)
        save_token(token, expires_at)


def save_token(token: str, expires_at: datetime | None) -> None:
    """The token and its expiry together, in one transaction."""
    with database_proxy.atomic():
        put_setting(TOKEN, token)
        if expires_at is None:
            Setting.delete().where(Setting.key == TOKEN_EXPIRES).execute()
        else:
            put_setting(TOKEN_EXPIRES, expires_at.isoformat())


def enroll(url: str, code: str, device, client: Central | None = None) -> Enrolment:
    """Trade the one-time code for this device's token and keep it. `device`: the device row
    (uid, prefix); its signing key is the one its ticket codes are signed with."""
    answer = (client or Central(url)).enroll(code.strip(), device.uid, device.prefix, signing_key(device.uid))
    save_enrolment(url, answer.token, answer.role or "kiosk", answer.expires_at)
    saved = enrolment()
    if saved is None:  # read back as none only when what was saved is empty: central's token
        raise SyncError("bad_response", "enroll: an empty token in the answer")
    return saved
