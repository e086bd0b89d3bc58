"""The sign-in page and the audit log's page (central/templates/login.html, audit.html)."""

from __future__ import annotations

from .audit import Entry
from .office_sessions import ABSOLUTE, IDLE
from .templating import render

ACTIONS = {"view": "查看 viewed", "export": "导出 exported", "sign_in": "登录 signed in",
           "sign_in_failed": "登录失败 sign-in failed", "sign_out": "退出 signed out",
           "retention": "清除个人信息 personal data erased"}  # central/retention.py


def login_html(csrf: str, next_page: str, no_users: bool, message: str | None = None) -> str:
    return render("login.html", title="后台登录 · Sign in", csrf=csrf, next=next_page, no_users=no_users,
                  message=message, idle=int(IDLE.total_seconds() // 60), absolute=int(ABSOLUTE.total_seconds() // 3600))


def audit_html(entries: list[Entry], viewer, before: int | None, older: int | None) -> str:
    """`older`: the id to ask for the next page with (None: this is the last)."""
    return render("audit.html", title="审计日志 · Audit log", viewer=viewer, entries=entries, before=before,
                  older=older, actions=ACTIONS)
