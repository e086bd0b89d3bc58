"""What the kiosk refuses, forgets and never lets go of: bad input, idle wipe, lockdown."""

import gc

import pytest
from textual.widgets import Input

from db.models import Customer, Ticket
from screens.customer import CustomerScreen
from screens.idle import IdleWarning
from screens.instruments import InstrumentsScreen
from screens.line_editor import LineEditor
from screens.maintenance import MaintenanceExit
from screens.welcome import WelcomeScreen

from .kiosk_pilot import (
    CUSTOMER,
    FakeClock,
    add_line,
    fill,
    make_app,
    screen_text,
    settle,
    ticket_view,
    to_instruments,
)


@pytest.mark.parametrize(
    "field, value, zh, en",
    [
        ("organisation", "", "必填", "Required"),
        ("organisation", "公司" * 60, "最多100个字", "At most 100 characters"),
        ("organisation", "开心公司😀", "不能使用表情符号", "Emoji"),
        ("organisation", "公司\x1b[2J", "控制字符", "control characters"),
        ("phone", "12345", "请输入正确的手机号或座机号", "valid mobile or landline"),
        ("credit_code", "91350100M000100Y44", "校验位不对", "check character"),
        ("credit_code", "9135010OM000100Y43", "不含I、O、Z、S、V", "never I, O, Z, S or V"),
        ("contact", "", "必填", "Required"),
    ],
)
async def test_a_bad_customer_field_says_what_is_wrong_and_the_flow_waits(field, value, zh, en):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#register")
        await fill(pilot, {**CUSTOMER, field: value})
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        assert zh in screen_text(app)
        assert app.focused.id == f"field-{field}", "the cursor goes to the field to fix"
        await pilot.press("f2")
        assert en in screen_text(app)
    assert Customer.select().count() == 0


async def test_post_pickup_needs_an_address():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#register")
        await fill(pilot, CUSTOMER)
        await pilot.click("#pickup-post")
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen) and app.focused.id == "field-address"


@pytest.mark.parametrize("quantity, says", [("0", "数量应为1到999之间的整数"), ("1000", "1到999"),
                                            ("abc", "整数"), ("", "整数")])
async def test_a_bad_quantity_keeps_the_editor_open(quantity, says):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"ylb", "enter", "enter")
        await pilot.pause()
        app.screen.query_one("#field-quantity", Input).value = quantity
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, LineEditor) and says in screen_text(app)
        assert app.draft.lines == []


async def test_nothing_selected_does_not_advance():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, InstrumentsScreen)
        assert "请至少加入一台仪器" in screen_text(app)


async def test_an_idle_kiosk_counts_down_then_forgets_everything():
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await add_line(pilot, "ylb", quantity="2", serial_number="SECRET-42")
        clock.now += 49
        app.idle_tick()
        await pilot.pause()
        assert not isinstance(app.screen, IdleWarning)
        clock.now += 3  # 8 s left
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, IdleWarning)
        assert "8秒后将清除" in screen_text(app)
        clock.now += 8
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        assert app.draft.is_empty
        # the next person starts from nothing
        await pilot.click("#register")
        await pilot.pause()
        assert all(field.value == "" for field in app.screen.query(Input))
        assert "SECRET-42" not in screen_text(app) and "示范燃气" not in screen_text(app)
    assert Ticket.select().count() == 0


async def test_a_touch_during_the_countdown_keeps_the_form():
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        clock.now += 55
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, IdleWarning)
        await pilot.press("space")  # any key or tap
        await pilot.pause()
        clock.now += 30  # well past the original deadline
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, InstrumentsScreen)
        assert app.draft.organisation == CUSTOMER["organisation"]


@pytest.mark.parametrize("key", ["ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "escape"])
async def test_locked_keys_do_not_leave_the_kiosk(key):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, WelcomeScreen)


async def test_locked_keys_do_not_copy_customer_data():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#register")
        await pilot.press(*"ABC")
        app.focused.action_select_all()
        await pilot.press("ctrl+c")  # Input binds this to copy; the kiosk takes it first
        assert app.clipboard == ""


async def test_the_maintenance_pin_is_the_only_way_out():
    app = make_app(maintenance_pin="2468")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, MaintenanceExit)
        await pilot.press(*"0000", "enter")
        await settle(pilot)  # checked in the database thread
        assert app.is_running and "密码不对" in screen_text(app)
        await pilot.press(*"2468", "enter")
        await settle(pilot)
    assert app.return_code == 0


async def test_screens_the_customers_leave_are_freed_with_everything_they_drew():
    """A kiosk runs for months: a ticket screen that is gone must not keep its widgets or
    their rendered lines (Textual's StylesCache leak, and a stopped timer's pending sleep,
    each kept them)."""
    from textual._styles_cache import StylesCache

    from screens.ticket import TicketScreen

    def alive(kind) -> int:
        gc.collect()
        return sum(isinstance(o, kind) for o in gc.get_objects())

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view = ticket_view()
        before = alive(StylesCache)
        for _ in range(20):
            await app.push_screen(TicketScreen(view))
            await pilot.pause()
            await app.pop_screen()
        await pilot.pause()
        assert alive(TicketScreen) == 0
        assert alive(StylesCache) <= before
