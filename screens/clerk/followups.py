"""回访 at the clerk desk (F10 from a counter): the poor ratings to call back, overdue first.

The list reads kiosk.store.feedback.open_followups in the database thread (`today` is a parameter,
so a test can fix it), with what was recorded of each work order (kiosk.store.window_ratings.records:
its call-backs and its rating's appeals, here or at other desks, which sync brings). Enter opens
one (FollowupDetail, a modal with a typed result, `Done`): its whole reason and comment, the
number to call (in full: clerks call), what was recorded so far, and one text field:
- F5 closes it with the note and the customer's rating of the fix, if given (满意 基本满意 不满意:
  kiosk.store.feedback.close_followup with `fix`);
- F6 logs a call-back, reached or not, and what was said (window_ratings.call_back, `followup.called`);
- F7 files an appeal against the rating with the reason (window_ratings.appeal_work_order,
  `rating.appealed`), for a supervisor to decide (at a desk or in the back office).
Each is the row and its outbox event in one transaction, with the unlocked clerk, in the database
thread; then sync is asked to push it. Closed meanwhile (another desk, the back office, through
sync): said, with who and when, and the list is read again.

Customer text reaches widgets as Content / rich Text, never as markup. Locking the desk pops
these screens with everything on them (DeskApp.action_lock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, RadioButton, RadioSet, Static

from kiosk.domain.clock import local
from kiosk.domain.clock import today as institute_today
from kiosk.i18n import date_text, t
from kiosk.i18n.keys import FEEDBACK_LEVELS, FEEDBACK_REASONS
from screens.base import LabelledInput, labelled, relabel_marked
from screens.clerk.editor import Editor
from screens.clerk.tables import DeskList, fill_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from db.models import Device
    from kiosk.domain.feedback import ClosedBy, FollowupClosed, FollowupError, OpenFollowup
    from kiosk.domain.validation import FieldError
    from kiosk.store.clerks import ClerkInfo
    from kiosk.store.window_ratings import RatingError, Records

# The columns narrowed when the screen is narrow, in this order, and how far (cells): the
# comment, then the reason, then the rating. The due date, the number and the phone never are.
SHRINKABLE = {5: 8, 3: 8, 2: 8}


Action = Literal["close", "call", "appeal"]
# The customer's rating of the fix (kiosk/domain/feedback.py FIX_LEVELS) and "not given", with their labels.
FIX_CHOICES = (("satisfied", "ratings.fix.satisfied"), ("basic", "ratings.fix.basic"),
               ("dissatisfied", "ratings.fix.dissatisfied"), ("none", "desk.followups.fix_none"))


@dataclass(frozen=True)
class Done:
    """What the detail asks for: close it (F5, `fix`: the customer's rating of the fix or None),
    log a call (F6, `reached`), appeal (F7); `text` cleaned: the close's note, what was said, the
    appeal's reason."""

    action: Action
    text: str
    reached: bool = True
    fix: str | None = None


@dataclass
class FollowupClosedHere(Message):
    """The close (or call, or appeal: `action`) of `followup` finished: `closed`, or `refused`
    (its `kind` says why), or `failed` otherwise; `by`: who closed it first when it was closed
    meanwhile."""

    followup: OpenFollowup
    closed: FollowupClosed | None = None
    refused: FollowupError | RatingError | None = None  # a close's refusal, or a call's or an appeal's
    failed: Exception | None = None
    by: ClosedBy | None = None
    action: Action = "close"


def level_text(rating: int, lang: str) -> str:
    from kiosk.domain.feedback import LEVELS

    return t(FEEDBACK_LEVELS[LEVELS[rating]], lang) if rating in LEVELS else str(rating)


def reason_text(reason: str | None, lang: str) -> str:
    from kiosk.domain.feedback import REASONS

    return t(FEEDBACK_REASONS[reason], lang) if reason in REASONS else (reason or "")


def _close(followup_id: int, clerk: ClerkInfo | None, note: str, device: Device | None,
           fix: str | None = None) -> tuple[FollowupClosed | None, FollowupError | None, ClosedBy | None]:
    """In the database thread: close it (with the fix rated, or None), or say who closed it first."""
    from kiosk.domain.feedback import FollowupError
    from kiosk.store.feedback import close_followup, who_closed

    try:
        return close_followup(followup_id, clerk, note, device, fix=fix), None, None
    except FollowupError as e:
        return None, e, who_closed(followup_id) if e.kind in ("closed", "no_followup") else None


def _record(done: Done, followup_id: int, clerk: ClerkInfo | None,
            device: Device | None) -> tuple[None, RatingError | None, ClosedBy | None]:
    """In the database thread: a call-back or an appeal (RatingError's kind as a refusal)."""
    from kiosk.store.feedback import who_closed
    from kiosk.store.window_ratings import RatingError, appeal_work_order, call_back

    try:
        if done.action == "call":
            call_back(followup_id, clerk, done.reached, done.text, device)
        else:
            appeal_work_order(followup_id, clerk, done.text, device)
        return None, None, None
    except RatingError as e:
        return None, e, who_closed(followup_id) if e.kind in ("closed", "no_followup") else None


def _read(today: date | None) -> tuple[list[OpenFollowup], dict[int, Records]]:
    """In the database thread: the open work orders and what was recorded of each."""
    from kiosk.store.feedback import open_followups
    from kiosk.store.window_ratings import records

    found = open_followups(today)
    return found, records([f.id for f in found])


def when_text(at, lang: str) -> str:
    return f"{local(at):%Y-%m-%d %H:%M}"


def who_text(name: str | None, desk: str | None, lang: str) -> str:
    name = name or t("desk.followups.nobody", lang)
    return t("desk.followups.at_desk", lang, name=name, desk=desk) if desk else name


def record_lines(records: Records | None, lang: str) -> list[str]:
    """The call-backs and appeals recorded of a work order (here or at other desks), oldest first."""
    if records is None:
        return []
    lines = []
    if records.calls:
        lines.append(t("desk.followups.calls", lang))
        lines += [t("desk.followups.call_line", lang, time=when_text(c.at, lang), who=who_text(c.name, c.desk, lang),
                    state=t("desk.followups.call_reached" if c.reached else "desk.followups.call_missed", lang),
                    note=c.note or t("desk.followups.nobody", lang)) for c in records.calls]
    if records.appeals:
        lines.append(t("desk.followups.appeals", lang))
        for a in records.appeals:
            by = a.decided_by or (t("desk.followups.office", lang) if a.via == "office" else
                                  t("desk.followups.someone", lang))
            decided = {"upheld": "desk.followups.appeal_upheld", "rejected": "desk.followups.appeal_rejected"}
            state = (t(decided[a.decision], lang, by=by, reason=a.decision_reason or "")
                     if a.decision in decided else t("desk.followups.appeal_waiting", lang))
            lines.append(t("desk.followups.appeal_line", lang, time=when_text(a.at, lang),
                           who=who_text(a.name, a.desk, lang), reason=a.reason, state=state))
    return lines


class FollowupsScreen(DeskList):
    TITLE_KEY = "desk.followups.title"
    BINDINGS: ClassVar = [Binding("f10", "back", show=False, id="followups_back")]
    LIST_ID = "followups-list"
    OPEN_KEY = "desk.followups.open"

    def __init__(self, today: date | None = None) -> None:
        """`today`: the day that decides what is overdue; None: the wall clock's, at each reading."""
        super().__init__()
        self.today = today
        self.followups: list[OpenFollowup] | None = None  # None: not read yet
        self.records: dict[int, Records] = {}  # work order id -> what was recorded of it
        self.message: tuple[str, dict[str, object]] = ("", {})  # an i18n key and its values
        self.busy = False  # a close under way

    def compose_body(self) -> ComposeResult:
        yield labelled(Static(classes="desk-hint"), "desk.followups.hint")
        yield Static(id="followups-message", classes="desk-message")
        yield Static(id="followups-count", classes="followups-count")
        yield DataTable(id=self.LIST_ID, cursor_type="row", zebra_stripes=True)

    # ---- reading ---------------------------------------------------------------------------

    def reader(self) -> Callable[[], object]:
        return lambda: _read(self.today)

    def loaded(self, found: tuple[list[OpenFollowup], dict[int, Records]] | None, error: Exception | None) -> None:
        if error is not None:
            self.message = ("desk.followups.failed", {"error": str(error)})
        else:
            assert found is not None  # read, without an error (DeskList._load)
            self.followups, self.records = found

    def may_reload(self) -> bool:
        return not self.busy

    # ---- choosing and closing -------------------------------------------------------------

    @property
    def selected(self) -> OpenFollowup | None:
        if not self.followups:
            return None
        row = self.query_one("#followups-list", DataTable).cursor_row
        return self.followups[row] if 0 <= row < len(self.followups) else None

    def action_open(self) -> None:
        followup = self.selected
        if followup is None or self.busy:
            return
        self.app.push_screen(FollowupDetail(followup, self.today, self.records.get(followup.id)),
                             lambda done: self.noted(followup, done))

    def noted(self, followup: OpenFollowup, done: Done | None) -> None:
        if done is None or self.busy:
            return
        self.busy = True
        self.message = ({"close": "desk.followups.closing", "call": "desk.followups.calling",
                         "appeal": "desk.followups.appealing"}[done.action], {})
        self.show()
        self.run_worker(self._close(followup, done, self.app.clerk, self.app.device), group="close", exclusive=True)

    async def _close(self, followup: OpenFollowup, done: Done, clerk: ClerkInfo | None, device: Device | None) -> None:
        closed: FollowupClosed | None
        refused: FollowupError | RatingError | None
        try:
            if done.action == "close":
                closed, refused, by = await self.app.in_db_thread(_close, followup.id, clerk, done.text, device,
                                                                  done.fix)
            else:
                closed, refused, by = await self.app.in_db_thread(_record, done, followup.id, clerk, device)
        except Exception as e:  # noqa: BLE001
            self.post_message(FollowupClosedHere(followup, failed=e, action=done.action))
        else:
            self.post_message(FollowupClosedHere(followup, closed, refused, by=by, action=done.action))

    def on_followup_closed_here(self, message: FollowupClosedHere) -> None:
        self.busy = False
        f, refused = message.followup, message.refused
        if refused is None and message.failed is None:
            what = t("desk.followups.ticket", self.lang, number=f.number) if f.number else \
                t("desk.followups.anonymous", self.lang)
            self.message = ({"close": "desk.followups.closed", "call": "desk.followups.called",
                             "appeal": "desk.followups.appealed"}[message.action], {"what": what})
            self.app.sync_soon()
        elif refused is not None and refused.kind == "appeal_open":
            self.message = ("desk.followups.appeal_open", {})
        elif refused is not None and refused.kind == "set_aside":
            self.message = ("desk.followups.set_aside", {})
        elif refused is not None and refused.kind in ("closed", "no_followup"):
            by = message.by
            if by is not None and by.at is not None:
                self.message = ("desk.followups.closed_meanwhile", {
                    "time": f"{local(by.at):%Y-%m-%d %H:%M}", "name": by.name or ""})
            else:
                self.message = ("desk.followups.gone", {})
        else:
            self.message = ("desk.followups.failed", {"error": str(refused or message.failed)})
        self.load()
        self.show()

    # ---- drawing ----------------------------------------------------------------------------

    def show(self) -> None:
        lang = self.lang
        key, values = self.message
        if key == "desk.followups.closed_meanwhile" and not values.get("name"):
            values = {**values, "name": t("desk.followups.someone", lang)}
        self.query_one("#followups-message", Static).update(Content(t(key, lang, **values) if key else ""))
        count = self.query_one("#followups-count", Static)
        table = self.query_one("#followups-list", DataTable)
        keep = self.selected.id if self.selected is not None and table.row_count else None
        followups = self.followups
        if followups is None:
            count.update(Content(t("desk.followups.loading", lang)))
            table.display = False
            return
        if not followups:
            count.update(Content(t("desk.followups.none", lang)))
            table.display = False
            return
        overdue = sum(1 for f in followups if f.overdue)
        count.update(Content(t("desk.followups.count_overdue", lang, count=len(followups), overdue=overdue)
                             if overdue else t("desk.followups.count", lang, count=len(followups))))
        if not table.display or self.focused is None:
            # Shown now (it was hidden while loading, and the screen's auto-focus may have given a
            # button the focus meanwhile, on a busy machine): the keyboard is the list's.
            table.display = True
            table.focus()
        headers = [t(key, lang) for key in ("desk.followups.col.due", "desk.followups.col.number",
                                            "desk.followups.col.rating", "desk.followups.col.reason",
                                            "desk.followups.col.phone", "desk.followups.col.comment")]
        fill_table(table, headers, [self.cells(f, lang) for f in followups], [str(f.id) for f in followups],
                   shrinkable=SHRINKABLE, width=self.size.width or self.app.size.width,
                   visible_rows=self.table_rows(), flagged=[f.overdue for f in followups],
                   danger=f"bold {self.app.theme_variables.get('error', 'red')}")
        if keep is not None:
            at = next((i for i, f in enumerate(followups) if f.id == keep), None)
            if at is not None:
                table.move_cursor(row=at, animate=False)

    def table_rows(self) -> int:
        """About how many lines the table gets: the screen less the title bar, the hint, the
        message and count lines, and the buttons."""
        return (self.size.height or self.app.size.height) - 10

    def cells(self, f: OpenFollowup, lang: str) -> list[str]:
        this_year = (self.today or institute_today()).year
        due = f"{f.due_on:%m-%d}" if f.due_on.year == this_year else f"{f.due_on:%Y-%m-%d}"  # whole in the detail
        if f.overdue:
            due += " " + t("desk.followups.overdue", lang)
        comment = " ".join(x for x in (f.reason_text, f.comment) if x)
        return [due, f.number or t("desk.followups.anonymous", lang), level_text(f.rating, lang),
                reason_text(f.reason, lang), f.phone or t("desk.followups.no_phone", lang), comment]


class FollowupDetail(Editor[Done | None]):
    """One follow-up in full, what was recorded of it, and one text: the close's note (F5), what
    was said on a call (F6, reached or not), an appeal's reason (F7). The result: Done; None: back."""

    BINDINGS: ClassVar = [Binding("f5", "save", show=False, id="close_followup"),
                          Binding("f6", "call", show=False, id="call_followup"),
                          Binding("f7", "appeal", show=False, id="appeal_rating")]

    def __init__(self, followup: OpenFollowup, today: date | None = None, records: Records | None = None) -> None:
        super().__init__()
        self.followup, self.today, self.records = followup, today, records
        self.error: FieldError | None = None  # of the note

    def compose(self) -> ComposeResult:
        from kiosk.domain.feedback import MAX_NOTE

        with Vertical(id="editor"):
            yield Static(id="editor-title")
            body = VerticalScroll(id="editor-body")
            body.can_focus = False
            with body:
                yield Static(id="followup-detail")
                # Room to paste too much: the clerk is told the limit instead of losing the end.
                yield LabelledInput("note", "desk.followups.note", max_length=MAX_NOTE * 2)
                yield labelled(Checkbox("", value=True, id="followup-reached"), "desk.followups.reached")
                # The customer's rating of the fix, recorded with the close (F5); none until they say.
                yield RadioSet(*(labelled(RadioButton("", value=level == "none", id=f"fix-{level}"), key)
                                 for level, key in FIX_CHOICES), id="followup-fix")
                yield Static(id="followup-note-hint", classes="desk-note")
            with Horizontal(classes="actions"):
                yield labelled(Button("", id="cancel", classes="big"), "desk.followups.back")
                yield labelled(Button("", id="call", classes="big", action="screen.call"), "desk.followups.call")
                yield labelled(Button("", id="appeal", classes="big", action="screen.appeal"),
                               "desk.followups.appeal")
                yield labelled(Button("", id="save", variant="primary", classes="big"), "desk.followups.close")

    def on_mount(self) -> None:
        self.relabel()
        # The rating and its reason, at the top, are what the clerk reads first: the note takes the
        # keys without scrolling them out of sight (at 80x24 it sits below them).
        self.query_one("#field-note", Input).focus(scroll_visible=False)

    def relabel(self) -> None:
        from kiosk.domain.feedback import MAX_NOTE

        lang, f = self.lang, self.followup
        self.query_one("#editor-title", Static).update(Content(
            t("desk.followups.detail_title", lang, number=f.number) if f.number
            else t("desk.followups.detail_anonymous", lang)))
        lines = [t("desk.followups.rating", lang, level=level_text(f.rating, lang))]
        if f.reason:
            lines.append(t("desk.followups.reason", lang, reason=reason_text(f.reason, lang)))
        if f.reason_text:
            lines.append(t("desk.followups.reason_text", lang, text=f.reason_text))
        lines.append(t("desk.followups.comment", lang, text=f.comment) if f.comment
                     else t("desk.followups.no_comment", lang))
        lines.append(t("desk.followups.phone", lang, phone=f.phone) if f.phone
                     else t("desk.followups.phone_none", lang))
        due = date_text(f.due_on, lang)
        lines.append(t("desk.followups.due_overdue" if f.overdue else "desk.followups.due", lang, date=due))
        given = date_text(local(f.given_at).date(), lang)
        window = t("pad.counter", lang, counter=f.counter) if f.counter else None  # rated on its pad
        place = window or f.kiosk
        lines.append(t("desk.followups.given_at", lang, date=given, kiosk=place) if place
                     else t("desk.followups.given", lang, date=given))
        who = ("　" if lang == "zh" else ", ").join(x for x in (window or f.desk, f.clerk) if x)
        if who:
            lines.append(t("desk.followups.served", lang, who=who))
        lines += record_lines(self.records, lang)
        self.query_one("#followup-detail", Static).update(Content("\n".join(lines)))
        self.query_one("#followup-note-hint", Static).update(Content(t("desk.followups.actions_hint", lang,
                                                                       max=MAX_NOTE)))
        self.query_one("#followup-fix", RadioSet).border_title = t("desk.followups.fix", lang)
        relabel_marked(self, lang)
        self.query_one(LabelledInput).show_error(self.error)

    def action_save(self) -> None:
        self._done("close", "desk.followups.note_required")

    def action_call(self) -> None:
        self._done("call", "desk.followups.call_required")

    def action_appeal(self) -> None:
        self._done("appeal", "desk.followups.appeal_required")

    def _done(self, action: Action, required: str) -> None:
        """The text, cleaned, and what to do with it; a call not reached may say nothing."""
        from kiosk.domain.feedback import MAX_NOTE
        from kiosk.domain.validation import FieldError, clean_text

        field = self.query_one(LabelledInput)
        reached = self.query_one("#followup-reached", Checkbox).value
        try:
            note = clean_text(field.value, required=action != "call" or reached, max_length=MAX_NOTE)
        except FieldError as e:
            self.error = FieldError(required) if e.key == "error.required" else e
            field.show_error(self.error)
            field.input.focus()
            return
        pressed = self.query_one("#followup-fix", RadioSet).pressed_button
        fix = (pressed.id or "").removeprefix("fix-") if pressed is not None else "none"
        self.dismiss(Done(action, note, reached, fix if action == "close" and fix != "none" else None))
