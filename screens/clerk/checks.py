"""The last gate at the dispatch counter (F5): every certificate checked against the intake before
it leaves the building (kiosk/domain/certificate_check.py has the rule).

One row per instrument taken in (a line of three gauges: three certificates). For the row chosen
(up / down), the clerk scans or types the certificate's number, taps its conclusion and each
point that is wrong, and records it (F5): nothing wrong, it passes; anything wrong, it goes back
to the lab with the words given and its own promise, and is checked again when it comes back. A
returned one the customer chooses to take as it is: F6, the words as the clerk's note.

Each step is written in the database thread (kiosk/store/certificate_checks.py); the modal's
result is None (the dispatch screen reads the states again). The numbers checked go with the
pickup where none was noted with F4 (kiosk/store/desk.py pick_up), so its slip prints them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static

from kiosk.domain import certificate_check as rule
from kiosk.i18n import t
from kiosk.i18n.checks_text import CONCLUSION_KEYS, POINT_KEYS, point_words
from screens.base import labelled, relabel_marked
from screens.clerk.editor import Editor
from screens.clerk.tables import fill_table

if TYPE_CHECKING:
    from textual.widgets.button import ButtonVariant

    from kiosk.domain.intake import CounterLine
    from kiosk.store.certificate_checks import CheckView

MAX_NUMBER = 40
# Narrowed when the box is narrow, in this order (cells): the serial number, the name, the number.
SHRINKABLE = {2: 6, 1: 10, 3: 8}


class ChecksLoaded(Message):
    def __init__(self, view: CheckView | None = None, done: rule.CheckFact | None = None,
                 error: Exception | None = None) -> None:
        super().__init__()
        self.view, self.done, self.error = view, done, error


def instruments(lines: Iterable[CounterLine]) -> list[tuple[int, int]]:
    """(position, instrument) of every certificate due: each instrument of each line not refused."""
    return [(i, k) for i, ln in enumerate(lines) if not ln.refused for k in range(ln.quantity)]


def state_text(state: rule.CertificateState | None, lang: str) -> str:
    if state is None or state.state == "unchecked":
        return t("check.state.unchecked", lang)
    if state.state == "returned":
        day = state.promised_on
        return t("check.state.returned", lang, date=f"{day:%m-%d}" if day else "")
    if state.state == "passed" and state.failed_verification:
        return t("check.state.notice", lang)
    return t("check.state.taken_as_is" if state.state == "taken_as_is" else "check.state.passed", lang)


class CertificateCheckScreen(Editor[None]):
    BINDINGS: ClassVar = [*Editor.BINDINGS, Binding("f5", "record", show=False, id="check_record"),
                          Binding("f6", "take", show=False, id="check_take"),
                          Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False)]

    def __init__(self, ticket_id: int, number: str, lines: Iterable[CounterLine],
                 numbers: dict[int, tuple[str, ...]]) -> None:
        """`lines`: in intake order; `numbers`: the F4 numbers noted."""
        super().__init__()
        self.ticket_id, self.number, self.lines = ticket_id, number, tuple(lines)
        self.numbers = dict(numbers)
        self.rows = instruments(self.lines)
        self.view: CheckView | None = None  # once read
        self.row = 0
        self.conclusion: str | None = None
        self.wrong: set[str] = set()
        self.message: tuple[str, dict[str, object]] = ("", {})  # i18n key and values (a value may be a wording)
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Static(id="editor-title")
            with Vertical(id="check-body"):
                yield Static(id="check-facts")
                table: DataTable[str] = DataTable(id="check-list", cursor_type="row", zebra_stripes=True)
                table.can_focus = False  # up / down move it; the keyboard belongs to the number
                yield table
                with Horizontal(classes="check-row"):
                    yield labelled(Static(classes="check-label"), "check.number")
                    yield Input(id="check-number", max_length=MAX_NUMBER * 2, compact=True)
                with Horizontal(classes="check-row", id="check-conclusions"):
                    for c in rule.CONCLUSIONS:
                        button = labelled(Button("", id=f"conclusion-{c}", compact=True), CONCLUSION_KEYS[c])
                        button.can_focus = False
                        yield button
                with Horizontal(classes="check-row", id="check-points"):
                    yield labelled(Static(classes="check-label"), "check.wrong")
                    for p in rule.POINTS:
                        button = labelled(Button("", id=f"point-{p}", compact=True), POINT_KEYS[p])
                        button.can_focus = False
                        yield button
                with Horizontal(classes="check-row"):
                    yield labelled(Static(classes="check-label"), "check.reason")
                    yield Input(id="check-reason", max_length=400, compact=True)
                yield Static(id="check-message")
            with Horizontal(classes="actions"):
                actions: tuple[tuple[str, str, ButtonVariant], ...] = (
                    ("check.back", "cancel", "default"), ("check.take", "take", "default"),
                    ("check.record", "record", "primary"))
                for key, id_, variant in actions:
                    button = labelled(Button("", id=id_, variant=variant, classes="big"), key)
                    button.can_focus = False
                    yield button

    def on_mount(self) -> None:
        self.query_one("#check-number", Input).focus()
        self.relabel()
        self.load()

    # ---- reading and writing, in the database thread ------------------------------------------

    def load(self, done: rule.CheckFact | None = None) -> None:
        self.run_worker(self._load(done), group="checks", exclusive=True)

    async def _load(self, done: rule.CheckFact | None) -> None:
        from kiosk.store.certificate_checks import check_view

        try:
            view = await self.app.in_db_thread(check_view, self.ticket_id)
        except Exception as e:  # noqa: BLE001 - a broken database must not crash the desk
            self.post_message(ChecksLoaded(error=e))
        else:
            self.post_message(ChecksLoaded(view, done))

    def on_checks_loaded(self, message: ChecksLoaded) -> None:
        self.busy = False
        if message.error is not None:
            self.message = ("check.refused", {"error": str(message.error)})
        else:
            self.view = message.view
            if message.done is not None:
                self.after(message.done)
        self.relabel()

    def after(self, done: rule.CheckFact) -> None:
        """A step was recorded: say so, clear the form, move on to the next certificate not done."""
        which = self.which(done.position, done.instrument)
        if done.kind == "taken_as_is":
            self.message = ("check.taken", {"which": which})
        elif done.outcome == "returned":
            wrong = done.wrong
            self.message = ("check.returned", {"which": which, "why": lambda lang: point_words(wrong, lang),
                                               "date": f"{done.promised_on:%Y-%m-%d}" if done.promised_on else ""})
        elif done.document == "notice":
            self.message = ("check.notice", {"which": which})
        else:
            self.message = ("check.passed", {"which": which})
        self.conclusion, self.wrong = None, set()
        self.query_one("#check-reason", Input).value = ""
        self.query_one("#check-number", Input).focus()  # the next certificate's scan
        states: dict[tuple[int, int], rule.CertificateState] = self.view.states if self.view else {}
        following = [i for i in range(len(self.rows)) if i > self.row and (
            self.rows[i] not in states or states[self.rows[i]].holds_pickup)]
        if following:
            self.row = following[0]
        self.fill_number()

    def which(self, position: int, instrument: int) -> str:
        quantity = self.lines[position].quantity if position < len(self.lines) else 1
        return f"{position + 1}" if quantity == 1 else f"{position + 1}-{instrument + 1}"

    def fill_number(self) -> None:
        """The chosen certificate's number: as last checked, else as noted with F4."""
        if not self.rows:
            return
        position, instrument = self.rows[self.row]
        state = self.view.states.get((position, instrument)) if self.view else None
        noted = self.numbers.get(position, ())
        number = state.last.certificate if state is not None and state.last is not None else (
            noted[instrument] if instrument < len(noted) else "")
        self.query_one("#check-number", Input).value = number

    def action_record(self) -> None:
        from kiosk.store.certificate_checks import CheckInput, record_check

        if self.busy or not self.rows:
            return
        position, instrument = self.rows[self.row]
        given = CheckInput(position, instrument, self.query_one("#check-number", Input).value, self.conclusion,
                           tuple(sorted(self.wrong)), self.query_one("#check-reason", Input).value)
        self.run_step(record_check, given, cal=self.app.info.calendar, now=self.app.wall_now(),
                      days=self.app.config.correction_days)

    def action_take(self) -> None:
        from kiosk.store.certificate_checks import take_as_is

        if self.busy or not self.rows:
            return
        position, instrument = self.rows[self.row]
        state = self.view.states.get((position, instrument)) if self.view else None
        if state is None or not state.holds_pickup:
            self.message = ("check.not_returned", {})
            self.relabel()
            return
        self.run_step(take_as_is, position, instrument, self.query_one("#check-reason", Input).value,
                      now=self.app.wall_now())

    def run_step(self, fn, *args, **kwargs) -> None:
        self.busy = True
        self.run_worker(self._step(fn, *args, **kwargs), group="check-step", exclusive=True)

    async def _step(self, fn, *args, **kwargs) -> None:
        from kiosk.store.certificate_checks import CheckRefused

        try:
            done = await self.app.in_db_thread(fn, self.ticket_id, self.app.clerk, self.app.device, *args, **kwargs)
        except CheckRefused as e:
            self.post_message(ChecksLoaded(self.view, error=e))
        except Exception as e:  # noqa: BLE001
            self.post_message(ChecksLoaded(self.view, error=e))
        else:
            self.app.sync_soon()
            await self._load(done)

    # ---- taps and keys -----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        name = event.button.id or ""
        if name == "cancel":
            self.dismiss(None)
        elif name == "record":
            self.action_record()
        elif name == "take":
            self.action_take()
        elif name.startswith("conclusion-"):
            chosen = name.removeprefix("conclusion-")
            self.conclusion = None if self.conclusion == chosen else chosen
            self.relabel()
        elif name.startswith("point-"):
            self.wrong ^= {name.removeprefix("point-")}
            self.relabel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter after a scanned number moves to the words; after the words, records."""
        event.stop()
        event.prevent_default()
        if event.input.id == "check-number":
            self.query_one("#check-reason", Input).focus()
        else:
            self.action_record()

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        self.row = max(0, min(len(self.rows) - 1, self.row + step))
        self.conclusion, self.wrong, self.message = None, set(), ("", {})
        self.fill_number()
        self.relabel()

    def action_save(self) -> None:
        self.action_record()

    # ---- drawing -----------------------------------------------------------------------------

    def relabel(self) -> None:
        lang = self.lang
        relabel_marked(self, lang)
        self.query_one("#editor-title", Static).update(Content(t("check.title", lang, number=self.number)))
        view = self.view
        facts = t("check.facts", lang, holder=view.holder, copies=view.copies) if view else ""
        chosen = self.lines[self.rows[self.row][0]] if self.rows else None
        if facts and chosen is not None and chosen.service == "verification" and chosen.cycle_months:
            facts += t("check.cycle", lang, months=chosen.cycle_months)  # the due date the certificate must give
        self.query_one("#check-facts", Static).update(Content(facts))
        self.query_one("#check-number", Input).placeholder = t("check.hint", lang)
        self.query_one("#check-reason", Input).placeholder = t("check.reason_hint", lang)
        table = self.query_one("#check-list", DataTable)
        states: dict[tuple[int, int], rule.CertificateState] = view.states if view else {}
        headers = [t("check.col.which", lang), t("check.col.name", lang), t("check.col.serial", lang),
                   t("check.col.number", lang), t("check.col.state", lang)]
        cells, flagged = [], []
        for position, instrument in self.rows:
            ln = self.lines[position]
            state = states.get((position, instrument))
            number = state.last.certificate if state is not None and state.last is not None else ""
            cells.append([self.which(position, instrument), ln.name_zh if lang == "zh" else ln.name_en,
                          ln.serial_number, number, state_text(state, lang)])
            flagged.append(state is not None and state.holds_pickup)
        # The modal's box: 90% of the screen (at most 100 cells) less its border.
        width = min(100, self.app.size.width * 9 // 10) - 2
        fill_table(table, headers, cells, [f"{p}-{k}" for p, k in self.rows], shrinkable=SHRINKABLE, width=width,
                   visible_rows=6, flagged=flagged, danger=f"bold {self.app.theme_variables.get('error', 'red')}")
        if self.rows:
            table.move_cursor(row=self.row, animate=False)
        service = self.lines[self.rows[self.row][0]].service if self.rows else "verification"
        allowed = rule.conclusions_for(service)
        for c in rule.CONCLUSIONS:
            button = self.query_one(f"#conclusion-{c}", Button)
            button.display = c in allowed
            button.variant = "primary" if self.conclusion == c else "default"
        applies = rule.points_for(service, self.conclusion)
        for p in rule.POINTS:
            button = self.query_one(f"#point-{p}", Button)
            button.display = p in applies
            button.variant = "error" if p in self.wrong else "default"
        key, values = self.message
        if not self.rows:
            key, values = "check.none", {}
        shown = {k: v(lang) if callable(v) else v for k, v in values.items()}
        held = sum(1 for s in states.values() if s.holds_pickup)
        summary = t("check.summary", lang, checked=sum(1 for r in self.rows if r in states), total=len(self.rows),
                    returned=held)
        self.query_one("#check-message", Static).update(
            Content(f"{t(key, lang, **shown)}\n{summary}" if key else summary))
