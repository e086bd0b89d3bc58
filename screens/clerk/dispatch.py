"""The dispatch counter: scan the voucher (or the ticket, or type the number); mark the
ticket ready; note the certificate numbers (F4); hand the instruments over ("picked up"); a
pickup slip prints with the numbers.

Once a ticket is received, this counter shows the lines as taken in and the fee as the
receiving counter fixed it (the received event's total), not the registration."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.i18n import quantity_text, service_name, t
from kiosk.i18n.estimate_text import storage_rows
from kiosk.i18n.status_text import line_status_text
from screens.base import big_button
from screens.clerk.counter import CounterScreen, StepDone, TicketLookedUp, amount_and_notes, total_text

if TYPE_CHECKING:
    from kiosk.printing.receipts import CounterFacts


class IntakeFactsLoaded(Message):
    """`held`: certificates returned for correction, which the pickup waits for."""

    def __init__(self, ticket_id: int, facts: CounterFacts | None, held: int = 0) -> None:
        super().__init__()
        self.ticket_id, self.facts, self.held = ticket_id, facts, held


def _facts(ticket_id: int, status: str) -> CounterFacts | None:
    """In the database thread: the intake as received, with the
    certificate numbers and the storage charged once picked up, or the storage due if collected now
    while ready; None when this desk holds no intake of the ticket."""
    from dataclasses import replace

    from kiosk.printing.receipts import counter_facts
    from kiosk.store.desk import storage_due

    for kind in ("picked_up", "received") if status == "picked_up" else ("received",):
        try:
            facts = counter_facts(ticket_id, kind)
        except KeyError:  # a step recorded elsewhere whose event has not reached this desk
            continue
        if status == "ready":
            facts = replace(facts, storage=storage_due(ticket_id))
        return facts if facts.lines else None
    return None


class DispatchScreen(CounterScreen):
    COUNTER = "dispatch"
    TITLE_KEY = "desk.dispatch"
    HINT_KEY = "desk.dispatch_hint"
    STEP_KEY = "desk.step.picked_up"
    BINDINGS: ClassVar = [*CounterScreen.BINDINGS, Binding("f4", "certificates", show=False),
                          Binding("f5", "check", show=False, id="check"),  # screens/clerk/checks.py
                          Binding("f6", "ready", show=False), Binding("f7", "pick_up", show=False)]

    def __init__(self, number: str | None = None) -> None:
        super().__init__(number)
        self.facts: tuple[int, CounterFacts] | None = None  # (ticket id, its intake) of the ticket shown, once received
        # (ticket id, number, {position: the numbers of its instruments, in order})
        self.certificates: tuple[int, str, dict[int, tuple[str, ...]]] | None = None
        self.note: tuple[str, dict[str, object]] = ("", {})
        self.held = (0, 0)  # (ticket id, its certificates returned for correction)

    def compose_body(self) -> ComposeResult:
        for widget in super().compose_body():
            yield widget
            if widget.id == "desk-message":
                yield Static(id="cert-note", classes="desk-note")

    def compose_actions(self) -> ComposeResult:
        for key, id_ in (("desk.certificates", "certificates"), ("check.key", "check"),
                         ("desk.ready", "ready"), ("desk.pick_up", "pick_up"),
                         ("desk.to_receiving", "to_receiving"), ("desk.lock", "lock")):
            button = big_button(key, id_, "primary" if id_ == "pick_up" else "default")
            button.can_focus = False
            yield button

    def found_message(self) -> tuple[str, dict[str, object]]:
        assert self.summary is not None  # asked only when a ticket was found (CounterScreen.on_ticket_looked_up)
        if self.summary.status == "picked_up":
            return self.already_message("picked_up")
        if self.summary.status == "ready":
            # Collected late: said, so the clerk can apply the institute's rule (a storage fee).
            ready = next((s for s in self.steps if s.kind == "ready"), None)
            days = (institute_today() - local(ready.at).date()).days if ready else 0
            limit = self.app.config.pickup_days
            if days > limit:
                return "desk.ready_overdue", {"days": days, "limit": limit}
        return "", {}

    # ---- the ticket as taken in ----------------------------------------------------------

    def on_ticket_looked_up(self, message: TicketLookedUp) -> None:
        noted = self.certificates
        super().on_ticket_looked_up(message)
        message.prevent_default()  # the base handler ran; Textual must not run it again
        s = self.summary
        if noted is not None and noted[2] and (s is None or s.id != noted[0]):
            self.note = ("desk.cert.discarded", {"number": noted[1]})
            self.certificates = None
        else:
            self.note = ("", {})
        self.load_facts()

    def on_step_done(self, message: StepDone) -> None:
        super().on_step_done(message)
        message.prevent_default()  # the base handler ran; Textual must not run it again
        if message.refused is not None and message.refused.kind == "certificates_returned":
            self.message = ("check.waits", {"count": message.refused.count})
        if message.transition is not None and message.transition.kind == "picked_up":
            self.certificates = None  # stored with the step; the slip prints them
        self.note = ("", {})
        self.load_facts()

    def load_facts(self) -> None:
        s = self.summary
        if self.facts is not None and (s is None or self.facts[0] != s.id):
            self.facts = None
        if s is not None and s.status != "registered":
            self.run_worker(self._load_facts(s.id, s.status), group="facts", exclusive=True)
        self.show()

    async def _load_facts(self, ticket_id: int, status: str) -> None:
        from kiosk.store.certificate_checks import holding_pickup

        held = 0
        try:
            facts = await self.app.in_db_thread(_facts, ticket_id, status)
            if status != "picked_up":
                held = len(await self.app.in_db_thread(holding_pickup, ticket_id))
        except Exception:  # noqa: BLE001 - the registered lines stay on screen
            facts = None
        self.post_message(IntakeFactsLoaded(ticket_id, facts, held))

    def on_intake_facts_loaded(self, message: IntakeFactsLoaded) -> None:
        if self.summary is not None and self.summary.id == message.ticket_id and message.facts is not None:
            self.facts = (message.ticket_id, message.facts)
            self.held = (message.ticket_id, message.held)
            self.show()

    # ---- certificate numbers -------------------------------------------------------------

    def numbers(self) -> dict[int, tuple[str, ...]]:
        """The numbers noted for the ticket on screen (or stored with its pickup)."""
        s = self.summary
        if s is not None and self.certificates is not None and self.certificates[0] == s.id:
            return self.certificates[2]
        if self.facts is not None and s is not None and s.status == "picked_up":
            return self.facts[1].certificates
        return {}

    def _taken_in(self, not_yet: str) -> tuple[int, CounterFacts] | None:
        """(ticket id, its intake's facts) when the ticket on screen is taken in and not handed
        back; else None, the message said (`not_yet`: no intake known here)."""
        s = self.summary
        if s is None:
            self.message = ("desk.nothing", {})
        elif s.status == "picked_up":
            self.message = self.already_message("picked_up")
        elif self.facts is None:
            self.message = (not_yet, {})
        else:
            return self.facts
        self.show()
        return None

    def action_certificates(self) -> None:
        from screens.clerk.certificates import CertificateEditor

        if (taken := self._taken_in("desk.cert.not_yet")) is not None:
            ticket_id, facts = taken
            self.app.push_screen(CertificateEditor(facts.number, facts.lines, self.numbers()),
                                 lambda numbers: self.certificates_noted(ticket_id, facts.number, numbers))

    def action_check(self) -> None:
        """The certificates checked against the intake, one by one (screens/clerk/checks.py)."""
        from screens.clerk.checks import CertificateCheckScreen

        if (taken := self._taken_in("check.none")) is not None:
            ticket_id, facts = taken
            self.app.push_screen(CertificateCheckScreen(ticket_id, facts.number, facts.lines, self.numbers()),
                                 lambda _: self.load_facts())

    def certificates_noted(self, ticket_id: int, number: str, numbers: dict[int, tuple[str, ...]] | None) -> None:
        if numbers is None or self.summary is None or self.summary.id != ticket_id:
            return
        self.certificates = (ticket_id, number, numbers)
        self.message = ("desk.cert.saved", {"count": sum(1 for per in numbers.values() for no in per if no)})
        self.show()

    # ---- the steps -----------------------------------------------------------------------

    def action_ready(self) -> None:
        from kiosk.store.desk import mark_ready

        self.STEP_KEY = "desk.step.ready"
        self.run_step(mark_ready)

    def action_pick_up(self) -> None:
        from kiosk.store.desk import pick_up

        self.STEP_KEY = "desk.step.picked_up"
        self.run_step(pick_up, self.numbers() or None, lang=self.lang)

    # ---- drawing ---------------------------------------------------------------------------

    def show(self) -> None:
        super().show()
        lang = self.lang
        key, values = self.note
        s = self.summary
        held = self.held[1] if s is not None and self.held[0] == s.id else 0
        if not key and held:  # certificates sent back to the lab (screens/clerk/checks.py)
            key, values = "check.waits", {"count": held}
        self.query_one("#cert-note", Static).update(Content(t(key, lang, **values) if key else ""))
        if self.facts is None or s is None or self.facts[0] != s.id:
            return
        facts, numbers = self.facts[1], self.numbers()
        est = facts.estimate
        self.show_ticket(est)  # the urgent tier and promise as priced at intake
        table = self.query_one("#desk-lines", DataTable)
        table.clear(columns=True)
        table.add_columns(t("col.item", lang), t("desk.col.status", lang), t("col.code", lang),
                          t("col.quantity", lang), t("col.service", lang), t("desk.col.certificate", lang),
                          t("desk.col.serial", lang), t("col.amount", lang))
        priced = iter(est.lines if est is not None else ())
        notes = {}
        for i, ln in enumerate(facts.lines):
            name = ln.name_zh if lang == "zh" else ln.name_en
            state = t("desk.refused", lang) if ln.refused else line_status_text(s.status, ln.service, lang)
            given = ", ".join(no for no in numbers.get(i, ()) if no)
            amount, notes[i] = amount_and_notes(None if ln.refused else next(priced, None), est.urgent if est else None,
                                           lang)
            table.add_row(f"{i + 1}. {name}", state, ln.code, quantity_text(ln.quantity, ln.unit, lang),
                          service_name(ln.service, lang), "" if ln.refused else given, ln.serial_number, amount)
        self.show_notes(notes, est)
        if self.scanned_line is not None:  # an instrument label: its line, as taken in
            table.move_cursor(row=min(self.scanned_line, len(facts.lines) - 1), animate=False)
        if facts.total_fen is not None:
            # Storage past the pickup period: its own line, its days per tier, what is due with it.
            storage = "".join(f"\n{label}  {amount}" for label, amount in
                              (storage_rows(facts.storage, lang) if facts.storage is not None else ()))
            self.query_one("#desk-total", Static).update(
                Content(total_text(est, facts.total_fen, "desk.final_total", lang) + storage))
