"""The kiosk app: flow between screens, lockdown, idle wipe, and the workers that do I/O.

Database work runs in one long-lived thread, awaited by async workers; results come back
as messages (past-tense names). The customer's input lives in `self.draft`, never only in
widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.binding import Binding
from textual.message import Message

from kiosk.i18n import t
from kiosk.settings.config import Config
from screens.draft import Draft
from screens.station import Station


class CatalogLoaded(Message):
    def __init__(self, catalog, index, policy, device) -> None:
        super().__init__()
        self.catalog, self.index, self.policy, self.device = catalog, index, policy, device


class StartupFailed(Message):
    def __init__(self, error: str, problem=None) -> None:
        super().__init__()
        self.error = error
        self.problem = problem  # kiosk.ops.doctor.Msg: what is wrong, in words; None: see `error`


class TicketRegistered(Message):
    def __init__(self, ticket) -> None:
        super().__init__()
        self.ticket = ticket


class PrintStateChanged(Message):
    def __init__(self, ticket_id: int, job_id: int, state: str, error_kind: str | None = None) -> None:
        super().__init__()
        self.ticket_id, self.job_id, self.state, self.error_kind = ticket_id, job_id, state, error_kind


class RegistrationFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


# Keys that would leave the app or reach the terminal. In raw mode they arrive as keys;
# priority bindings take them before any widget (Input binds ctrl+c to copy).
LOCKED_KEYS = "ctrl+c,ctrl+q,ctrl+z,ctrl+backslash,ctrl+p"


class KioskApp(Station, inherit_bindings=False):
    STATION = "kiosk"
    CSS_PATH = Path(__file__).parent / "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    TITLE = "仪器送检自助服务"

    BINDINGS: ClassVar = [
        Binding(LOCKED_KEYS, "ignore", show=False, priority=True, id="lockdown"),
        Binding("f2", "toggle_language", "中文/English", priority=True, id="language"),
        Binding("f12", "maintenance", show=False, priority=True, id="maintenance"),
        # Priority, so focus moves before the next key is handled: a character typed (or
        # scanned) right behind a Tab lands in the next field, not the one being left.
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    # On a tall screen radio buttons and check boxes get finger-sized rows (fields.tcss).
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (36, "-tall")]

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config)
        self.draft = Draft()
        self.clock = clock  # tests drive the idle timeout through this, no sleeping
        self.last_activity = clock()
        self.catalog = self.index = self.policy = self.device = None
        self.submitting = False  # one ticket per confirmation, however many taps
        self.new_catalog = False  # sync stored a newer fee schedule: taken between customers

    # ---- start-up --------------------------------------------------------------------------

    def get_default_screen(self):
        from screens.welcome import WelcomeScreen

        return WelcomeScreen()

    def on_mount(self) -> None:
        self.title = t(self.TITLE_KEY, self.language)
        self.set_interval(1, self.idle_tick)
        # After the first frame: the welcome screen does not need the catalogue to appear.
        self.call_after_refresh(self.load_catalog)

    @work(exclusive=True, group="catalog")
    async def load_catalog(self) -> None:
        try:
            loaded = await self.in_db_thread(self._open_and_load)
        except Exception as e:  # noqa: BLE001 - a full screen that says why, never a traceback
            from kiosk.ops.doctor import database_problem

            self.post_message(StartupFailed(str(e), database_problem(e)))
        else:
            self.post_message(CatalogLoaded(*loaded))

    def _open_and_load(self):
        """In the database thread: schema, first-start catalogue and device, the search index."""
        from db.connection import open_database
        from kiosk.domain.fees import default_policy
        from kiosk.domain.search import SearchIndex
        from kiosk.printing.spool import recover_interrupted
        from kiosk.store.catalog import ensure_catalog, load_catalog, search_keys_for
        from kiosk.store.registration import ensure_device

        open_database(self.config.database, backup_dir=self.config.data_dir / "backups")  # backup before upgrade
        recover_interrupted()  # receipts cut off by a crash or power loss print again
        ensure_catalog()
        device = ensure_device(self.config.device_prefix)
        catalog = load_catalog()
        return catalog, SearchIndex(catalog.rows, search_keys_for(catalog.rows)), default_policy(), device

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        from screens.base import KioskScreen

        self.catalog, self.index, self.policy, self.device = (
            message.catalog, message.index, message.policy, message.device)
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.catalog_ready()
        self.print_receipts()  # anything left from before a restart
        self.sync_loop(self.device.uid)

    def on_startup_failed(self, message: StartupFailed) -> None:
        """The whole screen says it, in both languages; nothing of the customer's input stays."""
        import logging

        from kiosk.ops.doctor import Msg
        from screens.out_of_service import OutOfService

        logging.getLogger(__name__).error("start-up failed: %s", message.error)
        self.draft.clear()
        self.back_to_start()
        self.push_screen(OutOfService(message.problem or Msg("dbproblem.other"), message.error))

    # ---- registration ----------------------------------------------------------------------

    def submit_registration(self) -> bool:
        """Start registering the draft; False if one is already under way (a double tap)."""
        if self.submitting or self.catalog is None:
            return False
        self.submitting = True
        self.register_draft(self.draft.registration(self.language))
        return True

    @work(group="register")
    async def register_draft(self, registration) -> None:
        from kiosk.store.registration import register

        try:
            ticket = await self.in_db_thread(register, registration, self.catalog, self.policy, self.device,
                                             self.info.calendar)
        except Exception as e:  # noqa: BLE001 - any failure must reach the screen, not kill the kiosk
            from kiosk.ops.doctor import database_problem

            problem = database_problem(e)  # a full disk or a damaged database: said in words
            self.post_message(RegistrationFailed(problem.text(self.language) if problem else str(e)))
        else:
            self.post_message(TicketRegistered(ticket))

    def on_ticket_registered(self, message: TicketRegistered) -> None:
        from screens.ticket import TicketScreen, TicketView

        self.submitting = False
        view = TicketView.from_registered(message.ticket, self.info)
        self.draft.clear()
        self.back_to_start()
        self.push_screen(TicketScreen(view))
        self.print_receipts()
        self.sync_soon()
        self.take_new_catalog()

    def on_registration_failed(self, message: RegistrationFailed) -> None:
        self.submitting = False
        self.notify(f"{t('flow.register_failed', self.language)}: {message.error}", severity="error",
                    timeout=20)

    # ---- printing --------------------------------------------------------------------------

    def print_state_changed(self, *state) -> None:
        self.post_message(PrintStateChanged(*state))

    def retry_print(self, job_id: int) -> None:
        """The customer's "print again": a failed job goes back to the queue at once."""
        from kiosk.printing.spool import retry_now

        async def retry() -> None:
            await self.in_db_thread(retry_now, job_id)
            self.print_receipts()

        self.run_worker(retry(), group="print")

    def on_print_state_changed(self, message: PrintStateChanged) -> None:
        from screens.ticket import TicketScreen

        for screen in self.screen_stack:
            if isinstance(screen, TicketScreen) and screen.view.ticket_id == message.ticket_id:
                screen.show_print_state(message.state, message.error_kind, message.job_id)

    # ---- navigation ------------------------------------------------------------------------

    def wipe(self) -> None:
        """Everything the customer typed is forgotten and the welcome screen returns."""
        from screens.base import KioskScreen

        self.draft.clear()
        self.back_to_start()
        if isinstance(self.screen, KioskScreen):  # the welcome (or out of service) screen
            self.screen.relabel()  # shows the fields of a fee schedule taken since it was drawn
        self.take_new_catalog()

    # ---- a new fee schedule from the central system ------------------------------------------

    def catalog_arrived(self, versions: list[int]) -> None:
        self.new_catalog = True
        self.take_new_catalog()

    def take_new_catalog(self) -> None:
        """Only between customers: an estimate in progress keeps the version it began with."""
        if self.new_catalog and self.draft.is_empty and not self.submitting:
            self.new_catalog = False
            self.reload_catalog()

    @work(exclusive=True, group="catalog")
    async def reload_catalog(self) -> None:
        from kiosk.domain.search import SearchIndex
        from kiosk.store.catalog import load_catalog, search_keys_for

        def load():
            catalog = load_catalog()
            return catalog, SearchIndex(catalog.rows, search_keys_for(catalog.rows))

        self.catalog, self.index = await self.in_db_thread(load)

    # ---- idle timeout ----------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
                              events.Paste)):
            self.last_activity = self.clock()
        await super().on_event(event)

    def idle_tick(self) -> None:
        """Once a second: a receipt due for another try, a self-closing screen's countdown (the
        ticket, the feedback's thanks), or the idle timeout."""
        from screens.base import SelfClosing
        from screens.idle import IdleWarning

        if self.print_retry_at is not None and datetime.now(UTC) >= self.print_retry_at:
            self.print_retry_at = None
            self.print_receipts()
        if isinstance(self.screen, SelfClosing):
            self.screen.tick()  # it goes back to the welcome screen by itself, sooner than idle
            return
        if (len(self.screen_stack) == 1 or self.out_of_service) and self.draft.is_empty:
            return  # the welcome screen, nothing typed: nothing to protect
        left = self.config.idle_seconds - (self.clock() - self.last_activity)
        warning = next((s for s in self.screen_stack if isinstance(s, IdleWarning)), None)
        if left <= 0:
            self.wipe()
        elif left <= self.config.idle_warning_seconds:
            if warning is None:
                self.push_screen(IdleWarning(round(left)))
            else:
                warning.count(round(left))
        elif warning is not None:
            warning.dismiss()

    # ---- lockdown, maintenance (the language: screens.station.Station) ----------------------

    def action_ignore(self) -> None:
        """Locked keys do nothing for a customer."""

    def action_maintenance(self) -> None:
        from screens.maintenance import MaintenanceExit

        if not any(isinstance(s, MaintenanceExit) for s in self.screen_stack):
            self.push_screen(MaintenanceExit())

