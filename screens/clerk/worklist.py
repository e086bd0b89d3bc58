"""在办清单 at the clerk desk (F12 from a counter): what the lab owes and who has not come to
collect (kiosk/store/worklist.py), late and overdue first. Enter takes the chosen ticket to the
dispatch counter, where it is marked ready (F6) or handed over (F7); Esc comes back.

The list is read in the database thread (`now` is a parameter, so a test can fix it) and
again after each sync pass that brought something. Customer text reaches the table as rich
Text, never as markup. Locking the desk pops this screen with everything on it."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from kiosk.i18n import t
from screens.base import labelled
from screens.clerk.tables import DeskList, fill_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from kiosk.domain.worklist import WorkItem, WorkList

# Narrowed when the screen is narrow, in this order (cells): the organisation, then the
# contact. The promise, the number and the phone never are.
SHRINKABLE = {2: 6, 4: 4}


class WorklistScreen(DeskList):
    """Its result: the number of the ticket chosen, or None (back)."""

    TITLE_KEY = "desk.worklist.title"
    BINDINGS: ClassVar = [Binding("f12", "back", show=False, id="worklist_back")]
    LIST_ID = "worklist-list"
    OPEN_KEY = "desk.worklist.open"

    def __init__(self, now: datetime | None = None) -> None:
        """`now`: the moment that decides what is late; None: the wall clock's, at each reading."""
        super().__init__()
        self.now = now
        self.worklist: WorkList | None = None  # once read
        self.error: str | None = None

    def compose_body(self) -> ComposeResult:
        yield labelled(Static(classes="desk-hint"), "desk.worklist.hint")
        yield Static(id="worklist-count", classes="followups-count")
        yield DataTable(id=self.LIST_ID, cursor_type="row", zebra_stripes=True)

    def reader(self) -> Callable[[], WorkList]:
        from kiosk.store.worklist import work_list

        return partial(work_list, self.now, self.app.info.calendar, self.app.config.pickup_days)

    def loaded(self, found: WorkList | None, error: Exception | None) -> None:
        if error is not None:
            self.error = str(error)
        else:
            self.worklist, self.error = found, None

    @property
    def selected(self) -> WorkItem | None:
        items = self.worklist.items if self.worklist else []
        row = self.query_one(f"#{self.LIST_ID}", DataTable).cursor_row
        return items[row] if 0 <= row < len(items) else None

    def action_open(self) -> None:
        item = self.selected
        if item is not None:
            self.dismiss(item.number)

    def action_back(self) -> None:
        self.dismiss(None)

    def show(self) -> None:
        lang = self.lang
        count = self.query_one("#worklist-count", Static)
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        keep = self.selected.ticket_id if self.selected is not None and table.row_count else None
        w = self.worklist
        if self.error is not None:
            count.update(Content(t("desk.worklist.failed", lang, error=self.error)))
        elif w is None:
            count.update(Content(t("desk.worklist.loading", lang)))
        elif not w.items:
            count.update(Content(t("desk.worklist.none", lang)))
        else:
            count.update(Content(t("desk.worklist.count", lang, lab=w.in_lab, late=w.in_lab_late, waiting=w.waiting,
                                   overdue=w.waiting_overdue, days=w.pickup_days)))
        table.display = bool(w and w.items)
        if w is None or not w.items:  # the table hidden
            return
        headers = [t(key, lang) for key in ("desk.worklist.col.state", "desk.worklist.col.number",
                                            "desk.worklist.col.organisation", "desk.worklist.col.instruments",
                                            "desk.worklist.col.contact", "desk.worklist.col.phone")]
        fill_table(table, headers, [self.cells(i, lang) for i in w.items], [str(i.ticket_id) for i in w.items],
                   shrinkable=SHRINKABLE, width=self.size.width or self.app.size.width,
                   visible_rows=(self.size.height or self.app.size.height) - 9,
                   flagged=[i.late for i in w.items], danger=f"bold {self.app.theme_variables.get('error', 'red')}")
        if keep is not None:
            at = next((n for n, i in enumerate(w.items) if i.ticket_id == keep), None)
            if at is not None:
                table.move_cursor(row=at, animate=False)

    def cells(self, item: WorkItem, lang: str) -> list[str]:
        from kiosk.i18n.worklist_text import state_text

        return [state_text(item, lang), item.number, item.organisation, str(item.instruments), item.contact,
                item.phone]
