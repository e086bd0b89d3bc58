"""What the customer kiosk and the clerk desk share: one thread for all database work (one
long-lived connection; writes serialised by construction; no worker thread touches a
widget), one thread for the printer, one for the network, the loop that prints due
receipts and the loop that syncs with the central system.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from textual import events, work
from textual.app import App
from textual.message import Message
from textual.reactive import reactive

from kiosk.domain.clock import local, utc_now
from kiosk.i18n import t
from kiosk.settings.config import Config
from kiosk.settings.institute import load_institute
from screens.textual_fixes import fix_styles_cache_leak

fix_styles_cache_leak()

SYNC_INTERVAL = 30.0  # seconds between passes while online; a new fact wakes the loop at once


@dataclass(frozen=True)
class SyncState:
    """What the quiet indicator in the title bar shows. Not enrolled: nothing at all."""

    enrolled: bool = False
    online: bool | None = None  # None: no pass finished yet
    waiting: int = 0  # outbox events central has not acknowledged
    parked: int = 0  # events central refused (`kiosk sync --parked`)
    last_sync: datetime | None = None


class SyncStateChanged(Message):
    def __init__(self, state: SyncState) -> None:
        super().__init__()
        self.state = state


class Station(App, inherit_bindings=False):
    STATION = "station"  # names its threads: kiosk-db, desk-print, ...
    TITLE_KEY = "app.title"  # the window's title, in the station's language

    language: reactive[str] = reactive("zh", init=False)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.set_reactive(Station.language, config.language)
        self.info = load_institute(config.info_file, config.holidays_file)
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.STATION}-db")
        # Printing has its own thread: a slow serial printer or a dead network printer (up
        # to its timeout) never holds up the database. It never touches the database.
        self.print_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.STATION}-print")
        self.printing = False  # the print worker is running
        self.print_retry_at = None  # UTC: when a failed receipt is tried again by itself
        # Sync talks to the network on its own thread: a dead network (up to the client's
        # timeout) holds up neither the database nor the printer.
        self.net_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.STATION}-net")
        self.sync_state = SyncState()
        self.sync_reported = asyncio.Event()  # set at each pass's report (a test or a status line waits on it)
        self._sync_wake: asyncio.Event | None = None

    # ---- the language, and where the screens stand ----------------------------------------------

    def action_toggle_language(self) -> None:
        self.language = "en" if self.language == "zh" else "zh"

    def watch_language(self) -> None:
        from screens.base import Worded

        self.title = t(self.TITLE_KEY, self.language)
        for screen in self.screen_stack:
            if isinstance(screen, Worded):
                screen.relabel()

    @property
    def out_of_service(self) -> bool:
        """The database failed at start: that screen stays, whatever else happens."""
        from screens.out_of_service import OutOfService

        return isinstance(self.screen, OutOfService)

    def back_to_start(self) -> None:
        """Every screen above the first goes (the kiosk's welcome, the desk's lock screen),
        unless the station is out of service: there is no start to go back to."""
        while len(self.screen_stack) > 1 and not self.out_of_service:
            self.pop_screen()

    async def in_db_thread(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, partial(fn, *args, **kwargs))

    def on_unmount(self) -> None:
        # A receipt being sent is not waited for: its job stays `printing` and is printed
        # again at the next start.
        self.print_thread.shutdown(wait=False, cancel_futures=True)
        self.net_thread.shutdown(wait=False, cancel_futures=True)
        self.db_thread.submit(_close_database)
        self.db_thread.shutdown(wait=True)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Customers and clerks both type Chinese through an IME. Textual puts the terminal
        # cursor (where an IME opens its candidate window) into an Input as it takes focus; on
        # a screen just mounted that is before layout, so the cursor stays put until the
        # first key. Place it again once the screen is drawn.
        from textual.widgets import Input

        if isinstance(event.widget, Input):
            self.call_after_refresh(self._place_cursor, event.widget)

    def _place_cursor(self, field) -> None:
        if field.has_focus:
            self.cursor_position = field.cursor_screen_offset
            field.refresh()

    # ---- printing --------------------------------------------------------------------------

    def print_receipts(self) -> None:
        if not self.printing:
            self.printing = True
            self.print_due_jobs()

    def print_state_changed(self, ticket_id: int, job_id: int, state: str, error_kind: str | None) -> None:
        """Each step of each job, on the UI loop's side; a station shows it if it wants to."""

    @work(group="print")
    async def print_due_jobs(self) -> None:
        """Every due job: claim and finish in the database thread, print in the print thread."""
        from kiosk.printing.spool import PrinterSettings, print_due

        loop = asyncio.get_running_loop()
        try:
            self.print_retry_at = await print_due(
                self.in_db_thread, lambda fn, *args: loop.run_in_executor(self.print_thread, fn, *args),
                PrinterSettings.from_config(self.config), self.info, self.print_state_changed)
        finally:
            self.printing = False


    # ---- sync --------------------------------------------------------------------------------

    def sync_soon(self) -> None:
        """A new fact is in the outbox: push it now rather than at the next interval."""
        if self._sync_wake is not None:
            self._sync_wake.set()

    def catalog_arrived(self, versions: list[int]) -> None:
        """A new fee schedule was stored by sync; a station that prices things picks it up."""

    @work(group="sync", exclusive=True)
    async def sync_loop(self, device_uid: str) -> None:
        """Push and pull for as long as the station runs: every SYNC_INTERVAL while online,
        with exponential backoff and jitter while not. Never touches a widget."""
        if not await self.in_db_thread(_enrolled):
            return  # a kiosk on its own: no indicator, no network, not even the HTTP client's import
        from kiosk.sync.client import Central, SyncError, backoff
        from kiosk.sync.enrolment import enrolment
        from kiosk.sync.loop import sync_pass
        from kiosk.sync.outbox import backlog

        enrolled = await self.in_db_thread(enrolment)
        central = Central(enrolled.url, enrolled.token)
        loop = asyncio.get_running_loop()
        self._sync_wake = asyncio.Event()
        failures = 0
        while True:
            self._sync_wake.clear()
            try:
                report = await sync_pass(central, self.in_db_thread, device_uid,
                                         net_call=lambda fn, *args: loop.run_in_executor(self.net_thread, fn, *args))
            except SyncError:
                failures += 1
                left = await self.in_db_thread(backlog)
                state = SyncState(True, False, left.waiting, left.parked, self.sync_state.last_sync)
                delay = backoff(failures)
            else:
                failures = 0
                state = SyncState(True, True, report.backlog.waiting, report.backlog.parked, local(utc_now()))
                delay = SYNC_INTERVAL
                if report.applied.catalogs:
                    self.catalog_arrived(report.applied.catalogs)
            self.post_message(SyncStateChanged(state))
            try:
                await asyncio.wait_for(self._sync_wake.wait(), delay)
            except TimeoutError:
                pass

    def on_sync_state_changed(self, message: SyncStateChanged) -> None:
        from screens.base import KioskScreen

        self.sync_state = message.state
        self.sync_reported.set()
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.show_sync(message.state)


def _enrolled() -> bool:
    from db.models import Setting

    return Setting.select().where(Setting.key == "central.token").exists()  # kiosk/sync/settings.py TOKEN


def _close_database() -> None:
    from db.models import database_proxy

    if database_proxy.obj is not None:
        database_proxy.close()
