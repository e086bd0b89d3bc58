"""What the customer kiosk and the clerk desk share: one thread for all database work (one
long-lived connection; writes serialised by construction; no worker thread touches a
widget), one thread for the printer, one for the network, the loop that prints due
receipts and the loop that syncs with the central system.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, NamedTuple

from textual import events, work
from textual.app import App
from textual.message import Message
from textual.reactive import reactive

from kiosk.domain.clock import local, utc_now
from kiosk.i18n import t
from kiosk.settings.config import Config
from kiosk.settings.institute import kept_file, load_institute
from screens.textual_fixes import (
    fix_styles_cache_leak,
    fix_unended_paste,
    skip_repaint_after_first_layout,
    skip_restyle_of_first_screen,
    skip_same_size_layout,
    skip_styling_unmounted,
)

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.printing.spool import Backlog
    from kiosk.printing.worker import PrintWorker
    from screens.host import StationSurface
    from screens.out_of_service import OutOfService

fix_styles_cache_leak()
fix_unended_paste()
skip_styling_unmounted()
skip_same_size_layout()
skip_repaint_after_first_layout()
skip_restyle_of_first_screen()  # after the one above, whose check reads Textual's own method

SYNC_INTERVAL = 30.0  # seconds between passes while online; a new fact wakes the loop at once
PRINT_OUTAGE_RETRY = timedelta(seconds=30)  # a database that failed under printing is tried again this often

log = logging.getLogger(__name__)


class SyncState(NamedTuple):  # not a dataclass: some 3 M instructions less before the first frame
    """What the quiet indicator in the title bar shows. Not enrolled: nothing at all."""

    enrolled: bool = False
    online: bool | None = None  # None: no pass finished yet
    waiting: int = 0  # outbox events central has not acknowledged
    parked: int = 0  # events central refused (`kiosk sync --parked`)
    last_sync: datetime | None = None
    changes_parked: int = 0  # changes that failed here, kept aside (the same command)
    problem: str | None = None  # the last pass failed, not for the network: a SyncError's kind, else the error's type


class SyncStateChanged(Message):
    def __init__(self, state: SyncState) -> None:
        super().__init__()
        self.state = state


class Station(App, inherit_bindings=False):
    STATION = "station"  # names its threads: kiosk-db, desk-print, ...
    TITLE_KEY = "app.title"  # the window's title, in the station's language
    ON_SCREEN_KEYBOARD = False  # the kiosk's touch panel has one (screens/keyboard/); a desk has a keyboard

    language: reactive[str] = reactive("zh", init=False)

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.set_reactive(Station.language, config.language)
        self.info = load_institute(config.info_file, config.holidays_file, kept=kept_file(config.data_dir))
        self.print_worker: PrintWorker | None = None  # the child that renders and sends
        self.printing = False  # the print worker is running
        self.print_retry_at: datetime | None = None  # UTC: when a failed receipt is tried again by itself
        self.print_backlog: Backlog | None = None  # made by the first pass
        self.outage: OutOfService | None = None  # the out-of-service screen a database failure put up while running
        self.sync_state = SyncState()
        self.sync_reported = asyncio.Event()  # set at each pass's report (a test or a status line waits on it)
        self._sync_wake: asyncio.Event | None = None

    # ---- the threads: made when first used, after the first frame (their module is not needed for it) ------

    @cached_property
    def db_thread(self) -> ThreadPoolExecutor:
        return _thread(f"{self.STATION}-db")

    @cached_property
    def print_thread(self) -> ThreadPoolExecutor:
        """Printing has its own thread: a slow serial printer or a dead network printer (up to
        its timeout) never holds up the database. It never touches the database."""
        return _thread(f"{self.STATION}-print")

    @cached_property
    def net_thread(self) -> ThreadPoolExecutor:
        """Sync talks to the network on its own thread: a dead network (up to the client's
        timeout) holds up neither the database nor the printer."""
        return _thread(f"{self.STATION}-net")

    def _made(self, thread: str) -> ThreadPoolExecutor | None:
        """One of the threads above, if it was made."""
        return self.__dict__.get(thread)

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
        if (printing := self._made("print_thread")) is not None:
            printing.shutdown(wait=False, cancel_futures=True)
        if self.print_worker is not None:
            self.print_worker.close()
        if (network := self._made("net_thread")) is not None:
            network.shutdown(wait=False, cancel_futures=True)
        if (database := self._made("db_thread")) is not None:
            database.submit(_close_database)
            database.shutdown(wait=True)

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

    def print_again(self, job_id: int) -> None:
        """A person asked (重新打印): this failed job is tried again at once, by the print pass,
        which keeps the request until the database has taken it."""
        from kiosk.printing.spool import Backlog

        self.print_backlog = self.print_backlog or Backlog()
        self.print_backlog.asked.append(job_id)
        self.print_receipts()

    @work(group="print")
    async def print_due_jobs(self) -> None:
        """Every due job: claim and finish in the database thread, print from the print thread
        through the print worker (a child process: the station's own never loads what printing needs)."""
        from kiosk.printing.spool import Backlog, PrinterSettings, print_due
        from kiosk.printing.worker import PrintWorker

        loop = asyncio.get_running_loop()
        self.print_backlog = self.print_backlog or Backlog()
        if self.print_worker is None:  # the first pass, as the catalogue is loaded: after the first frame
            from kiosk.ops.memory import limit_malloc_arenas

            limit_malloc_arenas()  # and before the threads that come and go (workers, print, network) allocate
            self.print_worker = PrintWorker()
        worker = self.print_worker
        try:
            retry_at = await print_due(
                self.in_db_thread, lambda fn, *args: loop.run_in_executor(self.print_thread, worker.send, fn, *args),
                PrinterSettings.from_config(self.config), self.info, self.print_state_changed, self.print_backlog)
        except Exception as e:  # noqa: BLE001 - a full disk says so on screen; it never ends the station
            self.printing_failed(e)
            return
        finally:
            self.printing = False
        self.print_retry_at = retry_at
        self.back_in_service()
        if self.print_backlog.asked:  # asked as the pass was ending
            self.print_receipts()

    def printing_failed(self, error: Exception) -> None:
        """The database failed under the print spool (a full or read-only disk, damage): out of
        service, in words, and tried again every PRINT_OUTAGE_RETRY until it works. The jobs
        wait in the database (or in `print_backlog`), so none is lost or printed twice."""
        from kiosk.ops.doctor import database_problem

        problem = database_problem(error)
        self.print_retry_at = self.wall_now() + PRINT_OUTAGE_RETRY
        if problem is None:  # not the disk: a bug, logged whole; the next try may pass
            log.exception("printing stopped", exc_info=error)
            return
        log.error("printing stopped, out of service: %s", problem.key, extra={"problem": problem.key})
        self.go_out_of_service(problem, str(error))

    def go_out_of_service(self, problem, detail: str) -> None:
        """The whole screen says what is wrong, over the start (what a customer had typed goes),
        until back_in_service()."""
        from screens.out_of_service import OutOfService

        if any(isinstance(screen, OutOfService) for screen in self.screen_stack):
            return  # already said (at start, or by the last try), maybe under the maintenance prompt
        self.back_to_start()
        self.outage = OutOfService(problem, detail, station=self.STATION, running=True)
        self.push_screen(self.outage)

    def back_in_service(self) -> None:
        """The database takes writes again: the out-of-service screen it caused goes (with
        anything opened over it); not one put up at start, which needs a restart."""
        if self.outage is None:
            return
        log.warning("printing works again: back in service")
        while self.outage in self.screen_stack:
            self.pop_screen()
        self.outage = None

    def wall_now(self) -> datetime:
        """This instant, UTC (a station with a test clock moves it with that clock)."""
        return utc_now()

    def retry_printing_if_due(self) -> None:
        """From the station's once-a-second tick: a receipt, or a database that failed, due
        for another try."""
        if self.print_retry_at is not None and self.wall_now() >= self.print_retry_at:
            self.print_retry_at = None
            self.print_receipts()


    # ---- sync --------------------------------------------------------------------------------

    def sync_soon(self) -> None:
        """A new fact is in the outbox: push it now rather than at the next interval."""
        if self._sync_wake is not None:
            self._sync_wake.set()

    def catalog_arrived(self, versions: list[int]) -> None:
        """A new fee schedule was stored by sync; a station that prices things picks it up."""

    def institute_arrived(self) -> None:
        """A new version of the institute's file was stored by sync; a station that shows it picks it up."""

    @work(group="sync", exclusive=True)
    async def sync_loop(self, device_uid: str) -> None:
        """Push and pull for as long as the station runs: every SYNC_INTERVAL while online,
        with exponential backoff and jitter while not. Never touches a widget, and never ends
        the station: a pass that fails for whatever reason (the network, a change that breaks
        something, a bug) is logged, said in the sync status and tried again with backoff."""
        if not await self.in_db_thread(_enrolled):
            return  # a kiosk on its own: no indicator, no network, not even the HTTP client's import
        from kiosk.sync.client import retry_delay

        self._sync_wake = asyncio.Event()
        failures = 0
        while True:
            self._sync_wake.clear()
            try:
                report = await self._sync_pass(device_uid)
            except Exception as e:  # noqa: BLE001 - said and tried again: sync never ends the station
                failures += 1
                state = await self._sync_failed(e)
                delay = retry_delay(e, failures)
            else:
                failures = 0
                left = report.backlog
                state = SyncState(True, True, left.waiting, left.parked, local(utc_now()), left.changes_parked)
                delay = SYNC_INTERVAL
                if report.applied.catalogs:
                    self.catalog_arrived(report.applied.catalogs)
                if report.applied.institute:
                    self.institute_arrived()
            self.post_message(SyncStateChanged(state))
            try:
                await asyncio.wait_for(self._sync_wake.wait(), delay)
            except TimeoutError:
                pass

    async def _sync_pass(self, device_uid: str):
        """One pass, with the enrolment as it is now (a new token or URL counts at once)."""
        from kiosk.sync.client import Central
        from kiosk.sync.enrolment import enrolment
        from kiosk.sync.loop import sync_pass

        loop = asyncio.get_running_loop()
        enrolled = await self.in_db_thread(enrolment)
        central = Central(enrolled.url, enrolled.token)
        return await sync_pass(central, self.in_db_thread, device_uid,
                               net_call=lambda fn, *args: loop.run_in_executor(self.net_thread, fn, *args))

    async def _sync_failed(self, error: Exception) -> SyncState:
        """The state a failed pass leaves: offline (the network), or the problem's name (logged
        whole: a bug or a broken database, not the network)."""
        from kiosk.sync.client import SyncError
        from kiosk.sync.outbox import Backlog, backlog

        if isinstance(error, SyncError):
            problem = None if error.kind == "offline" else error.kind
            if problem:
                log.warning("sync pass failed (%s: %s); tried again later", problem, error)
        else:
            problem = type(error).__name__
            log.error("sync pass failed (%s); tried again later", problem, exc_info=error)
        was = self.sync_state
        try:
            left = await self.in_db_thread(backlog)
        except Exception:  # noqa: BLE001 - the database failing too: the counts as last known
            left = Backlog(was.waiting, was.parked, was.changes_parked)
        return SyncState(True, False, left.waiting, left.parked, was.last_sync, left.changes_parked, problem)

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


def _thread(name: str) -> ThreadPoolExecutor:
    """One worker thread, named for what it does."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


def _close_database() -> None:
    from db.models import database_proxy

    if database_proxy.obj is not None:
        database_proxy.close()


if TYPE_CHECKING:

    def _serves_screens(station: Station) -> StationSurface:
        """The type checker's proof that a Station has what the screens use of it (screens/host.py)."""
        return station
