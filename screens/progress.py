"""进度查询 Progress: scan the ticket or the pickup voucher (or type the number) and see where
the instruments are, and where to go (kiosk/store/progress.py). The next scan replaces the answer;
the idle wipe takes it away. Only the ticket's number, state and dates are shown: never the
organisation, contact or phone."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path, PurePath

from textual import work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from kiosk.domain.validation import FieldError
from kiosk.i18n import date_text, t
from kiosk.i18n.keys import PROGRESS_ERRORS
from kiosk.i18n.status_text import work_text

from .base import FIELDS_CSS, KEYBOARD_CSS, big_button, labelled
from .ticket_scan import TicketScanScreen

log = logging.getLogger(__name__)

CSS: list[str | PurePath] = [FIELDS_CSS, KEYBOARD_CSS, Path(__file__).parent / "feedback.tcss"]  # the same scan row


class ProgressFound(Message):
    def __init__(self, text: str, progress) -> None:
        super().__init__()
        self.text, self.progress = text, progress


def progress_text(p, info, lang: str) -> str:
    """What the customer reads: the state, when, and where to go next."""

    def when(moment) -> str:
        return date_text(moment.date() if isinstance(moment, datetime) else moment, lang)

    lines = [t("progress.number", lang, number=p.number)]
    if p.status == "registered":
        lines += [t("progress.registered", lang, date=when(p.registered_at)),
                  t("progress.go_receiving", lang, counter=info.receiving_counter(lang))]
    elif p.status == "received":
        work = work_text(p.in_work, lang)  # 检定中 / 校准中 ...: the desk's words (kiosk/i18n/status_text.py)
        lines.append(t("progress.received", lang, date=when(p.steps["received"]), work=work)
                     if "received" in p.steps else t("progress.in_lab", lang, work=work))
        if p.urgent_by:
            lines.append(t("progress.urgent_by", lang, date=when(p.urgent_by), time=f"{p.urgent_by:%H:%M}"))
        if p.ready_on:
            lines.append(t("progress.ready_on", lang, date=when(p.ready_on)))
        if p.late:
            lines.append(t("progress.late", lang, counter=info.dispatch_counter(lang)))
    elif p.status == "ready":
        lines += [t("progress.ready", lang, date=when(p.steps["ready"])) if "ready" in p.steps
                  else t("progress.ready_now", lang),
                  t("progress.go_dispatch", lang, counter=info.dispatch_counter(lang))]
        if p.late:
            lines.append(t("progress.collect_soon", lang, days=p.waiting_days))
    elif p.status == "picked_up":
        lines += [t("progress.picked_up", lang, date=when(p.steps["picked_up"])) if "picked_up" in p.steps
                  else t("progress.picked_up_now", lang), t("progress.rate", lang)]
    return "\n".join(lines)


class ProgressScreen(TicketScanScreen):
    CSS_PATH = CSS
    TITLE_KEY = "progress.title"
    STATUS_ID = "progress-status"

    def __init__(self, now=None) -> None:
        """`now`: the moment that decides what is late (a test's); None: the wall clock's."""
        super().__init__()
        self.now = now
        self.progress = None  # kiosk.store.progress.Progress of the last answer

    def compose_body(self) -> ComposeResult:
        yield labelled(Static(classes="feedback-intro"), "progress.intro")
        yield from self.scan_row()
        yield Static(id="progress-status")
        yield Static(id="progress")

    def compose_actions(self) -> ComposeResult:
        yield big_button("progress.home", "back")

    @work(exclusive=True, group="progress-lookup")
    async def look_up(self, text: str) -> None:
        from kiosk.store.progress import Progress, ticket_progress

        app = self.app
        try:
            found = await app.in_db_thread(ticket_progress, text, now=self.now, cal=app.info.calendar,
                                           pickup_days=app.config.pickup_days)
        except Exception:
            log.exception("progress: looking a ticket up failed")
            found = Progress(error="failed")
        self.post_message(ProgressFound(text, found))

    def on_progress_found(self, message: ProgressFound) -> None:
        self.query_one("#progress-status", Static).update("")
        if self.app.screen is not self or message.text != self.field.value.strip():
            return  # the customer moved on, or typed something else meanwhile
        p = message.progress
        self.field.input.focus()
        self.field.input.select_all()  # the next scan replaces it
        if p.error:
            self.progress = None
            self.field.show_error(FieldError(PROGRESS_ERRORS[p.error]))
        else:
            self.progress = p
            self.field.show_error(None)
        self.show()

    def relabel(self) -> None:
        super().relabel()
        if self.is_mounted:
            self.show()

    def show(self) -> None:
        p = self.progress
        text = progress_text(p, self.app.info, self.lang) if p is not None else ""
        self.query_one("#progress", Static).update(Content(text))
