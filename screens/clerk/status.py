"""The clerk desk's status line: the printer, the sync backlog and the last sync, in one line
at the bottom of the counter screens. Nothing about a customer is on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from kiosk.i18n import t
from kiosk.i18n.keys import PRINT_REASONS

if TYPE_CHECKING:
    from textual import getters

    from kiosk.ops.doctor import Check
    from screens.clerk.host import DeskHost
    from screens.station import SyncState


def status_line(printer: Check | None, sync: SyncState | None, lang: str) -> str:
    """`printer`: the printer's check (None: not asked yet); `sync`: the sync's state."""
    if printer is None:
        shown = t("status.printer.unknown", lang)
    elif printer.level == "fail":
        kind = printer.data.get("kind", "error")
        shown = t("status.printer.fault", lang, reason=t(PRINT_REASONS[kind], lang))
    elif printer.level == "warn":
        shown = t("status.printer.paper_low", lang)
    else:
        shown = t("status.printer.ok", lang)
    parts = [shown]
    if sync is None or not sync.enrolled:
        parts.append(t("status.sync.standalone", lang))
    else:
        if sync.problem:
            parts.append(t("status.sync.problem", lang, problem=sync.problem))
        else:
            parts.append(t("sync.offline" if sync.online is False else "sync.online", lang))
        parts.append(t("status.sync.waiting", lang, count=sync.waiting))
        if sync.parked:
            parts.append(t("status.sync.parked", lang, count=sync.parked))
        if sync.changes_parked:
            parts.append(t("status.sync.changes_parked", lang, count=sync.changes_parked))
        parts.append(t("status.sync.last", lang, time=f"{sync.last_sync:%H:%M}") if sync.last_sync
                     else t("status.sync.never", lang))
    return " · ".join(parts)


class DeskStatus(Static):
    """The line on the desk's counter screens (screens.clerk.app.DeskApp redraws it when the
    printer answers; the screen, at each sync pass and language switch)."""

    DEFAULT_CLASSES = "desk-status"

    if TYPE_CHECKING:  # the desk's app (screens/clerk/host.py), for the type checker only
        app = getters.app(DeskHost)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        app = self.app
        printer = app.printer_status
        self.set_class(printer is not None and printer.level == "fail", "-fault")
        self.update(status_line(printer, app.sync_state, app.language))
