"""Lists at the clerk desk (follow-ups, the work list): a DataTable whose columns fit the
screen, measured in display cells, the first cell of a flagged row in the theme's error
colour. Customer text goes in as rich Text, never as markup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable

from kiosk.i18n.textwidth import cell_width, truncate
from screens.base import KioskScreen, big_button

if TYPE_CHECKING:
    from textual import getters

    from screens.clerk.host import DeskHost


def fit_columns(natural: list[int], shrinkable: dict[int, int], room: int) -> list[int]:
    """Column widths in cells: the natural ones, narrowed to fit `room` by cutting the
    `shrinkable` columns ({column: narrowest}) in that order, each down to its narrowest
    before the next one."""
    widths = list(natural)
    excess = sum(widths) - room
    for column, least in shrinkable.items():
        if excess <= 0:
            break
        cut = min(excess, max(0, widths[column] - least))
        widths[column] -= cut
        excess -= cut
    return widths


def fill_table(table: DataTable, headers: list[str], rows: list[list[str]], keys: list[str], *,
               shrinkable: dict[int, int], width: int, visible_rows: int, flagged: Sequence[bool],
               danger: str) -> None:
    """Columns and rows, from scratch. `width`: the screen's; `visible_rows`: about how many
    lines the table gets (a scroll bar takes room when the rows need more)."""
    table.clear(columns=True)
    natural = [max(cell_width(h), *(cell_width(r[i]) for r in rows)) for i, h in enumerate(headers)]
    # The screen less the body's padding (one cell either side), the scroll bar, and each
    # cell's padding (one either side).
    bar = 2 if len(rows) + 1 > visible_rows else 0
    widths = fit_columns(natural, shrinkable, max(40, width - 2 - bar - 2 * len(headers)))
    for header, w in zip(headers, widths, strict=True):
        table.add_column(truncate(header, w), width=w)
    for cells, key, flag in zip(rows, keys, flagged, strict=True):
        shown = [Text(truncate(c, w)) for c, w in zip(cells, widths, strict=True)]
        if flag:
            shown[0].stylize(danger)
        table.add_row(*shown, key=key)


class ListLoaded(Message):
    def __init__(self, found: object = None, error: Exception | None = None) -> None:
        super().__init__()
        self.found, self.error = found, error


class DeskList(KioskScreen):
    """A list at the desk (follow-ups, the work list): read in the database thread, and again
    after each sync pass that brought news; the keyboard belongs to the table, Enter or a
    tap opens the row (`action_open`). Subclasses give the table's id, the open button's
    label, `reader()`, `loaded()` and `show()`."""

    LIST_ID = ""
    OPEN_KEY = ""

    if TYPE_CHECKING:  # the desk's app (screens/clerk/host.py), for the type checker only
        app = getters.app(DeskHost)

    def __init__(self) -> None:
        super().__init__()
        self.synced_at = None  # the last sync pass seen: a newer one reads the list again

    def compose_actions(self) -> ComposeResult:
        for key, id_ in ((self.OPEN_KEY, "open"), ("desk.followups.back", "back"), ("desk.lock", "lock")):
            button = big_button(key, id_, "primary" if id_ == "open" else "default")
            button.can_focus = False  # the keyboard belongs to the list
            yield button

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(f"#{self.LIST_ID}", DataTable).focus()
        self.load()

    def reader(self) -> Callable[[], object]:
        """What to run in the database thread (built here: a thread cannot reach self.app)."""
        raise NotImplementedError

    def loaded(self, found, error: Exception | None) -> None:
        raise NotImplementedError

    def load(self) -> None:
        self.run_worker(self._load(self.reader()), group=self.LIST_ID, exclusive=True)

    async def _load(self, read: Callable[[], object]) -> None:
        try:
            found = await self.app.in_db_thread(read)
        except Exception as e:  # noqa: BLE001 - a broken database must not crash the desk
            self.post_message(ListLoaded(error=e))
        else:
            self.post_message(ListLoaded(found))

    def on_list_loaded(self, message: ListLoaded) -> None:
        self.loaded(message.found, message.error)
        self.show()

    def may_reload(self) -> bool:
        return True

    def show_sync(self, state) -> None:
        super().show_sync(state)
        # A pass brought news (a rating, a step or a close elsewhere): read the list again.
        if state is not None and state.last_sync is not None and state.last_sync != self.synced_at:
            first = self.synced_at is None
            self.synced_at = state.last_sync
            if not first and self.is_mounted and self.may_reload():
                self.load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        raise NotImplementedError

    def action_lock(self) -> None:
        self.app.action_lock()

    def relabel(self) -> None:
        super().relabel()
        if self.is_mounted:
            self.show()

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        raise NotImplementedError
