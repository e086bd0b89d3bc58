"""What the desk's screens use of their app beyond the Station's, for the type checker only
(as screens/host.py, which this extends): nothing imports this module at run time. The screens
cannot import screens.clerk.app.DeskApp: it imports them (no import circles, pyproject's
[tool.importlinter]), so they type `self.app` with DeskHost (`app = getters.app(DeskHost)`
under TYPE_CHECKING); screens/clerk/app.py checks that DeskApp has all of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from screens.host import StationHost, StationSurface

if TYPE_CHECKING:
    from db.models import Device
    from kiosk.ops.doctor import Check
    from kiosk.store.clerks import ClerkInfo
    from screens.station import SyncState


class DeskSurface(StationSurface, Protocol):
    """screens.clerk.app.DeskApp: the clerk desk."""

    clerk: ClerkInfo | None  # while unlocked
    device: Device | None  # once the database is open
    printer_status: Check | None  # the printer as last asked (the status line); None: not yet

    @property
    def sync_state(self) -> SyncState: ...  # the whole of it: the desk's status line shows the backlog too

    def unlocked(self, clerk: ClerkInfo) -> None: ...
    def action_lock(self) -> None: ...
    def print_receipts(self) -> None: ...


class DeskHost(StationHost, DeskSurface):
    """`self.app` of a desk screen or widget."""
