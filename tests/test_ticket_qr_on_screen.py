"""The ticket screen's QR as a phone or a desk's scanner reads it off the screen: the signed code
wherever its QR fits whole (100x30, 120x40), only the number where it does not (80x24), as the
README says. The screen is drawn to an image cell by cell (each half block two modules) and read
by an independent decoder (zxing-cpp); the code is verified as `kiosk ticket verify` does."""

import pytest
from PIL import Image
from rich.cells import cell_len

from db.models import Ticket
from kiosk.domain.ticketcode import decode
from kiosk.store.keys import keys_for
from screens.ticket import TicketScreen

from .kiosk_pilot import add_line, make_app, settle, to_instruments

HALVES = {"▀": (True, False), "▄": (False, True), "█": (True, True)}  # which halves take the foreground


def dark(color) -> bool:
    if color is None:
        return True  # the terminal's default background: a dark theme
    rgb = color.get_truecolor()
    return 0.299 * rgb.red + 0.587 * rgb.green + 0.114 * rgb.blue < 128


def screen_image(app, scale: int = 4) -> Image.Image:
    """Each cell as two pixels, top over bottom, black or white as the screen draws them; text
    cells show their background."""
    width, height = app.size
    image = Image.new("L", (width, 2 * height), 0)
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        x = 0
        for segment in strip:
            style = segment.style
            fg, bg = (style.color, style.bgcolor) if style else (None, None)
            if style and style.reverse:
                fg, bg = bg, fg
            for char in segment.text:
                top, bottom = HALVES.get(char, (False, False))
                for cell in range(x, min(x + cell_len(char), width)):  # a hanzi takes two cells
                    for half, foreground in ((0, top), (1, bottom)):
                        image.putpixel((cell, 2 * y + half), 0 if dark(fg if foreground else bg) else 255)
                x += cell_len(char)
    return image.resize((width * scale, 2 * height * scale), Image.Resampling.NEAREST)


def read_qr(app) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(screen_image(app), formats=zxingcpp.BarcodeFormat.QRCode)]


async def register(pilot, lines: int) -> Ticket:
    await to_instruments(pilot)
    for query, values in (("ylb", {"use": "safety"}), ("wyb", {"ranges": "7"}), ("gjc", {"metres": "12"}),
                          ("tp", {}), ("wdj", {}))[:lines]:
        await add_line(pilot, query, quantity="2", **values)
    await pilot.click("#next")
    await pilot.pause()
    pilot.app.screen.action_next()
    await pilot.pause()
    pilot.app.screen.action_confirm()
    await settle(pilot)
    assert isinstance(pilot.app.screen, TicketScreen)
    return Ticket.get()


@pytest.mark.parametrize("size, lines, carries", [
    ((80, 24), 1, "number"),
    ((100, 30), 1, "code"),
    ((120, 40), 1, "code"),
    ((100, 30), 5, "code"),
    ((120, 40), 5, "code"),
])
async def test_the_qr_on_screen_scans_as_the_signed_code_wherever_it_fits(size, lines, carries):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        ticket = await register(pilot, lines)
        await pilot.pause()
        scanned = read_qr(app)
        assert len(scanned) == 1, scanned  # one QR, whole
        if carries == "number":
            assert scanned == [ticket.number]
        else:
            assert scanned == [ticket.code]
            record = decode(scanned[0], keys_for)  # as `kiosk ticket verify` checks it: signed by this kiosk
            assert (record.number, len(record.lines)) == (ticket.number, lines)
        assert ticket.number in "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_the_qr_follows_the_window_size():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await register(pilot, 1)
        assert read_qr(app) == [ticket.code]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert read_qr(app) == [ticket.number]
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert read_qr(app) == [ticket.code]


async def test_the_buttons_and_the_countdown_stay_in_sight_beside_the_qr():
    from .test_lobby_layout import in_sight

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await register(pilot, 5)
        screen = app.screen
        screen.show_print_state("failed", "paper_out", 1)  # 重新打印 shows too
        await pilot.pause()
        for selector in ("#done", "#retry", "#ticket-countdown", "#ticket-number", "#print-status", "#qr"):
            assert in_sight(screen.query_one(selector)), selector
