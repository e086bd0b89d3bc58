"""What the receiving and dispatch counters share: the scan field (always focused), the
ticket it found with its lines, and a message line that says what happened, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from kiosk.domain.clock import local
from kiosk.i18n import date_text, money, service_name, t, use_name
from kiosk.i18n.estimate_text import line_notes
from kiosk.i18n.keys import DESK_DONE, DESK_SCAN_ERRORS, DESK_STEPS
from kiosk.i18n.status_text import line_status_text, status_text
from screens.base import KioskScreen, labelled
from screens.clerk.scan import ScanField
from screens.clerk.status import DeskStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from textual import getters

    from kiosk.domain.fees import Estimate, EstimateLine
    from kiosk.domain.holidays import Calendar
    from kiosk.store.desk import ScanResult, StepTaken, TicketSummary, Transition, TransitionError
    from screens.clerk.host import DeskHost

Counter = Literal["receiving", "dispatch"]


# ---- what the customer was shown, at the counter (each counter's table and total) ----------------


def amount_and_notes(line: EstimateLine | None, tier: str | None, lang: str) -> tuple[str, str]:
    """A priced line's amount (the table's cell), and what it is made of or why it is free, its
    urgent surcharge included (kiosk/i18n/estimate_text.py line_notes: the words of the kiosk's
    estimate and the receipt; said under the table, where a long reason is never cut off).
    None (a refused line): nothing."""
    if line is None:
        return "", ""
    amount = t("receipt.free", lang) if line.free_reason else money(line.amount_fen, lang)
    return amount, t("desk.joiner", lang).join(line_notes(line, tier, lang))


def discount_lines(est: Estimate | None, lang: str) -> list[str]:
    """Each discount as its own line: its name, the lines it takes off, its amount (under the
    table: a policy's long name would push the table's columns out of sight)."""
    if est is None:
        return []
    return [t("desk.discount", lang, name=d.name_zh if lang == "zh" else d.name_en,
              lines=",".join(str(i + 1) for i in d.lines), amount=money(d.amount_fen, lang))
            for d in est.discounts]


def total_text(est: Estimate | None, total_fen: int, key: str, lang: str) -> str:
    """The total, and when urgent work or a discount makes it differ from the lines' sum, the
    sum that makes it (lines + urgent - discounts = total); what is waived or quoted, after."""
    total = t(key, lang, amount=money(total_fen, lang))
    if est is None:
        return total
    # Never an equation that does not hold: a total other than the estimate's has no such sum.
    if (est.urgent_fen or est.discount_fen) and est.total_fen == total_fen:
        made_of = t("desk.sum.lines", lang, amount=money(est.subtotal_fen, lang))
        if est.urgent_fen:
            made_of += " + " + t("desk.sum.urgent", lang, hours=est.urgent_hours, amount=money(est.urgent_fen, lang))
        if est.discount_fen:
            made_of += " - " + t("desk.sum.discount", lang, amount=money(-est.discount_fen, lang))
        total = f"{made_of} = {total}"
    if est.waived_fen:
        total += t("desk.sum.waived", lang, amount=money(est.waived_fen, lang))
    if est.quoted_lines:
        total += "\n" + t("total.quoted", lang, count=est.quoted_lines)
    return total


def promise_text(est: Estimate | None, registered_at: datetime, received_at: datetime | None, cal: Calendar,
                 lang: str) -> str:
    """The urgent tier and when the certificates are promised (kiosk/domain/worklist.py
    `promises`, on the institute's clock): the urgent lines within the tier's hours of the
    intake, the others by the receipt's date."""
    from kiosk.domain.worklist import promises

    if est is None:
        return ""
    urgent_by, ready_on = promises(registered_at, received_at, est.turnaround_days, est.urgent_hours, cal)
    parts = []
    if est.urgent_hours and any(ln.urgent_percent is not None for ln in est.lines):
        if urgent_by is None:
            parts.append(t("desk.urgent.pending", lang, hours=est.urgent_hours))
        else:
            parts.append(t("desk.urgent.promised", lang, hours=est.urgent_hours,
                           date=date_text(urgent_by.date(), lang), time=f"{urgent_by:%H:%M}"))
        if ready_on:
            parts.append(t("desk.ready_on.others", lang, date=date_text(ready_on, lang)))
    elif ready_on:
        parts.append(t("desk.ready_on", lang, date=date_text(ready_on, lang)))
    return t("desk.joiner", lang).join(parts)


class TicketLookedUp(Message):
    def __init__(self, result: ScanResult, summary: TicketSummary | None = None,
                 steps: Sequence[StepTaken] = ()) -> None:
        super().__init__()
        self.result, self.summary, self.steps = result, summary, steps


@dataclass
class StepDone(Message):
    """A step was taken (`transition`), refused by the ticket's state (`refused`: its `kind`
    says why), or failed otherwise (`failed`: the database, mostly). `summary` and `steps`:
    the ticket as it is now, when it could be read again."""

    transition: Transition | None = None
    refused: TransitionError | None = None
    failed: Exception | None = None
    summary: TicketSummary | None = None
    steps: Sequence[StepTaken] = ()


@dataclass
class CounterChosen(Message):
    """The clerk asked for the other counter (F2, F3), or for dispatch with a ticket chosen in
    the work list (`number`, looked up on arrival). The desk puts a fresh one in place."""

    counter: Counter
    number: str | None = None


def _load(ticket_id: int) -> tuple[TicketSummary, Sequence[StepTaken]]:
    from kiosk.store.desk import history, ticket_summary

    return ticket_summary(ticket_id), history(ticket_id)


def _lookup(text: str) -> tuple[ScanResult, TicketSummary | None, Sequence[StepTaken]]:
    """What the scan names; a valid ticket this desk has never seen is taken from its code;
    one whose number another ticket here holds is set aside, never shown as that other one."""
    from dataclasses import replace

    from kiosk.store.desk import identify, import_ticket, set_aside

    result = identify(text)
    if result.error == "not_local":
        result = replace(result, ticket_id=import_ticket(text), error="imported")
    elif result.error == "number_taken":
        set_aside(text, result.record)
    if result.ticket_id is None:
        return result, None, ()
    return (result, *_load(result.ticket_id))


class CounterScreen(KioskScreen):
    COUNTER: ClassVar[Counter]  # which one this is
    HINT_KEY = "desk.scan_hint"
    BINDINGS: ClassVar = [Binding("f2", "to_receiving", show=False), Binding("f3", "to_dispatch", show=False),
                          Binding("f10", "followups", show=False, id="followups"),
                          Binding("f12", "worklist", show=False, id="worklist")]

    if TYPE_CHECKING:  # the desk's app (screens/clerk/host.py), for the type checker only
        app = getters.app(DeskHost)

    def __init__(self, number: str | None = None) -> None:
        """`number`: a ticket to look up on arrival (chosen in the work list)."""
        super().__init__()
        self.arriving_with = number
        self.summary: TicketSummary | None = None
        self.steps: Sequence[StepTaken] = ()
        # i18n key and values (a value: words, a "desk." key, or a wording of the language)
        self.message: tuple[str, dict[str, object]] = ("", {})
        self.busy = False
        self.last_scan = ""
        # An instrument label was scanned: its intake line's position and its row in the registered
        # lines (kiosk/store/desk.py ScanResult), where the table's cursor goes.
        self.scanned_line: int | None = None
        self.scanned_row: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="desk-hint-row"):
            yield labelled(Static(classes="desk-hint"), self.HINT_KEY)
            # The keys to the follow-ups and the work list, beside the hint: the action bar is
            # full at 80 columns.
            for key_id, label in (("followups", "desk.followups"), ("worklist", "desk.worklist")):
                key = labelled(Button("", id=key_id, compact=True, action=f"screen.{key_id}"), label)
                key.can_focus = False  # a tap or F10/F12; the keyboard belongs to the scan field
                yield key
        yield ScanField(id="scan")
        yield Static(id="desk-message", classes="desk-message")
        yield Static(id="desk-clerk", classes="desk-clerk")
        yield Static(id="desk-ticket", classes="desk-ticket")
        table: DataTable[str] = DataTable(id="desk-lines", cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        yield table
        yield Static(id="desk-notes", classes="desk-note")
        yield Static(id="desk-total")
        yield DeskStatus()

    @property
    def scan_field(self) -> ScanField:
        return self.query_one("#scan", ScanField)

    def on_mount(self) -> None:
        super().on_mount()
        self.scan_field.focus()
        if self.arriving_with:
            self.look_up(self.arriving_with)

    def show_sync(self, state) -> None:
        super().show_sync(state)
        for status in self.query(DeskStatus):
            status.show()

    def action_back(self) -> None:
        """Escape clears the scan field (ScanField takes it); it never leaves the counter."""

    def on_scan_field_scanned(self, event: ScanField.Scanned) -> None:
        event.stop()
        self.last_scan = event.text  # what the scanner typed, whole (tests read it)
        self.look_up(event.text)

    def look_up(self, text: str) -> None:
        self.run_worker(self._lookup(text), group="lookup", exclusive=True)

    async def _lookup(self, text: str) -> None:
        try:
            found = await self.app.in_db_thread(_lookup, text)
        except Exception as e:  # noqa: BLE001 - a broken database must not crash the desk
            self.post_message(StepDone(failed=e))
        else:
            self.post_message(TicketLookedUp(*found))

    def on_ticket_looked_up(self, message: TicketLookedUp) -> None:
        result = message.result
        if result.ticket_id is None:
            assert result.error is not None  # no ticket: the scan result says why (kiosk/store/desk.py identify)
            self.summary, self.steps = None, ()
            number = result.record.number if result.record is not None else None
            self.message = (DESK_SCAN_ERRORS[result.error], {"number": number} if number else {})
        else:
            self.summary, self.steps = message.summary, message.steps
            self.message = ("desk.imported", {}) if result.error == "imported" else self.found_message()
        self.scanned_line, self.scanned_row = result.line, result.row
        self.show()

    def found_message(self) -> tuple[str, dict[str, object]]:
        """Override: what to say when a ticket was found (e.g. already received)."""
        return "", {}

    def already_message(self, kind: str) -> tuple[str, dict[str, object]]:
        step = next((s for s in self.steps if s.kind == kind), None)
        if step is None:
            return "", {}
        return "desk.already", {"time": f"{local(step.at):%Y-%m-%d %H:%M}", "by": step.by,
                                "step": DESK_STEPS[kind]}

    def run_step(self, fn, *args, **kwargs) -> None:
        if self.busy:
            return
        if self.summary is None:
            self.message = ("desk.nothing", {})
            self.show()
            return
        self.busy = True
        self.run_worker(self._step(fn, self.summary.id, *args, **kwargs), group="step", exclusive=True)

    async def _step(self, fn, ticket_id, *args, **kwargs) -> None:
        from kiosk.store.desk import TransitionError

        try:
            transition = await self.app.in_db_thread(fn, ticket_id, self.app.clerk, self.app.device, *args, **kwargs)
        except TransitionError as e:
            summary, steps = await self.app.in_db_thread(_load, ticket_id)
            self.post_message(StepDone(refused=e, summary=summary, steps=steps))
        except Exception as e:  # noqa: BLE001
            self.post_message(StepDone(failed=e))
        else:
            summary, steps = await self.app.in_db_thread(_load, ticket_id)
            self.post_message(StepDone(transition, summary=summary, steps=steps))

    def on_step_done(self, message: StepDone) -> None:
        self.busy = False
        if message.summary is not None:
            self.summary, self.steps = message.summary, message.steps
        done, refused = message.transition, message.refused
        if done is not None:
            self.message = (DESK_DONE[done.kind], {"number": done.number})
            self.app.print_receipts()
            self.app.sync_soon()
        elif refused is not None and refused.kind == "already" and refused.status:
            self.message = self.already_message(refused.status)
        elif refused is not None and refused.kind == "not_yet":
            status = refused.status
            assert status is not None  # a "not_yet" refusal always names the ticket's status (kiosk/store/desk.py)
            in_work = self.summary.in_work if self.summary is not None else ()
            self.message = ("desk.not_yet", {"status": lambda lang: status_text(status, in_work, lang),
                                             "step": self.STEP_KEY})
        else:
            self.message = ("desk.failed", {"error": str(refused or message.failed)})
        self.show()

    STEP_KEY = "desk.step.received"

    # ---- drawing -----------------------------------------------------------------------------

    def relabel(self) -> None:
        super().relabel()
        if self.is_mounted:
            self.show()

    def show(self) -> None:
        lang = self.lang
        key, values = self.message
        if key:
            # a message key is worded in the screen's language, and so is a wording (a status)
            shown = {k: (t(v, lang) if isinstance(v, str) and v.startswith("desk.") else v(lang) if callable(v)
                         else v) for k, v in values.items()}
            if "by" in shown:
                shown["name"] = shown.pop("by") or t("desk.central", lang)
            text = t(key, lang, **shown)
        else:
            text = ""
        self.query_one("#desk-message", Static).update(Content(text))
        clerk = self.app.clerk
        self.query_one("#desk-clerk", Static).update(
            Content(t("desk.signed_in", lang, name=clerk.display_name)) if clerk else "")
        table = self.query_one("#desk-lines", DataTable)
        table.clear(columns=True)
        s = self.summary
        if s is None:
            self.query_one("#desk-ticket", Static).update("")
            self.query_one("#desk-total", Static).update("")
            self.show_notes({}, None)
            return
        self.show_ticket(s.estimate)
        in_lab = s.status == "received"
        est = s.estimate
        table.add_columns(*self.columns(lab=in_lab))
        notes = {}
        for i, ln in enumerate(s.lines):
            priced = est.lines[i] if est is not None and i < len(est.lines) else None
            state = (line_status_text(s.status, ln.service, lang),) if in_lab else ()
            amount, notes[i] = amount_and_notes(priced, est.urgent if est else None, lang)
            table.add_row(f"{i + 1}. {s.names[i]}", *state, ln.code, str(ln.quantity), service_name(ln.service, lang),
                          use_name(ln.use, lang), ln.serial_number, amount)
        self.show_notes(notes, est)
        self.query_one("#desk-total", Static).update(Content(total_text(est, s.total_fen, "desk.total", lang)))
        if self.scanned_row is not None:
            table.move_cursor(row=min(self.scanned_row, len(s.lines) - 1), animate=False)

    def columns(self, *, lab: bool) -> list[str]:
        """The ticket table's headings; `lab`: with each line's state (in the lab: its service's word)."""
        lang = self.lang
        state = [t("desk.col.status", lang)] if lab else []
        return [t("col.item", lang), *state, t("col.code", lang), t("col.quantity", lang), t("col.service", lang),
                t("desk.col.use", lang), t("desk.col.serial", lang), t("col.amount", lang)]

    def show_notes(self, notes: dict[int, str], est: Estimate | None) -> None:
        """Under the table, per line (by its index), what its amount is made of or why it is free;
        then each discount, a line of its own."""
        said = [f"{i + 1}. {note}" for i, note in sorted(notes.items()) if note]
        text = "\n".join(said + discount_lines(est, self.lang))
        shown = self.query_one("#desk-notes", Static)
        shown.update(Content(text))
        shown.display = bool(text)  # no empty row when no line has anything to say

    def show_ticket(self, est: Estimate | None) -> None:
        """The ticket's number, organisation and status; under them the urgent tier and its promise."""
        lang, s = self.lang, self.summary
        assert s is not None  # drawn by show() only with a ticket
        head = t("desk.ticket", lang, number=s.number, organisation=s.organisation,
                 status=status_text(s.status, s.in_work, lang))
        received = next((step.at for step in self.steps if step.kind == "received"), None)
        promise = promise_text(est, s.created_at, received, self.app.info.calendar, lang)
        self.query_one("#desk-ticket", Static).update(Content(f"{head}\n{promise}" if promise else head))

    # ---- moving between counters -------------------------------------------------------------

    def action_to_receiving(self) -> None:
        self.switch_to("receiving")

    def action_to_dispatch(self) -> None:
        self.switch_to("dispatch")

    def switch_to(self, counter: Counter) -> None:
        if counter != self.COUNTER:
            self.post_message(CounterChosen(counter))

    def action_lock(self) -> None:
        self.app.action_lock()

    def action_followups(self) -> None:
        """The poor ratings to call back (screens/clerk/followups.py); Esc comes back here."""
        from screens.clerk.followups import FollowupsScreen

        self.app.push_screen(FollowupsScreen())

    def action_worklist(self) -> None:
        """在办清单 (screens/clerk/worklist.py): a ticket chosen there opens at dispatch."""
        from screens.clerk.worklist import WorklistScreen

        self.app.push_screen(WorklistScreen(), self.take_from_worklist)

    def take_from_worklist(self, number: str | None) -> None:
        if number is None:
            return
        if self.COUNTER == "dispatch":
            self.look_up(number)
        else:
            self.post_message(CounterChosen("dispatch", number))
