"""Every kiosk screen, zh and en, at 80x24 and 120x40 (pytest-textual-snapshot)."""


import pytest

from screens.ticket import TicketScreen

from .kiosk_pilot import CUSTOMER, add_line, fill, make_app, settle, ticket_view, to_instruments

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def welcome(pilot):
    await settle(pilot)


async def fee_lookup(pilot):
    await settle(pilot)
    await pilot.click("#fees")
    await pilot.press(*"ylb")


async def customer(pilot):
    await settle(pilot)
    await pilot.click("#register")
    await fill(pilot, {**CUSTOMER, "phone": "12345"})
    # The action, not a click: a clicked button that stays on screen is caught mid press-effect.
    pilot.app.screen.action_next()  # shows the phone error


async def instruments(pilot):
    await to_instruments(pilot)
    await add_line(pilot, "ylb", quantity="3", use="trade")
    await pilot.press(*"tp")


async def line_editor(pilot):
    await to_instruments(pilot)
    await pilot.press(*"wyb", "enter", "enter")


async def options(pilot):
    await to_instruments(pilot)
    await add_line(pilot, "wyb", quantity="2", ranges="7", ac_dc=True)
    await pilot.click("#next")


async def estimate(pilot):
    await options(pilot)
    await pilot.pause()
    await pilot.click("#urgent-24h")
    await pilot.click("#next")


async def ticket(pilot):
    await settle(pilot)
    now = pilot.app.clock()
    pilot.app.clock = lambda: now  # the snapshot must not race the clock
    await pilot.app.push_screen(TicketScreen(ticket_view()))


async def ticket_not_printed(pilot):
    """The printer ran out of paper: the words say so, the QR stays, print again is offered."""
    await ticket(pilot)
    pilot.app.screen.show_print_state("failed", "paper_out", 1)


async def idle_warning(pilot):
    await to_instruments(pilot)
    app = pilot.app
    # Stop time 12 s before the wipe: the app's own once-a-second check then agrees.
    frozen = app.last_activity + app.config.idle_seconds - 12
    app.clock = lambda: frozen
    app.idle_tick()


async def maintenance(pilot):
    await settle(pilot)
    await pilot.press("f12", *"12")


SCREENS = [welcome, fee_lookup, customer, instruments, line_editor, options, estimate, ticket, ticket_not_printed,
           idle_warning, maintenance]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("steps", SCREENS, ids=lambda f: f.__name__)
def test_screen(snap_compare, steps, language, size):
    async def run_before(pilot):
        await steps(pilot)
        await pilot.pause()

    assert snap_compare(make_app(language), terminal_size=SIZES[size], run_before=run_before)
