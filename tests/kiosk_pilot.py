"""Driving the kiosk in tests: start it, wait for its workers (never sleep), fill steps."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

from textual.widgets import DataTable, Input

from kiosk.settings.config import load_config
from kiosk.settings.institute import Text
from screens.app import KioskApp

CUSTOMER = {
    "organisation": "示范燃气（集团）有限公司",
    "credit_code": "91350100M000100Y43",
    "contact": "李工",
    "phone": "１３８ １２３４ ５６７８",  # full-width, as an IME types it
}


def ticket_view(**changes):
    """A ticket as the ticket screen shows it, without registering one."""
    from screens.ticket import TicketView

    view = TicketView(number="K1A-261124-0007", qr_data="K1A-261124-0007",
                      created_at=datetime(2026, 11, 24, 9, 41, tzinfo=UTC), ready_on=date(2026, 12, 8),
                      urgent_hours=None, counter=Text("1号收件窗口", "Receiving counter 1"))
    return replace(view, **changes)


class FakeClock:
    """The app's clock, moved by the test: time passes without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_app(language: str = "zh", clock=None, **overrides) -> KioskApp:
    config = replace(load_config(), language=language, **overrides)
    app = KioskApp(config, clock=clock) if clock else KioskApp(config)
    # The snapshot plugin imports Textual before conftest could set TEXTUAL_ANIMATIONS.
    app.animation_level = "none"
    return app


async def settle(pilot) -> None:
    """Let workers finish and their messages land, and the workers those messages start
    (a registration starts the printing of its receipt)."""
    for _ in range(10):
        finite = _finite(pilot.app)
        if finite:  # an empty list would mean "all of them" to wait_for_complete
            await pilot.app.workers.wait_for_complete(finite)
        await pilot.pause()
        if not any(w.is_running for w in _finite(pilot.app)):
            await _printer_known(pilot)
            return
    raise AssertionError("workers keep starting workers")


async def _printer_known(pilot) -> None:
    """A desk's status line says "checking" until the printer's first answer: wait for it."""
    import asyncio

    app = pilot.app
    reported = getattr(app, "printer_reported", None)
    if reported is not None and getattr(app, "device", None) is not None and not reported.is_set():
        await asyncio.wait_for(reported.wait(), 30)
        await pilot.pause()


def _finite(app) -> list:
    """Every worker but those that run for as long as the app: the sync loop (see next_sync)
    and the desk's printer probe."""
    return [w for w in app.workers if w.group not in ("sync", "printer-probe")]


async def next_sync(pilot, timeout: float = 30):
    """Wake the sync loop and wait for the state it reports after its pass (the timeout only
    guards against a hang; nothing is timed)."""
    import asyncio

    app = pilot.app
    app.sync_reported.clear()
    app.sync_soon()
    await asyncio.wait_for(app.sync_reported.wait(), timeout)
    await pilot.pause()
    return app.sync_state


async def sync_until(pilot, done, passes: int = 20):
    """Passes (next_sync) until the state they report is `done`; the state."""
    for _ in range(passes):
        state = await next_sync(pilot)
        if done(state):
            return state
    raise AssertionError(f"sync never reached the expected state: {pilot.app.sync_state}")


async def fill(pilot, values: dict[str, str]) -> None:
    for name, value in values.items():
        pilot.app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.pause()


async def to_instruments(pilot) -> None:
    await settle(pilot)
    await pilot.click("#register")
    await settle(pilot)
    await fill(pilot, CUSTOMER)
    await pilot.click("#next")
    await settle(pilot)


async def to_estimate(pilot) -> None:
    """One pressure gauge registered as far as the estimate screen. Each step settled before the
    next tap: on a loaded machine a tap could land on the screen being left (the options screen
    was still up when the test tapped confirm)."""
    from screens.estimate import EstimateScreen

    await to_instruments(pilot)
    await add_line(pilot, "ylb", quantity="1")
    await pilot.click("#next")
    await settle(pilot)
    await pilot.click("#next")
    await settle(pilot)
    assert isinstance(pilot.app.screen, EstimateScreen), pilot.app.screen


async def register_one(pilot) -> None:
    """One pressure gauge registered, to the ticket screen and its receipt printed (or not)."""
    await to_estimate(pilot)
    pilot.app.screen.action_confirm()  # a tap on confirm, at any screen size
    await settle(pilot)


async def add_line(pilot, query: str, *, pick: int = 0, **values) -> None:
    """Search, pick the pick-th variant, fill the editor, add."""
    await pilot.press(*query, "enter")
    table = pilot.app.screen.query_one("#hits", DataTable)
    table.move_cursor(row=pick)
    await pilot.press("enter")
    await pilot.pause()
    await edit_open_line(pilot, **values)
    await pilot.click("#save")
    await pilot.pause()


async def edit_open_line(pilot, *, use: str | None = None, ac_dc: bool = False, **fields) -> None:
    screen = pilot.app.screen
    for name, value in fields.items():
        screen.query_one(f"#field-{name}", Input).value = value
    if use:
        await click_in_view(pilot, f"#use-{use}")
    if ac_dc:
        await click_in_view(pilot, "#ac_dc")
    await pilot.pause()


async def click_in_view(pilot, selector: str) -> None:
    """Scrolled into sight first, as a finger swipes: the on-screen keyboard's rows may have put it
    below the fold (a click at a widget out of sight lands on whatever is drawn there)."""
    pilot.app.screen.query_one(selector).scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click(selector)


async def open_line(pilot, index: int) -> None:
    table = pilot.app.screen.query_one("#lines", DataTable)
    table.focus()
    table.move_cursor(row=index)
    await pilot.press("enter")
    await pilot.pause()


def screen_text(app) -> str:
    """The text of every label, table and message on the screen, as a customer reads it."""
    from rich.console import Console
    from rich.text import Text
    from textual.content import Content
    from textual.widgets import Static

    console = Console(width=200, record=True, file=io.StringIO())
    parts = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Static):
            content = widget.content
            if isinstance(content, (str, Content)):
                parts.append(Content.from_markup(content).plain if isinstance(content, str) else content.plain)
            elif isinstance(content, Text):
                parts.append(content.plain)
            else:
                console.print(content)
                parts.append(console.export_text())
        elif isinstance(widget, DataTable):
            parts.extend(str(cell) for r in range(widget.row_count) for cell in widget.get_row_at(r))
    return "\n".join(parts)
