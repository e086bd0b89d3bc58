"""受理单 Ticket: the number, big; the QR; when it will be ready; where to go; the print status.
Returns to the welcome screen by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kiosk.domain.clock import local as local_time
from kiosk.domain.workdays import expected_ready
from kiosk.i18n import date_text, t
from kiosk.i18n.keys import PRINT_REASONS, PRINT_STATES
from kiosk.i18n.textwidth import cell_width
from kiosk.settings.institute import InstituteInfo, Text
from screens.qrtext import qr_half_blocks

from .base import REGISTRATION_CSS, SelfClosing, big_button


@dataclass(frozen=True)
class TicketView:
    """What the ticket screen shows: no customer data, only the ticket's own facts."""

    number: str
    qr_data: str
    created_at: datetime
    ready_on: date | None  # None: every line is urgent (hours instead)
    urgent_hours: int | None
    counter: Text
    ticket_id: int | None = None  # whose print-state messages this screen shows

    @classmethod
    def from_registered(cls, ticket, info: InstituteInfo) -> TicketView:
        est = ticket.estimate
        local = local_time(ticket.created_at)
        return cls(
            number=ticket.number,
            qr_data=ticket.code or ticket.number,  # the signed ticket code (kiosk/domain/ticketcode.py)
            created_at=local,
            ready_on=expected_ready(local, est.turnaround_days, info.calendar),
            urgent_hours=est.urgent_hours,
            counter=info.receiving_counter,
            ticket_id=ticket.id,
        )


class TicketScreen(SelfClosing):
    CSS_PATH = REGISTRATION_CSS
    TITLE_KEY = "ticket.title"
    FOCUS = "#done"

    def __init__(self, view: TicketView) -> None:
        super().__init__()
        self.view = view
        self.print_state = "pending"
        self.print_error: str | None = None
        self.print_job_id: int | None = None

    def compose_body(self) -> ComposeResult:
        # The QR has the whole height under the title bar; everything else, the buttons too, is
        # in the column beside it (the action bar stays empty).
        with Horizontal(id="ticket"):
            yield Static(id="qr")
            with Vertical(id="ticket-facts"):
                yield Static(id="ticket-label")
                yield Static(self.view.number, id="ticket-number")
                yield Static(id="ticket-facts-text")
                yield Static(id="print-status")
                yield Static(id="ticket-countdown")
                with Horizontal(id="ticket-actions"):
                    retry = big_button("print.retry", "retry")
                    retry.display = False  # only when the receipt did not print
                    yield retry
                    yield big_button("ticket.done", "done", "primary")

    # Around the QR: the title bar above; the body's padding and the column beside it, as wide
    # as its two buttons (registration.tcss).
    QR_CHROME_ROWS, QR_CHROME_COLUMNS = 1, 2 + 2 + 34 + 2

    def fit_qr(self) -> None:
        """The signed code's QR wherever all of it fits, quiet zone included: at error correction
        M, else at L (a screen is not a creased receipt; a 5-line ticket fits 100x30 so); else,
        at 80x24, the ticket number's (version 1), whole: a QR cut by the screen's edge scans as
        nothing. The number finds the ticket at the counter once it has synced; the printed
        receipt always has the code."""
        rows, columns = self.size.height - self.QR_CHROME_ROWS, self.size.width - self.QR_CHROME_COLUMNS
        for correction in ("M", "L"):
            qr = qr_half_blocks(self.view.qr_data, correction)
            lines = qr.splitlines()
            if len(lines) <= rows and cell_width(lines[0]) <= columns:
                break
        else:
            qr = qr_half_blocks(self.view.number)
        self.query_one("#qr", Static).update(qr)

    def on_resize(self) -> None:
        self.fit_qr()

    def on_mount(self) -> None:
        self.start_countdown(self.app.config.ticket_seconds)
        self.fit_qr()
        super().on_mount()

    def show_countdown(self) -> None:
        self.query_one("#ticket-countdown", Static).update(t("ticket.returning", self.lang, seconds=self.left))

    def relabel(self) -> None:
        super().relabel()
        lang, view = self.lang, self.view
        self.query_one("#ticket-label", Static).update(t("ticket.number", lang))
        facts = [t("ticket.registered_at", lang, time=view.created_at.strftime("%Y-%m-%d %H:%M"))]
        if view.ready_on:
            facts.append(t("ticket.ready_on", lang, date=date_text(view.ready_on, lang)))
        if view.urgent_hours:
            facts.append(t("total.urgent_hours", lang, hours=view.urgent_hours))
        facts.append(t("ticket.go_to", lang, counter=view.counter(lang)))
        self.query_one("#ticket-facts-text", Static).update("\n".join(facts))
        self.show_print_state(self.print_state, self.print_error, self.print_job_id)
        self.show_countdown()

    def show_print_state(self, state: str, error_kind: str | None, job_id: int | None) -> None:
        """What happened to the receipt, in plain words; the QR stays on screen whatever it is."""
        lang = self.lang
        # failed: not printed; unconfirmed: the printer did not say it printed (the customer looks)
        not_printed = state in ("failed", "unconfirmed")
        if not_printed and self.print_state != state and self.deadline is not None:
            # time to photograph the code or note the number
            self.deadline = max(self.deadline, self.app.clock() + self.app.config.ticket_seconds)
        self.print_state, self.print_error, self.print_job_id = state, error_kind, job_id
        if not_printed:
            reason = t(PRINT_REASONS[error_kind or "error"], lang)
            text = t("print.failed" if state == "failed" else "print.unconfirmed", lang, reason=reason)
        else:
            text = t(PRINT_STATES[state], lang)
        status = self.query_one("#print-status", Static)
        status.update(text)
        status.set_class(not_printed, "failed")
        self.query_one("#retry").display = not_printed and job_id is not None

    def action_retry(self) -> None:
        if self.print_state in ("failed", "unconfirmed") and self.print_job_id is not None:
            self.show_print_state("pending", None, self.print_job_id)
            self.app.print_again(self.print_job_id)

    def action_done(self) -> None:
        self.app.wipe()

    action_back = action_done
