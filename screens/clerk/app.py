"""The clerk desk (`kiosk clerk`): a small App of its own, beside the lobby kiosk.

A clerk unlocks it with a PIN; it locks itself when idle. Database work runs in one
long-lived thread (as in the kiosk), awaited by async workers; results come back as
messages. Receipts (vouchers, pickup slips) print from the spool after the commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.binding import Binding
from textual.message import Message

from kiosk.i18n import t
from kiosk.i18n.keys import PRINT_REASONS
from kiosk.settings.config import Config
from screens.base import EDITOR_CSS, FIELDS_CSS
from screens.station import Station

if TYPE_CHECKING:
    from db.models import Device
    from kiosk.ops.doctor import Check, Msg
    from kiosk.store.clerks import ClerkInfo
    from screens.clerk.counter import CounterChosen
    from screens.clerk.host import DeskSurface
    from screens.clerk.unlock import UnlockScreen

LOCK_SECONDS = 300  # no key for this long: the desk locks itself


class DeskReady(Message):
    def __init__(self, device: Device) -> None:
        super().__init__()
        self.device = device


class DeskFailed(Message):
    """A database or service failure that is nobody's input error."""

    def __init__(self, error: str, problem: Msg | None = None) -> None:
        super().__init__()
        self.error = error
        self.problem = problem  # kiosk.ops.doctor.Msg: a full, read-only or damaged database, in words


class PrinterChecked(Message):
    def __init__(self, check: Check) -> None:
        super().__init__()
        self.check = check


PRINTER_PROBE_SECONDS = 60  # the status line asks the printer this often, between receipts


class DeskApp(Station, inherit_bindings=False):
    STATION = "desk"
    # The kiosk's frame, fields and editor box (the desk shows no kiosk screen), then its own.
    CSS_PATH: ClassVar = [Path(__file__).parent.parent / "kiosk.tcss", FIELDS_CSS, EDITOR_CSS,
                          Path(__file__).parent / "desk.tcss"]
    ENABLE_COMMAND_PALETTE = False
    TITLE = "仪器收发室"
    TITLE_KEY = "desk.title"
    def check_action(self, action: str, parameters) -> bool | None:
        from screens.clerk.scan import ScanField

        return not (action in ("focus_next", "focus_previous") and isinstance(self.focused, ScanField))

    BINDINGS: ClassVar = [
        Binding("ctrl+c,ctrl+z,ctrl+backslash,ctrl+p", "ignore", show=False, priority=True, id="lockdown"),
        Binding("ctrl+q", "quit", show=False, priority=True, id="quit"),
        Binding("f9", "lock", show=False, priority=True, id="lock"),
        Binding("f11", "satisfaction", show=False, priority=True, id="satisfaction"),
        Binding("ctrl+r", "print_unconfirmed", show=False, priority=True, id="print_unconfirmed"),
        # Priority, so focus moves before the next key is handled (a PIN typed right behind a
        # Tab lands in the PIN field); but not in the scan field, where Tab ends a scan.
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic,
                 lock_seconds: float = LOCK_SECONDS) -> None:
        super().__init__(config)
        self.clock = clock
        self.lock_seconds = lock_seconds
        self.last_activity = clock()
        self.clerk: ClerkInfo | None = None  # while unlocked
        self.device: Device | None = None
        self.printer_status: Check | None = None  # the printer as last asked (status line)
        self.printer_reported = asyncio.Event()  # set at each answer (tests wait on it)
        self.unconfirmed_jobs: list[int] = []  # receipts the printer did not say it printed: Ctrl+R

    def get_default_screen(self) -> UnlockScreen:
        from screens.clerk.unlock import UnlockScreen

        return UnlockScreen()

    def on_mount(self) -> None:
        self.title = t(self.TITLE_KEY, self.language)
        self.set_interval(1, self.idle_tick)
        self.open_database()

    @work(exclusive=True, group="open")
    async def open_database(self) -> None:
        try:
            device = await self.in_db_thread(self._open)
        except Exception as e:  # noqa: BLE001 - shown to the clerk, never a crash
            from kiosk.ops.doctor import database_problem

            self.post_message(DeskFailed(str(e), database_problem(e)))
        else:
            self.post_message(DeskReady(device))

    def _open(self) -> Device:
        from db.connection import open_database
        from kiosk.printing.spool import recover_interrupted
        from kiosk.store.catalog import ensure_catalog
        from kiosk.store.registration import ensure_device

        open_database(self.config.database, backup_dir=self.config.data_dir / "backups")  # backup before upgrade
        recover_interrupted()
        ensure_catalog()
        return ensure_device(self.config.device_prefix, role="clerk")

    def on_desk_ready(self, message: DeskReady) -> None:
        self.device = message.device
        self.print_receipts()
        self.probe_printer()
        self.sync_loop(message.device.uid)

    # ---- the printer, for the status line ----------------------------------------------------

    @work(group="printer-probe", exclusive=True)
    async def probe_printer(self) -> None:
        """Ask the printer how it is, in the print thread (so never in the middle of a
        receipt), now and then every minute; after each receipt too (print_state_changed)."""
        from kiosk.ops.doctor import printer_check

        loop = asyncio.get_running_loop()
        while True:
            check = await loop.run_in_executor(self.print_thread, printer_check, self.config, 2.0)
            self.post_message(PrinterChecked(check))
            await asyncio.sleep(PRINTER_PROBE_SECONDS)

    def print_state_changed(self, ticket_id: int, job_id: int, state: str, error_kind: str | None) -> None:
        if state in ("printed", "failed", "unconfirmed"):
            self.probe_printer()  # starts over: asked again now
        if state == "unconfirmed":  # never printed again by itself: the clerk looks at the printer
            self.unconfirmed_jobs.append(job_id)
            reason = t(PRINT_REASONS[error_kind or "unconfirmed"], self.language)
            self.notify(t("desk.print_unconfirmed", self.language, reason=reason), severity="warning", timeout=60)

    def action_print_unconfirmed(self) -> None:
        """Ctrl+R: the receipts the printer did not confirm print again, once each, as copies."""
        if self.clerk is None:
            return
        for job_id in self.unconfirmed_jobs:
            self.print_again(job_id)
        self.unconfirmed_jobs.clear()

    def on_printer_checked(self, message: PrinterChecked) -> None:
        from screens.clerk.status import DeskStatus

        self.printer_status = message.check
        self.printer_reported.set()
        for screen in self.screen_stack:
            for status in screen.query(DeskStatus):
                status.show()

    def on_desk_failed(self, message: DeskFailed) -> None:
        """The database could not be opened: the whole screen says why, and stays (F9 too)."""
        from kiosk.ops.doctor import Msg
        from screens.out_of_service import OutOfService

        self.clerk = None
        self.push_screen(OutOfService(message.problem or Msg("dbproblem.other"), message.error, station="desk"))

    def go_out_of_service(self, problem, detail: str) -> None:
        self.clerk = None  # locked: once back in service, a clerk unlocks again
        super().go_out_of_service(problem, detail)

    # ---- unlock and lock -------------------------------------------------------------------

    def unlocked(self, clerk: ClerkInfo) -> None:
        from screens.clerk.receiving import ReceivingScreen

        self.clerk = clerk
        self.last_activity = self.clock()
        self.push_screen(ReceivingScreen())

    def on_counter_chosen(self, message: CounterChosen) -> None:
        """A counter asked for the other one (F2, F3), or for dispatch with a ticket from the
        work list: a fresh screen in its place."""
        from screens.clerk.dispatch import DispatchScreen
        from screens.clerk.receiving import ReceivingScreen

        counter = ReceivingScreen if message.counter == "receiving" else DispatchScreen
        self.switch_screen(counter(message.number))

    def action_lock(self) -> None:
        """Back to the PIN screen; nothing of the last ticket stays on screen."""
        from screens.clerk.unlock import UnlockScreen

        self.clerk = None
        self.back_to_start()
        if isinstance(self.screen, UnlockScreen):  # not when out of service
            self.screen.reset()

    def action_ignore(self) -> None:
        pass

    def action_satisfaction(self) -> None:
        """满意度统计, for an unlocked admin clerk; others are told why not."""
        from screens.admin import AdminScreen

        if self.clerk is None or isinstance(self.screen, AdminScreen):
            return  # the lock screen has nothing behind it
        if not self.clerk.admin:
            self.notify(t("admin.refused", self.language), severity="warning")
            return
        self.push_screen(AdminScreen())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_activity = self.clock()
        await super().on_event(event)

    def idle_tick(self) -> None:
        self.retry_printing_if_due()
        if self.clerk is not None and self.clock() - self.last_activity >= self.lock_seconds:
            self.action_lock()


if TYPE_CHECKING:

    def _serves_screens(app: DeskApp) -> DeskSurface:
        """The type checker's proof that DeskApp has all the desk's screens use of it (screens/clerk/host.py)."""
        return app
