"""Back-office users for the tests: one per role, signed in as a script (a bearer session token)
or as a browser (the sign-in page, its cookie)."""

from __future__ import annotations

import re

from central.accounts import OfficeUser, add_user
from central.office_sessions import csrf_token, open_session

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": "http://testserver"}  # what a browser adds to a form it posts from central's page
FULL_NAMES = {"director": "张主任", "clerk": "李娜", "auditor": "审计王"}


def office_user(storage, role: str = "director") -> OfficeUser:
    """The user named after `role` (made on first use)."""
    with storage.read() as tx:
        row = tx.one("SELECT id, name, full_name, role FROM office_user WHERE name = ?", (role,))
    return OfficeUser(*row) if row else add_user(storage, role, role, PASSWORD, FULL_NAMES[role])


def office(storage, role: str = "director") -> dict:
    """Headers of a script signed in as `role` (a new session each call)."""
    return {"Authorization": f"Bearer {open_session(storage, office_user(storage, role)).token}", **SAME_SITE}


def csrf(headers: dict) -> str:
    """The CSRF token of the session these headers carry, as its pages' forms hold it."""
    return csrf_token(headers["Authorization"].removeprefix("Bearer "))


def form_csrf(page: str) -> str:
    return re.search(r"name='csrf' value='([^']+)'", page).group(1)


def sign_in(client, name: str, password: str = PASSWORD, next_page: str = "/office", headers: dict | None = None):
    """Through the sign-in page, as a browser: the answer to the form's post (the cookie is in `client`)."""
    page = client.get("/office/login", params={"next": next_page})
    return client.post("/office/login", data={"name": name, "password": password, "csrf": form_csrf(page.text),
                                              "next": next_page},
                       headers=SAME_SITE if headers is None else headers, follow_redirects=False)
