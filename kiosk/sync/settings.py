"""Where sync keeps its state in the device's `setting` table: the enrolment (central's URL,
this device's token, when it expires, and its role) and the change feed's cursor."""

from __future__ import annotations

from typing import overload

from db.models import Setting

URL, TOKEN, ROLE, CURSOR = "central.url", "central.token", "central.role", "sync.cursor"
TOKEN_EXPIRES = "central.token_expires_at"  # ISO 8601 with its zone


@overload
def setting(key: str) -> str | None: ...


@overload
def setting(key: str, default: str) -> str: ...  # a stored value is never NULL (db.models.Setting)


def setting(key: str, default: str | None = None) -> str | None:
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row else default


def put_setting(key: str, value: str) -> None:
    Setting.insert(key=key, value=value).on_conflict_replace().execute()
