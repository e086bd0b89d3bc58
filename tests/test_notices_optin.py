"""The customer's choice to be told (issue 21, central/notices/): off unless ticked on the options screen, which
says what will be sent and to which phone; it travels in the registration's optional `notify`, which central
takes."""

import json

from db.models import OutboxEvent
from kiosk.domain import events
from screens.estimate import EstimateScreen
from screens.options import OptionsScreen

from .kiosk_pilot import add_line, fill, make_app, screen_text, settle, to_instruments


async def to_options(pilot) -> None:
    await to_instruments(pilot)
    await add_line(pilot, "ylb", quantity="1", use="safety")
    await pilot.click("#next")
    await pilot.pause()
    assert isinstance(pilot.app.screen, OptionsScreen)


async def confirm(pilot) -> dict:
    pilot.app.screen.action_next()  # a tap on 查看费用, wherever the on-screen keyboard left it
    await pilot.pause()
    assert isinstance(pilot.app.screen, EstimateScreen)
    pilot.app.screen.action_confirm()
    await settle(pilot)
    payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "ticket.registered").payload)
    events.read(events.strict(events.Registered), payload)  # central's shape takes it
    return payload


async def test_off_by_default_and_nothing_is_written():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_options(pilot)
        assert "138****5678" in screen_text(app)  # what would be sent, and where, is said before choosing
        payload = await confirm(pilot)
        assert "notify" not in payload


async def test_ticked_it_travels_with_the_language_phone_and_email():
    app = make_app("en")
    async with app.run_test(size=(120, 40)) as pilot:
        await to_options(pilot)
        assert "A text to 138****5678" in screen_text(app)
        await pilot.click("#notify")
        await fill(pilot, {"email": "ｌｉ@example.cn"})  # full width, as an IME types it
        payload = await confirm(pilot)
        assert payload["notify"] == {"language": "en", "sms": True, "email": "li@example.cn"}


async def test_a_bad_address_or_nowhere_to_send_is_said_on_the_screen():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        app.draft.phone = "0851-86801234"  # a landline: no SMS
        await add_line(pilot, "ylb", quantity="1")
        await pilot.click("#next")
        await pilot.pause()
        assert "不是手机" in screen_text(app)
        await pilot.click("#notify")
        app.screen.action_next()
        await pilot.pause()
        assert isinstance(app.screen, OptionsScreen) and "请填写手机号码或邮箱" in screen_text(app)
        await fill(pilot, {"email": "not an address"})
        app.screen.action_next()
        await pilot.pause()
        assert isinstance(app.screen, OptionsScreen) and "邮箱格式不对" in screen_text(app)
        await fill(pilot, {"email": "li@example.cn"})
        payload = await confirm(pilot)
        assert payload["notify"] == {"language": "zh", "sms": False, "email": "li@example.cn"}
