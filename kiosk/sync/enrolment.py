"""`kiosk enroll URL CODE`: this device trades a one-time code for its token at central, and
keeps where central is and who it is there."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import database_proxy
from kiosk.sync.client import Central
from kiosk.sync.settings import ROLE, TOKEN, URL, put_setting, setting


@dataclass(frozen=True)
class Enrolment:
    url: str
    token: str
    role: str


def enrolment() -> Enrolment | None:
    url, token = setting(URL), setting(TOKEN)
    return Enrolment(url, token, setting(ROLE, "kiosk")) if url and token else None


def save_enrolment(url: str, token: str, role: str) -> None:
    with database_proxy.atomic():
        put_setting(URL, url.rstrip("/"))
        put_setting(TOKEN, token)
        put_setting(ROLE, role)


def enroll(url: str, code: str, device, public_key: bytes, client: Central | None = None) -> Enrolment:
    """Trade the one-time code for this device's token and keep it."""
    answer = (client or Central(url)).enroll(code.strip(), device.uid, device.prefix, public_key)
    save_enrolment(url, answer["token"], answer.get("role", "kiosk"))
    return enrolment()
