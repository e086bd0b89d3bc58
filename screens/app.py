"""The kiosk app: flow between screens, lockdown, idle wipe, and the workers that do I/O.

Database work runs in one long-lived thread, awaited by async workers; results come back
as messages (past-tense names). The customer's input lives in `self.draft`, never only in
widgets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.binding import Binding
from textual.message import Message

from kiosk.i18n import t
from kiosk.settings.config import Config
from screens.station import Station

if TYPE_CHECKING:
    from db.models import Device
    from kiosk.domain.fees import Policy
    from kiosk.domain.search import SearchIndex
    from kiosk.ime.dictionary import PinyinDictionary
    from kiosk.store.catalog import LoadedCatalog
    from screens.draft import Draft
    from screens.host import KioskSurface

log = logging.getLogger(__name__)


class CatalogLoaded(Message):
    def __init__(self, catalog: LoadedCatalog, index: SearchIndex, policy: Policy, device: Device) -> None:
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
    ON_SCREEN_KEYBOARD = True

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
    # Textual 8.2.8 declares it `ClassVar[list[tuple[int, str]]] | None`, which is no ClassVar to mypy.
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (36, "-tall")]  # type: ignore[misc]

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config)
        self._draft: Draft | None = None  # made at first use (`draft`)
        self.clock = clock  # tests drive the idle timeout through this, no sleeping
        self.last_activity = clock()
        self.started = (clock(), datetime.now(UTC))  # the wall clock, moved on by `clock`: wall_now()
        # None until load_catalog has read them (after the first frame)
        self.catalog: LoadedCatalog | None = None
        self.index: SearchIndex | None = None
        self.policy: Policy | None = None
        self.device: Device | None = None
        self.submitting = False  # one ticket per confirmation, however many taps
        self.new_catalog = False  # sync stored a newer fee schedule: taken between customers
        self.pinyin: PinyinDictionary | None = None  # the on-screen keyboard's, once load_pinyin has read it
        self.scan_keys, self.scan_at = "", 0.0  # a prepared code being typed by a scanner (screens/prepared.py)

    @property
    def draft(self) -> Draft:
        """The customer's input: made when first asked for, after the first frame (its module, the
        draft's rules, is not needed to show the welcome screen)."""
        if self._draft is None:
            from screens.draft import Draft

            self._draft = Draft()
        return self._draft

    # ---- start-up --------------------------------------------------------------------------

    def get_default_screen(self):
        from screens.welcome import WelcomeScreen

        return WelcomeScreen()

    def on_mount(self) -> None:
        self.title = t(self.TITLE_KEY, self.language)
        self.set_interval(1, self.idle_tick)
        # However the welcome screen comes back (上一步, Esc, the idle timeout, after the ticket or
        # an error, a dialog closed), the next customer finds nothing of the last one: one place
        # that sees every return, not a wipe in each caller. Immediate: before the next event.
        self.screen_change_signal.subscribe(self, self._screen_changed, immediate=True)
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
        from kiosk.domain.search import SearchIndex
        from kiosk.printing.spool import recover_interrupted
        from kiosk.settings.pricing import configured_policy
        from kiosk.store.catalog import ensure_catalog, load_catalog, search_keys_for
        from kiosk.store.institute import synced_info
        from kiosk.store.maintenance import take_config_pin
        from kiosk.store.registration import ensure_device

        open_database(self.config.database, backup_dir=self.config.data_dir / "backups")  # backup before upgrade
        take_config_pin(self.config.maintenance_pin)  # an older configuration's plain PIN, hashed
        recover_interrupted()  # receipts cut off by a crash or power loss print again
        ensure_catalog()
        device = ensure_device(self.config.device_prefix)
        self.info = synced_info(self.info)  # the institute's file as central holds it, once synced (issue 22)
        catalog = load_catalog()
        return catalog, SearchIndex(catalog.rows, search_keys_for(catalog.rows)), configured_policy(), device

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        from screens.base import KioskScreen

        self.catalog, self.index, self.policy, self.device = (
            message.catalog, message.index, message.policy, message.device)
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.catalog_ready()
        self.print_receipts()  # anything left from before a restart
        self.sync_loop(self.device.uid)
        self.load_pinyin()

    @work(thread=True, exclusive=True, group="pinyin")
    def load_pinyin(self) -> None:
        """The keyboard's dictionary, with the catalogue's names boosted: ~0.1 s in a thread, well
        after the first frame; until then the pinyin layout says so, and its letters still compose."""
        from screens.keyboard.dictionary import PinyinLoaded, load

        try:
            dictionary = load(self.catalog, self.info, self.db_thread)  # the customers' names: read in the db thread
        except Exception:  # without it the letters still go in as they are; the kiosk runs on
            log.exception("the pinyin dictionary could not be read")
            return
        self.post_message(PinyinLoaded(dictionary))

    def on_pinyin_loaded(self, message) -> None:
        from screens.keyboard import dictionary_ready

        self.pinyin = message.dictionary
        dictionary_ready(self)

    def on_startup_failed(self, message: StartupFailed) -> None:
        """The whole screen says it, in both languages; nothing of the customer's input stays."""
        from kiosk.ops.doctor import Msg
        from screens.out_of_service import OutOfService

        log.error("start-up failed: %s", message.error)
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

    def on_print_state_changed(self, message: PrintStateChanged) -> None:
        from screens.ticket import TicketScreen

        for screen in self.screen_stack:
            if isinstance(screen, TicketScreen) and screen.view.ticket_id == message.ticket_id:
                screen.show_print_state(message.state, message.error_kind, message.job_id)

    # ---- navigation ------------------------------------------------------------------------

    def wipe(self) -> None:
        """Everything the customer typed is forgotten and the welcome screen returns."""
        self.back_to_start()  # the welcome screen's return forgets the customer (_screen_changed)
        self.forget_customer()  # and where none returns: out of service, or already there

    def _screen_changed(self, screen) -> None:
        if screen is self.screen_stack[0]:
            self.forget_customer()

    def forget_customer(self) -> None:
        """Nothing of the last customer stays: what they typed and chose (the draft; the screens
        that held the rest are gone), what they cut, the messages shown to them. Called while a
        screen is being popped: it touches no widget (a refresh then keeps the popped screen alive)."""
        self.draft.clear()
        self.scan_keys = ""
        self._clipboard = ""  # Input's ctrl+x keeps it for the next ctrl+v; Textual has no public reset
        self.clear_notifications()
        self.take_new_catalog()

    def copy_to_clipboard(self, text: str) -> None:
        """Cut and copy stay in the app (forget_customer empties it), never in the terminal's
        clipboard (OSC 52), which outlives every customer."""
        self._clipboard = text

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
        from screens.base import KioskScreen

        def load():
            catalog = load_catalog()
            return catalog, SearchIndex(catalog.rows, search_keys_for(catalog.rows))

        self.catalog, self.index = await self.in_db_thread(load)
        for screen in self.screen_stack:  # the welcome screen's fields, a lookup's prices
            if isinstance(screen, KioskScreen):
                screen.catalog_ready()

    def institute_arrived(self) -> None:
        self.reload_institute()

    @work(exclusive=True, group="institute")
    async def reload_institute(self) -> None:
        """The welcome screen shows the institute's file central published (kept with this kiosk's calendar)."""
        from kiosk.settings.institute import load_institute
        from kiosk.store.institute import synced_info
        from screens.base import KioskScreen

        local = load_institute(self.config.info_file, self.config.holidays_file)
        self.info = await self.in_db_thread(synced_info, local)
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.catalog_ready()

    # ---- idle timeout ----------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
                              events.Paste)):
            self.last_activity = self.clock()
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            from screens.prepared import take_scan

            if take_scan(self, event):  # a prepared registration's code, scanned on the welcome screen
                return
        if isinstance(event, events.Key) and not event.is_forwarded:
            from screens.keyboard import typed

            if typed(self.screen, event):  # a physical keyboard's pinyin, into the on-screen keyboard's composition
                return
        await super().on_event(event)

    def idle_tick(self) -> None:
        """Once a second: a receipt due for another try, a self-closing screen's countdown (the
        ticket, the feedback's thanks), or the idle timeout."""
        from screens.base import SelfClosing
        from screens.idle import IdleWarning

        self.retry_printing_if_due()
        if not self.screen_stack:  # the app is ending: its screens are gone before its timers
            return
        if isinstance(self.screen, SelfClosing):
            self.screen.tick()  # it goes back to the welcome screen by itself, sooner than idle
            return
        # `_draft`: none yet is nothing typed, and making one here would import its module (the draft's
        # rules) on the welcome screen's first tick, before any customer (under a slow start, before its first frame).
        if (len(self.screen_stack) == 1 or self.out_of_service) and (self._draft is None or self._draft.is_empty):
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

    def wall_now(self) -> datetime:
        """This instant (UTC) as `clock` has moved on since the start: the maintenance lock-out's
        end and a receipt's next try are in UTC, and tests move them without sleeping."""
        since, then = self.started
        return then + timedelta(seconds=self.clock() - since)

    def action_maintenance(self) -> None:
        from screens.maintenance import MaintenanceExit

        if not any(isinstance(s, MaintenanceExit) for s in self.screen_stack):
            self.push_screen(MaintenanceExit())


if TYPE_CHECKING:

    def _serves_screens(kiosk: KioskApp) -> KioskSurface:
        """The type checker's proof that the kiosk has what its screens use of it (screens/host.py)."""
        return kiosk
