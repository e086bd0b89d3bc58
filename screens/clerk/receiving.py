"""The receiving counter: scan (or type) a ticket, see its lines, correct the intake (fee row,
quantity, service, use, condition, accessories, serial number, refused) and record "received";
a pickup voucher prints.

The corrected intake lives in an `IntakeDraft` on this screen; every change is priced again
in the database thread with the ticket's catalogue version (kiosk.store.desk.price_intake, the same
pricing `receive` stores), and F5 passes it to `receive`. Scanning another ticket drops an
unsaved draft, and says so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from kiosk.i18n import money, service_name, t, use_name
from screens.base import big_button
from screens.clerk.counter import CounterScreen, StepDone, TicketLookedUp, amount_and_notes

if TYPE_CHECKING:
    from kiosk.domain.catalog import FeeRow
    from kiosk.store.desk import Intake, IntakeLineInput, PricedIntake
    from screens.clerk.intake import IntakeDraft

# A catalogue version's fee rows, by code (None: an estimate without a version, as typed).
Rows = tuple[int | None, Mapping[str, "FeeRow"]]


class IntakePriced(Message):
    """The draft of `ticket_id` at `generation` was priced (`priced`) or refused (`error`);
    `rows` is the ticket's catalogue version when it was not loaded yet: (version, {code: row})."""

    def __init__(self, ticket_id: int, generation: int, priced: PricedIntake | None = None, rows: Rows | None = None,
                 error: Exception | None = None) -> None:
        super().__init__()
        self.ticket_id, self.generation, self.priced, self.rows, self.error = ticket_id, generation, priced, rows, error


def _price(ticket_id: int, intake: Intake, known_versions: tuple[int | None, ...]) -> tuple[PricedIntake, Rows | None]:
    """In the database thread: the draft priced as `receive` would price it, and the catalogue
    rows of the ticket's version unless the screen has them already."""
    from kiosk.store.catalog import load_catalog
    from kiosk.store.desk import price_intake

    priced = price_intake(ticket_id, intake)
    rows = None if priced.version in known_versions else (priced.version, load_catalog(priced.version).by_code)
    return priced, rows


class ReceivingScreen(CounterScreen):
    COUNTER = "receiving"
    TITLE_KEY = "desk.receiving"
    HINT_KEY = "desk.scan_hint"
    STEP_KEY = "desk.step.received"
    BINDINGS: ClassVar = [*CounterScreen.BINDINGS, Binding("f5", "receive", show=False),
                          Binding("f4", "edit_line", show=False), Binding("f8", "refuse_line", show=False),
                          Binding("up", "line(-1)", show=False), Binding("down", "line(1)", show=False)]

    def __init__(self, number: str | None = None) -> None:
        super().__init__(number)
        self.draft: IntakeDraft | None = None  # of the ticket on screen, while registered
        self.cursor = 0  # the line F4 and F8 act on
        self.note: tuple[str, dict[str, object]] = ("", {})  # a second message: the intake's hint, or what was dropped
        self.catalogs: dict[int | None, Mapping[str, FeeRow]] = {}  # catalogue version -> {code: FeeRow}, loaded once
        self.priced: tuple[int, int, PricedIntake] | None = None  # (ticket id, draft generation, priced): line notes

    def compose_body(self) -> ComposeResult:
        for widget in super().compose_body():
            yield widget
            if widget.id == "desk-message":
                yield Static(id="intake-note", classes="desk-note")
            elif widget.id == "desk-total":
                # The receipt's figure beside the counter's, line by line, and why (empty: they agree).
                yield Static(id="intake-differences", classes="desk-note")

    def compose_actions(self) -> ComposeResult:
        for key, id_ in (("desk.edit_line", "edit_line"), ("desk.refuse_line", "refuse_line"),
                         ("desk.receive", "receive"), ("desk.to_dispatch", "to_dispatch"), ("desk.lock", "lock")):
            button = big_button(key, id_, "primary" if id_ == "receive" else "default")
            button.can_focus = False  # taps only: the keyboard belongs to the scan field
            yield button

    def found_message(self) -> tuple[str, dict[str, object]]:
        assert self.summary is not None  # asked only when a ticket was found (CounterScreen.on_ticket_looked_up)
        if self.summary.status != "registered":
            return self.already_message("received")
        return "", {}

    # ---- the ticket and its draft --------------------------------------------------------

    def on_ticket_looked_up(self, message: TicketLookedUp) -> None:
        previous, shown = self.draft, self.summary
        super().on_ticket_looked_up(message)
        message.prevent_default()  # the base handler ran; Textual must not run it again
        s = self.summary
        same = previous is not None and s is not None and s.id == previous.ticket_id
        unsaved = (previous is not None and previous.changed and shown is not None
                   and shown.id == previous.ticket_id and shown.status == "registered")
        self.note = (("desk.intake.discarded", {"number": previous.number}) if previous is not None and unsaved
                     and not same else ("", {}))
        if not same:
            self.draft, self.cursor = None, 0
            if s is not None and s.status == "registered":
                from screens.clerk.intake import IntakeDraft

                self.draft = IntakeDraft.of(s)
                self.price()
        if self.scanned_row is not None:  # an instrument label: its line
            self.cursor = self.scanned_row
        self.show()

    def price(self) -> None:
        d = self.draft
        assert d is not None  # priced only once a draft was made or changed
        self.run_worker(self._price(d.ticket_id, d.generation, d.intake(), tuple(self.catalogs)),
                        group="price", exclusive=True)

    async def _price(self, ticket_id: int, generation: int, intake: Intake, known: tuple[int | None, ...]) -> None:
        try:
            priced, rows = await self.app.in_db_thread(_price, ticket_id, intake, known)
        except Exception as e:  # noqa: BLE001 - a bad intake (TransitionError) or a broken database: said
            self.post_message(IntakePriced(ticket_id, generation, error=e))
        else:
            self.post_message(IntakePriced(ticket_id, generation, priced, rows))

    def on_intake_priced(self, message: IntakePriced) -> None:
        if message.rows is not None:
            version, rows = message.rows
            self.catalogs[version] = rows
        d = self.draft
        if d is None or d.ticket_id != message.ticket_id:
            return
        if message.priced is not None and d.rows is None:
            d.version = message.priced.version
            d.rows = self.catalogs.get(d.version)
        if message.generation != d.generation:
            return  # an older state of the draft; its own price is on the way
        if message.error is not None:
            d.failed = True
            self.message = ("desk.intake.bad", {"error": str(message.error)})
        else:
            priced = message.priced
            assert priced is not None  # IntakePriced carries a price or an error
            d.amounts, d.total_fen = priced.amounts, priced.total_fen
            d.basis, d.differences = priced.basis, priced.differences
            self.priced = (d.ticket_id, d.generation, priced)
        self.show()

    # ---- correcting lines ----------------------------------------------------------------

    def editable(self) -> bool:
        """A registered ticket whose catalogue rows are here, and no step under way."""
        if self.summary is None:
            self.message = ("desk.nothing", {})
        elif self.draft is None or self.summary.status != "registered":
            self.message = ("desk.intake.locked", {})
        else:  # while receiving, or while the catalogue is on its way, a key does nothing
            return not self.busy and self.draft.rows is not None
        self.show()
        return False

    def action_line(self, step: int) -> None:
        if self.summary is None:
            return
        count = len(self.draft.lines if self.draft else self.summary.lines)
        self.cursor = max(0, min(count - 1, self.cursor + step))
        self.query_one("#desk-lines", DataTable).move_cursor(row=self.cursor)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Only the table's present cursor: a redraw may still report the row it started on.
        if event.cursor_row == event.data_table.cursor_row:
            self.cursor = event.cursor_row

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A second tap on a line opens it."""
        self.cursor = event.cursor_row
        self.action_edit_line()

    def action_edit_line(self) -> None:
        from screens.clerk.intake import IntakeEditor

        if not self.editable():
            return
        d, index = self.draft, self.cursor
        assert d is not None and d.rows is not None  # editable() says so
        self.app.push_screen(IntakeEditor(d.lines[index], index, d.number, d.rows, d.version),
                             lambda line: self.line_edited(d.ticket_id, index, line))

    def line_edited(self, ticket_id: int, index: int, line: IntakeLineInput | None) -> None:
        d = self.draft
        if line is None or d is None or d.ticket_id != ticket_id or line == d.lines[index]:
            return
        was_refused = d.lines[index].refused
        d.set_line(index, line)
        if line.refused != was_refused:
            self.message = ("desk.intake.refused" if line.refused else "desk.intake.taken_back", {"line": index + 1})
        else:
            self.message = ("desk.intake.saved", {"line": index + 1})
        self.price()
        self.show()

    def action_refuse_line(self) -> None:
        from dataclasses import replace

        if not self.editable():
            return
        d, index = self.draft, self.cursor
        assert d is not None  # editable() says so
        self.line_edited(d.ticket_id, index, replace(d.lines[index], refused=not d.lines[index].refused))

    # ---- receiving -------------------------------------------------------------------------

    def action_receive(self) -> None:
        from kiosk.store.desk import receive

        d = self.draft
        if d is not None and self.summary is not None and d.ticket_id == self.summary.id:
            self.run_step(receive, d.intake(), lang=self.lang)
        else:
            self.run_step(receive, lang=self.lang)

    def on_step_done(self, message: StepDone) -> None:
        super().on_step_done(message)
        message.prevent_default()  # the base handler ran; Textual must not run it again
        refused = message.refused
        if refused is not None and refused.kind == "bad_intake":
            self.message = ("desk.intake.bad", {"error": str(refused)})
        self.note = ("", {})
        self.show()

    # ---- drawing ---------------------------------------------------------------------------

    def show(self) -> None:
        super().show()
        lang, d, s = self.lang, self.draft, self.summary
        if d is not None and (s is None or d.ticket_id != s.id):
            d = None  # a draft of another ticket than the one shown: not drawn
        key, values = self.note
        if not key and d is not None and s is not None and s.status == "registered":
            key, values = "desk.intake.hint", {}
        self.query_one("#intake-note", Static).update(Content(t(key, lang, **values) if key else ""))
        self.show_differences(d)
        if d is None:
            return
        table = self.query_one("#desk-lines", DataTable)
        table.clear(columns=True)
        table.add_columns(t("col.item", lang), t("desk.col.status", lang), t("col.code", lang),
                          t("col.quantity", lang), t("col.amount", lang), t("col.service", lang),
                          t("desk.col.use", lang), t("desk.col.serial", lang))
        est = self.priced[2].estimate if self.priced is not None and self.priced[:2] == (d.ticket_id, d.generation) \
            else None
        priced = iter(est.lines if est is not None else ())
        notes = {}
        for i, ln in enumerate(d.lines):
            status = t("desk.refused", lang) if ln.refused else t("desk.intake.edited", lang) if d.edited(i) else ""
            # free (and why), add-ons, urgent surcharge: as the kiosk's estimate words them
            line = None if ln.refused else next(priced, None)
            amount, notes[i] = amount_and_notes(line, est.urgent if est else None, lang)
            if line is None:  # refused, or its notes not priced yet
                amount = "" if ln.refused or d.amounts is None else money(d.amounts[i], lang)
            table.add_row(f"{i + 1}. {d.name(i, lang)}", status, ln.code, str(ln.quantity), amount,
                          service_name(ln.service, lang), use_name(ln.use, lang), ln.serial_number)
        self.show_notes(notes, est)
        self.cursor = min(self.cursor, len(d.lines) - 1)
        table.move_cursor(row=self.cursor, animate=False)
        total = self.query_one("#desk-total", Static)
        if d.failed:
            total.update("")
        elif d.total_fen is None:
            total.update(Content(t("desk.intake.pricing", lang)))
        elif d.changed or d.total_fen != d.registered_total:
            total.update(Content(t("desk.intake.total", lang, amount=money(d.total_fen, lang),
                                   registered=money(d.registered_total, lang))))

    def show_differences(self, d: IntakeDraft | None) -> None:
        """Why the counter's figures are not the receipt's: this desk's catalogue or policy (the
        receipt's figures stand while nothing is changed), and each line that differs. `d`: the
        draft of the ticket shown (None: none)."""
        from kiosk.i18n.repricing_text import basis_note, difference_text

        lang = self.lang
        said = []
        if d is not None and d.total_fen is not None and not d.failed:
            if d.basis != "same" and not d.changed:
                said.append(basis_note(d.basis, lang))
            said.extend(difference_text(diff, lang) for diff in d.differences)
        shown = self.query_one("#intake-differences", Static)
        shown.update(Content("\n".join(said)))
        shown.display = bool(said)
