"""The back office's pages are Jinja2 templates (central/templates/, one per page on base.html),
autoescaped: a name a device sent is text wherever it lands, without a call to remember.
StrictUndefined: a misspelt value is an error in the tests, not a blank cell in the office.

Every time a page shows is on the institute's clock (kiosk/domain/clock.py, the zone central/app.py
sets); base.html says the zone and its offset once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from kiosk.domain.clock import local, utc_now, zone
from kiosk.i18n import money

from .storage import as_datetime
from .words import reason_words

TEMPLATES = Path(__file__).with_name("templates")
# The back office's pages, Chinese first, English beside it: every page links the others the
# viewer's role may open (central/accounts.py PERMISSIONS).
PAGES = (("/office", "总览", "Overview", "figures"), ("/office/tickets", "受理单", "Tickets", "personal"),
         ("/office/followups", "回访", "Follow-ups", "personal"),
         ("/office/satisfaction", "满意度", "Satisfaction", "figures"),
         ("/office/ratings", "窗口评价", "Window ratings", "figures"),
         ("/office/figures", "统计", "Figures", "figures"),
         ("/office/certificate-checks", "证书核对", "Certificate checks", "figures"),
         ("/office/due", "周检到期", "Verification due", "personal"),
         ("/office/worklist", "在办清单", "Work list", "personal"), ("/office/notices", "通知", "Notices", "personal"),
         ("/office/audit", "审计日志", "Audit log", "audit"))
ROLE_NAMES = {"director": "主任 Director", "clerk": "业务员 Clerk", "auditor": "审计员 Auditor"}
# A device's role (central/devices.py ROLES) as the ticket list's filters name the devices, not its code.
DEVICE_ROLES = {"kiosk": "登记机 Kiosk", "clerk": "受理窗口 Counter"}
# The pages' CSS, served by central (central/api/office.py): the pages' CSP forbids inline styles.
STYLESHEET = "/office/office.css"
CSS = Path(__file__).with_name("static").joinpath("office.css").read_bytes()
# What the pages link: a browser keeps the CSS a day, so its address changes with its content (an
# upgrade's new rules show at once; the route ignores the query).
STYLESHEET_LINK = f"{STYLESHEET}?v={hashlib.sha256(CSS).hexdigest()[:12]}"


def shown_time(value, seconds: bool = True) -> str:
    """A stored moment (ISO text or datetime, UTC) on the institute's clock, or — for none."""
    moment = as_datetime(value or None)
    if moment is None:
        return "—"
    return f"{local(moment):%Y-%m-%d %H:%M:%S}" if seconds else f"{local(moment):%Y-%m-%d %H:%M}"


def zone_label(now: datetime | None = None) -> str:
    """The institute's zone with its offset now: `Asia/Shanghai (UTC+08:00)`."""
    offset = local(now or utc_now()).strftime("%z")
    return f"{zone().key} (UTC{offset[:3]}:{offset[3:]})"


_PAGE_NAMES = {path: f"{zh} · {en}" for path, zh, en, _ in PAGES} | {"/office/login": "登录 · Sign in",
                                                                   "/office/logout": "退出 · Sign out"}


def page_name(route: str) -> str:
    """The page an audit row's route is, as the navigation names it (受理单 · Tickets for
    /office/tickets, its CSV, its JSON under /api/v1), or "" for one it does not name."""
    path = route.removeprefix("/api/v1").removesuffix(".csv").removesuffix(".json")
    if path.startswith("/office/tickets/"):
        return "受理单 · Ticket"
    while path not in _PAGE_NAMES and path.count("/") > 2:  # /office/ratings/export: the ratings'
        path = path.rsplit("/", 1)[0]
    return _PAGE_NAMES.get(path, "")


def _fen(value: int | None) -> str:
    return "—" if value is None else money(value, "zh")


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
_env.globals.update(pages=PAGES, stylesheet=STYLESHEET_LINK, zone_label=zone_label, role_names=ROLE_NAMES,
                    device_roles=DEVICE_ROLES)
# unquoted: a query string as a person reads it (the audit log: q=*******5602, 仁怀, not %2A.., %E4..)
_env.filters.update(when=shown_time, fen=_fen, reason=reason_words, unquoted=unquote, page_name=page_name)


def render(template: str, **values) -> str:
    return _env.get_template(template).render(**values)
