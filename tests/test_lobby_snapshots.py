"""The lobby's small-screen layouts as pictures (pytest-textual-snapshot): at 80x24 the estimate's
total below five lines, search results with long specs wrapped whole, the line dialog in two
columns with the serial number being typed; at 100x30 a 5-line ticket's signed code as its QR.
The regions are asserted in test_lobby_layout.py and the QR scanned in test_ticket_qr_on_screen.py;
these show what a customer sees."""

import pytest

from screens.ticket import TicketScreen

from .kiosk_pilot import settle, ticket_view, to_instruments
from .test_lobby_layout import five_lines_to_the_estimate

# 238 characters of Base32, as long as a 5-line ticket's signed code (a real one carries today's date)
FIVE_LINE_CODE = "JL" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 7 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ23"


async def estimate_five_lines(pilot):
    await five_lines_to_the_estimate(pilot)


async def long_specs(pilot):
    """Steel tapes: the catalogue's longest specs."""
    await to_instruments(pilot)
    await pilot.press(*"gjc")


async def line_dialog_serial(pilot):
    await to_instruments(pilot)
    await pilot.press(*"wyb", "enter", "enter")
    await pilot.pause()
    pilot.app.screen.query_one("#field-serial_number").focus()
    await pilot.pause()
    await pilot.press(*"SN2026")


async def ticket_five_lines(pilot):
    await settle(pilot)
    now = pilot.app.clock()
    pilot.app.clock = lambda: now  # the countdown must not race the snapshot
    await pilot.app.push_screen(TicketScreen(ticket_view(qr_data=FIVE_LINE_CODE)))


CASES = [(estimate_five_lines, (80, 24)), (long_specs, (80, 24)), (line_dialog_serial, (80, 24)),
         (ticket_five_lines, (100, 30))]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("steps, size", CASES, ids=lambda v: v.__name__ if callable(v) else "x".join(map(str, v)))
def test_lobby_layout(snap_compare, steps, size, language):
    from .kiosk_pilot import make_app

    async def run_before(pilot):
        await steps(pilot)
        await pilot.pause()

    assert snap_compare(make_app(language), terminal_size=size, run_before=run_before)
