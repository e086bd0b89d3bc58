"""What every back-office form post must show before its fields are read: that it was posted
from a page of central itself, and (once signed in) the session's CSRF token.

Two checks, either enough alone against a forged post, kept both: the browser's own word
(Sec-Fetch-Site, else Origin against Host; a post with neither is refused, as no browser
central supports sends such a form post), and a token only central's pages hold.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from ..office_sessions import csrf_matches
from .deps import Viewer
from .params import BadParameter, form

MAX_FORM = 64 * 1024  # bytes: a name and a note, or a sign-in
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"  # a script posting JSON with the browser's cookie (a page's own fetch)


class TooLarge(BadParameter):
    """A form over MAX_FORM: answered 413, as any body too large."""


def cross_site(request: Request) -> bool:
    """Not posted from central's own page (or not saying so)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == "null" or urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()


async def fields(request: Request) -> dict[str, str]:
    """The form's fields. TooLarge; BadParameter: not a readable form."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise TooLarge(f"request body over {MAX_FORM} bytes")
    return form(request.headers.get("content-type"), body)


def csrf_refused(viewer: Viewer, posted: str | None) -> bool:
    """The form's CSRF token is not this session's (the office token posts no form)."""
    return viewer.session is None or not csrf_matches(viewer.session.token, posted)
