"""Out of service: the kiosk could not open its database (disk full, read-only, damaged, a
failed upgrade backup), or the database failed under it while running (a disk that filled up
while printing). One full screen, in Chinese and English at once, with what staff should do;
the technical detail small underneath (a path and an error, never personal data). F12 still
leaves the kiosk with the maintenance PIN, if the database can record the attempt. The one
put up while running goes by itself once the database takes writes again (Station)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Static

from kiosk.i18n import t

from .base import KioskScreen

# What the screen says (the failure, what staff should do), by (failed while running, at the clerk desk).
KEYS = {
    (False, False): ("startup.failed", "startup.staff"),
    (False, True): ("startup.desk_failed", "startup.desk_staff"),
    (True, False): ("outage.failed", "outage.staff"),
    (True, True): ("outage.desk_failed", "outage.desk_staff"),
}


class OutOfService(KioskScreen):
    TITLE_KEY = "startup.title"  # the station's back_to_start() and idle timeout leave it in place
    CSS_PATH = Path(__file__).parent / "out_of_service.tcss"

    def __init__(self, problem, detail: str, station: str = "kiosk", running: bool = False) -> None:
        """`problem`: a kiosk.ops.doctor.Msg saying what is wrong; `detail`: the error, for staff;
        `station`: kiosk | desk (the clerk desk says it for clerks); `running`: it failed while
        running, not at start."""
        super().__init__()
        self.problem = problem
        self.detail = detail
        self.failed_key, self.staff_key = KEYS[running, station == "desk"]

    def compose_body(self) -> ComposeResult:
        yield Static(id="oos-headline")
        yield Static(id="oos-zh", classes="oos-text", markup=False)
        yield Static(id="oos-en", classes="oos-text", markup=False)
        yield Static(id="oos-detail", markup=False)

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#oos-headline", Static).update(f"{t('startup.title', 'zh')}  {t('startup.title', 'en')}")
        for lang in ("zh", "en"):
            self.query_one(f"#oos-{lang}", Static).update(
                t(self.failed_key, lang, problem=self.problem.text(lang)) + "\n" + t(self.staff_key, lang))
        self.query_one("#oos-detail", Static).update(self.detail[:400])

    def action_back(self) -> None:
        """Nowhere to go back to: the welcome screen under this one cannot serve anyone."""
