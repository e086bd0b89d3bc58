"""The clerk desk (`kiosk clerk`): a small App of its own, beside the lobby kiosk.

A clerk unlocks it with a PIN; it locks itself when idle. Database work runs in one
long-lived thread (as in the kiosk), awaited by async workers; results come back as
messages. Receipts (vouchers, pickup slips) print from the spool after the commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from .config import Config
from .i18n import t
from .station import Station

LOCK_SECONDS = 300  # no key for this long: the desk locks itself


class DeskReady(Message):
    def __init__(self, device) -> None:
        super().__init__()
        self.device = device


class DeskFailed(Message):
    """A database or service failure that is nobody's input error."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class DeskApp(Station, inherit_bindings=False):
    STATION = "desk"
    CSS_PATH: ClassVar = [Path(__file__).parent.parent / "screens" / "kiosk.tcss",
                          Path(__file__).parent.parent / "screens" / "clerk" / "desk.tcss"]
    ENABLE_COMMAND_PALETTE = False
    TITLE = "仪器收发室"
    def check_action(self, action: str, parameters) -> bool | None:
        from screens.clerk.scan import ScanField

        return not (action in ("focus_next", "focus_previous") and isinstance(self.focused, ScanField))

    BINDINGS: ClassVar = [
        Binding("ctrl+c,ctrl+z,ctrl+backslash,ctrl+p", "ignore", show=False, priority=True, id="lockdown"),
        Binding("ctrl+q", "quit", show=False, priority=True, id="quit"),
        Binding("f9", "lock", show=False, priority=True, id="lock"),
        # Priority, so focus moves before the next key is handled (a PIN typed right behind a
        # Tab lands in the PIN field); but not in the scan field, where Tab ends a scan.
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    language: reactive[str] = reactive("zh", init=False)

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic,
                 lock_seconds: float = LOCK_SECONDS) -> None:
        super().__init__(config)
        self.clock = clock
        self.lock_seconds = lock_seconds
        self.last_activity = clock()
        self.clerk = None  # kiosk.clerks.ClerkInfo while unlocked
        self.device = None
        self.set_reactive(DeskApp.language, config.language)

    def get_default_screen(self):
        from screens.clerk.unlock import UnlockScreen

        return UnlockScreen()

    def on_mount(self) -> None:
        self.title = t("desk.title", self.language)
        self.set_interval(1, self.idle_tick)
        self.open_database()

    @work(exclusive=True, group="open")
    async def open_database(self) -> None:
        try:
            device = await self.in_db_thread(self._open)
        except Exception as e:  # noqa: BLE001 - shown to the clerk, never a crash
            self.post_message(DeskFailed(str(e)))
        else:
            self.post_message(DeskReady(device))

    def _open(self):
        from db.connection import open_database

        from .catalog_store import ensure_catalog
        from .registration import ensure_device
        from .spool import recover_interrupted

        open_database(self.config.database)
        recover_interrupted()
        ensure_catalog()
        return ensure_device(self.config.device_prefix, role="clerk")

    def on_desk_ready(self, message: DeskReady) -> None:
        self.device = message.device
        self.print_receipts()
        self.sync_loop(self.device.uid)

    def on_desk_failed(self, message: DeskFailed) -> None:
        self.notify(t("desk.failed", self.language, error=message.error), severity="error", timeout=30)

    # ---- unlock and lock -------------------------------------------------------------------

    def unlocked(self, clerk) -> None:
        from screens.clerk.receiving import ReceivingScreen

        self.clerk = clerk
        self.last_activity = self.clock()
        self.push_screen(ReceivingScreen())

    def action_lock(self) -> None:
        """Back to the PIN screen; nothing of the last ticket stays on screen."""
        self.clerk = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if hasattr(self.screen, "reset"):
            self.screen.reset()

    def action_ignore(self) -> None:
        pass

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_activity = self.clock()
        await super().on_event(event)

    def idle_tick(self) -> None:
        if self.clerk is not None and self.clock() - self.last_activity >= self.lock_seconds:
            self.action_lock()

    # ---- language --------------------------------------------------------------------------

    def action_toggle_language(self) -> None:
        self.language = "en" if self.language == "zh" else "zh"

    def watch_language(self) -> None:
        self.title = t("desk.title", self.language)
        for screen in self.screen_stack:
            if hasattr(screen, "relabel"):
                screen.relabel()
