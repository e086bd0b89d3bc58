"""The customer's path, welcome to ticket, with Pilot: what is stored and what is shown."""

from db.models import OutboxEvent, PrintJob, Ticket, TicketLine
from kiosk.domain.ticketcode import decode
from kiosk.store.keys import keys_for
from screens.customer import CustomerScreen
from screens.estimate import EstimateScreen
from screens.instruments import InstrumentsScreen
from screens.options import OptionsScreen
from screens.qrtext import qr_half_blocks
from screens.ticket import TicketScreen
from screens.welcome import WelcomeScreen

from .kiosk_pilot import (
    FakeClock,
    add_line,
    edit_open_line,
    make_app,
    open_line,
    register_one,
    screen_text,
    settle,
    ticket_view,
    to_estimate,
    to_instruments,
)


async def test_a_registration_from_welcome_to_ticket():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        assert isinstance(app.screen, InstrumentsScreen)
        # a gauge used for safety: compulsory verification, free
        await add_line(pilot, "ylb", quantity="3", use="safety", serial_number="A-001")
        # a multimeter by its alias 万用表 (wyb): calibration, priced by ranges, AC+DC
        await add_line(pilot, "wyb", quantity="2", ranges="7", ac_dc=True, model="FLUKE 17B")
        # a tape measure, added by mistake and removed
        await add_line(pilot, "gjc", metres="7.5")
        assert [ln.code[0] for ln in app.draft.lines] == ["L", "D", "C"]
        await open_line(pilot, 2)
        await pilot.click("#remove")
        await pilot.pause()
        # the gauges were four, not three
        await open_line(pilot, 0)
        await edit_open_line(pilot, quantity="4")
        await pilot.click("#save")
        await pilot.pause()
        assert [(ln.code, ln.quantity) for ln in app.draft.lines] == [("L-001-001", 4), ("D-002-001", 2)]

        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, OptionsScreen)
        await pilot.click("#urgent-72h")
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen)
        shown = screen_text(app)
        assert "强制检定免费（安全防护）" in shown and "强制检定不收加急费" in shown
        assert "加急72h加收30%" in shown and "以窗口确认为准" in shown
        total = app.screen.estimate.total_fen
        assert f"￥{total // 100:,}.{total % 100:02d}" in shown

        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        ticket = Ticket.get()
        assert ticket.number in screen_text(app)
        assert "您的受理号" in screen_text(app)
        # the QR on screen is the ticket's signed code, which this kiosk's public key verifies
        assert app.screen.view.qr_data == ticket.code
        assert str(app.screen.query_one("#qr").render()) == qr_half_blocks(ticket.code)
        record = decode(ticket.code, keys_for)
        assert (record.ticket_uid, record.number, record.total_fen) == (ticket.uid, ticket.number, total)
        assert [(ln.code, ln.quantity, ln.use) for ln in record.lines] == [("L-001-001", 4, "safety"),
                                                                          ("D-002-001", 2, "other")]
        lines = list(ticket.lines.order_by(TicketLine.position))
        assert [(ln.code, ln.quantity, ln.use) for ln in lines] == [("L-001-001", 4, "safety"),
                                                                   ("D-002-001", 2, "other")]
        assert lines[0].free_reason == "compulsory_verification" and lines[0].serial_number == "A-001"
        assert (lines[1].ranges, lines[1].ac_dc, lines[1].model) == (7, True, "FLUKE 17B")
        assert ticket.urgent == "72h" and ticket.total_fen == total
        customer = ticket.customer
        assert (customer.organisation, customer.phone) == ("示范燃气（集团）有限公司", "13812345678")
        assert PrintJob.select().count() == 1 and OutboxEvent.select().count() == 1
        assert app.draft.is_empty, "the ticket is made: nothing of the customer's stays in memory"

        await pilot.click("#done")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)


async def test_going_back_keeps_everything_typed():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await pilot.click("#back")
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.query_one("#field-organisation").value == "示范燃气（集团）有限公司"


async def test_switching_language_keeps_what_was_typed_and_rewords_errors():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#register")
        app.screen.query_one("#field-phone").value = "12345"
        await pilot.click("#next")
        await pilot.pause()
        assert "请输入正确的手机号或座机号" in screen_text(app)
        await pilot.press("f2")
        assert app.language == "en"
        assert app.screen.query_one("#field-phone").value == "12345"
        shown = screen_text(app)
        assert "Enter a valid mobile or landline number" in shown and "Organisation" in shown
        assert "手机" not in shown


async def test_a_double_tap_on_confirm_makes_one_ticket():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_estimate(pilot)
        screen = app.screen
        screen.action_confirm()
        screen.action_confirm()  # the second tap, before the worker is done
        if app.screen is screen:  # a third, by the pointer, unless a busy machine let the ticket screen come first
            await pilot.click("#confirm")
        await settle(pilot)
        assert Ticket.select().count() == 1


async def test_the_ticket_screen_counts_down_then_returns_to_the_welcome_screen():
    clock = FakeClock()
    app = make_app(clock=clock, ticket_seconds=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await register_one(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert "30秒后返回首页" in screen_text(app)
        clock.now += 12
        app.idle_tick()
        await pilot.pause()
        assert "18秒后返回首页" in screen_text(app)
        clock.now += 18
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        assert Ticket.get().number not in screen_text(app)


async def test_a_clock_tick_before_the_ticket_screen_is_mounted_does_not_send_it_away():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        mounted = app.push_screen(TicketScreen(ticket_view()))
        app.idle_tick()  # the once-a-second clock, between the push and the mount
        await mounted
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert "K1A-261124-0007" in screen_text(app)


async def test_a_screen_too_small_for_the_signed_code_shows_the_number_qr_whole():
    """At 80x24 the signed code's QR (33 rows) cannot fit; a QR cut by the edge scans as
    nothing, so the screen shows the number's QR, whole, and the receipt carries the code."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await register_one(pilot)
        ticket = Ticket.get()
        assert str(app.screen.query_one("#qr").render()) == qr_half_blocks(ticket.number)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert str(app.screen.query_one("#qr").render()) == qr_half_blocks(ticket.code)
