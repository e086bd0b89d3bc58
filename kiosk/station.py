"""What the customer kiosk and the clerk desk share: one thread for all database work (one
long-lived connection; writes serialised by construction; no worker thread touches a
widget), one thread for the printer, and the loop that prints due receipts between them.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from textual import work
from textual.app import App

from screens.textual_fixes import fix_styles_cache_leak

from .config import Config
from .institute import load_institute

fix_styles_cache_leak()


class Station(App, inherit_bindings=False):
    STATION = "station"  # names its threads: kiosk-db, desk-print, ...

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.info = load_institute(config.info_file)
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.STATION}-db")
        # Printing has its own thread: a slow serial printer or a dead network printer (up
        # to its timeout) never holds up the database. It never touches the database.
        self.print_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.STATION}-print")
        self.printing = False  # the print worker is running
        self.print_retry_at = None  # UTC: when a failed receipt is tried again by itself

    async def in_db_thread(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, partial(fn, *args, **kwargs))

    def on_unmount(self) -> None:
        # A receipt being sent is not waited for: its job stays `printing` and is printed
        # again at the next start.
        self.print_thread.shutdown(wait=False, cancel_futures=True)
        self.db_thread.submit(_close_database)
        self.db_thread.shutdown(wait=True)

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
        from .spool import PrinterSettings, print_due

        loop = asyncio.get_running_loop()
        try:
            self.print_retry_at = await print_due(
                self.in_db_thread, lambda fn, *args: loop.run_in_executor(self.print_thread, fn, *args),
                PrinterSettings.from_config(self.config), self.info, self.print_state_changed)
        finally:
            self.printing = False


def _close_database() -> None:
    from db.models import database_proxy

    if database_proxy.obj is not None:
        database_proxy.close()
