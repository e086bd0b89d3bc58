"""Fewer things to type on the customer screen: the organisation completes from the institute's
list of names after two characters (one tap, or the down arrow and Enter), and a returning
customer scans an earlier ticket into any field to get the organisation and contact back, the
phone only confirmed by its last four digits. Nothing else of an earlier ticket is ever shown."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import events
from textual.widgets import Input

from screens.customer import CustomerScreen
from screens.returning import PhoneConfirm, PhoneDigits
from screens.suggestions import Suggestions
from screens.welcome import WelcomeScreen

from .kiosk_pilot import make_app, screen_text, settle

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
NAMES = ["贵州示范燃气有限公司", "贵州省计量测试院", "贵阳市示范水务有限公司", "遵义示范燃气表厂",
         "六盘水示范钢铁有限公司"]


async def to_customer(pilot, names=NAMES):
    from kiosk.store.organisations import learn

    await settle(pilot)
    await pilot.app.in_db_thread(learn, names, T0)
    await pilot.click("#register")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CustomerScreen)


async def typed(pilot, text: str):
    await pilot.press(*text)
    await settle(pilot)


async def scan(pilot, code: str, end: str = "enter"):
    """A keyboard-wedge scanner: the code's characters in one burst, then Enter (or Tab)."""
    app = pilot.app
    for key, char in [*((ch, ch) for ch in code), (end, {"enter": "\r", "tab": "\t"}[end])]:
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)


def field(app, name: str) -> Input:
    return app.screen.query_one(f"#field-{name}", Input)


def shown(app) -> list[str]:
    suggestions = app.screen.query_one(Suggestions)
    return suggestions.names if suggestions.display else []


async def test_names_appear_after_two_characters_and_one_tap_fills_the_field():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        await typed(pilot, "贵")
        assert shown(app) == []
        await typed(pilot, "州")
        assert shown(app) == ["贵州省计量测试院", "贵州示范燃气有限公司"]  # equally known here: by the name
        await typed(pilot, "示范")
        assert shown(app) == ["贵州示范燃气有限公司"]
        await pilot.press("backspace", "backspace")
        await settle(pilot)
        await pilot.click("#suggestions", offset=(4, 1))  # the second name: one tap
        await settle(pilot)
        assert field(app, "organisation").value == app.draft.organisation == "贵州示范燃气有限公司"
        assert shown(app) == [] and app.focused is field(app, "contact")


async def test_names_containing_the_text_follow_those_that_start_with_it_and_keys_choose_them():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        await typed(pilot, "燃气")
        assert shown(app) == ["贵州示范燃气有限公司", "遵义示范燃气表厂"]
        await pilot.press("down")
        suggestions = app.screen.query_one(Suggestions)
        assert app.focused is suggestions and suggestions.highlighted == 0
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.draft.organisation == "遵义示范燃气表厂" and app.focused is field(app, "contact")


async def test_keys_leave_the_list_and_tab_passes_it_by():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        await typed(pilot, "贵州")
        await pilot.press("down", "up")
        assert app.focused is field(app, "organisation") and shown(app)
        await pilot.press("down", "escape")  # Esc in the list: back to typing, not a step back
        assert isinstance(app.screen, CustomerScreen) and app.focused is field(app, "organisation")
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is field(app, "credit_code") and shown(app) == []
        await pilot.press("down")  # elsewhere the arrow does what it did
        assert app.focused is field(app, "credit_code")


async def test_full_width_and_spaces_complete_the_same_names_and_a_contact_is_never_offered():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot, [*NAMES, "ABC仪表(集团)有限公司"])
        await typed(pilot, "ＡＢ")
        assert shown(app) == ["ABC仪表(集团)有限公司"]
        field(app, "organisation").value = ""
        await typed(pilot, "贵 阳")
        assert shown(app) == ["贵阳市示范水务有限公司"]
        await register_earlier(pilot)  # contact 李工, phone 13812345678
        field(app, "organisation").value = ""
        await typed(pilot, "李工")
        assert shown(app) == []
        await typed(pilot, "13812")
        assert shown(app) == []


# ---- a returning customer ---------------------------------------------------------------------------


async def register_earlier(pilot, **customer):
    """A ticket registered at this kiosk some days ago."""
    from kiosk.store.registration import register
    from kiosk.store.tickets import CustomerDetails
    from tests.test_registration import sample

    app = pilot.app
    details = CustomerDetails(**{"organisation": "铜仁示范矿业有限公司", "credit_code": "91520100MA6DKJ2X4U",
                                 "address": "铜仁市碧江区某路1号", "contact": "李工", "phone": "13812345678",
                                 **customer})
    return await app.in_db_thread(register, sample(customer=details), app.catalog, app.policy, app.device,
                                  now=T0)


def nothing_private_shown(app) -> None:
    """Neither on top (a question) nor on the customer screen beneath: no full phone, address or
    credit code of the earlier ticket."""
    text = screen_text(app)
    for private in ("13812345678", "1381234", "碧江区", "91520100MA6DKJ2X4U"):
        assert private not in text
    customer = next(screen for screen in app.screen_stack if isinstance(screen, CustomerScreen))
    for name in ("credit_code", "address", "phone"):
        assert customer.query_one(f"#field-{name}", Input).value in ("", "13")


async def test_a_scanned_ticket_fills_organisation_and_contact_and_asks_about_the_phone():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        earlier = await register_earlier(pilot)
        field(app, "phone").focus()  # the scanner types into whichever field has the focus
        await typed(pilot, "13")
        await scan(pilot, earlier.code)
        assert isinstance(app.screen, PhoneConfirm)
        assert "电话尾号 5678 还用这个号码吗？" in screen_text(app)
        customer = app.screen_stack[-2]
        values = {name: customer.query_one(f"#field-{name}", Input).value for name in ("organisation", "contact",
                                                                                         "phone")}
        assert values == {"organisation": "铜仁示范矿业有限公司", "contact": "李工", "phone": "13"}
        nothing_private_shown(app)
        await pilot.click("#phone-same")
        await settle(pilot)
        assert app.screen is customer
        assert (app.draft.organisation, app.draft.contact, app.draft.phone) == ("铜仁示范矿业有限公司", "李工",
                                                                                 "13812345678")
        assert field(app, "phone").value == "13812345678" and app.draft.credit_code == app.draft.address == ""
        assert earlier.number in screen_text(app) and "请核对" in screen_text(app)
        assert app.focused is app.screen.query_one("#next")


async def test_another_number_leaves_the_phone_empty_for_typing_and_going_back_forgets_it_all():
    app = make_app("en")
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        earlier = await register_earlier(pilot)
        field(app, "organisation").post_message(events.Paste(earlier.code))  # a paste arrives whole
        await settle(pilot)
        assert isinstance(app.screen, PhoneConfirm)
        assert "Still the phone number ending in 5678?" in screen_text(app)
        await pilot.click("#phone-change")
        await settle(pilot)
        assert (app.draft.organisation, app.draft.contact, app.draft.phone) == ("铜仁示范矿业有限公司", "李工", "")
        assert app.focused is field(app, "phone") and field(app, "phone").value == ""
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen) and app.draft.is_empty


async def test_a_ticket_this_kiosk_does_not_know_and_a_forged_code_are_said_so():
    from kiosk.domain.ids import uuid7
    from kiosk.domain.ticketcode import CodeLine, TicketRecord, encode
    from kiosk.store.keys import signing_key

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        earlier = await register_earlier(pilot)
        elsewhere = encode(TicketRecord(uuid7(), "K9-261124-0001", app.device.uid, T0, 1,
                                        (CodeLine("L-001-001", 1, "verification", "safety"),), 0,
                                        catalog_hash=bytes(4), policy_hash=bytes(4)),
                           signing_key(app.device.uid))
        forged = earlier.code[:-20] + ("A" if earlier.code[-20] != "A" else "B") + earlier.code[-19:]
        for code, says, into, end in ((elsewhere, "这张单据不是本机登记的，请填写。", "organisation", "tab"),
                                      (forged, "无法验证这张单据", "contact", "enter"),
                                      (earlier.code[:60], "二维码没有读全，请再扫一次。", "address", "enter")):
            field(app, into).focus()
            await scan(pilot, code, end)
            assert isinstance(app.screen, CustomerScreen), code
            assert says in screen_text(app)
            assert field(app, into).value == "" and getattr(app.draft, into) == ""  # the scan is out of the field
            assert app.draft.organisation == app.draft.contact == "" and shown(app) == []
            assert app.focused is field(app, "organisation")


async def test_a_ticket_number_asks_the_phones_last_four_digits_first():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        earlier = await register_earlier(pilot)
        await typed(pilot, earlier.number.replace("-", " "))  # the pickup voucher's QR: the number with spaces
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PhoneDigits) and earlier.number in screen_text(app)
        assert app.screen_stack[-2].query_one("#field-organisation", Input).value == ""  # nothing before the check
        await typed(pilot, "1234")
        await pilot.press("enter")
        await settle(pilot)
        assert "不对，还可以试2次" in screen_text(app)
        nothing_private_shown(app)
        await typed(pilot, "5678")
        await pilot.click("#digits-ok")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert (app.draft.organisation, app.draft.contact, app.draft.phone) == ("铜仁示范矿业有限公司", "李工",
                                                                                 "13812345678")


async def test_the_scan_button_says_what_to_do():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_customer(pilot)
        field(app, "contact").focus()
        await pilot.click("#scan_earlier")
        await pilot.pause()
        assert "把上次受理单上的二维码对准扫描口" in screen_text(app)
        assert app.focused is field(app, "organisation")
        await pilot.press("f2")
        assert "Hold the QR code of an earlier ticket to the scanner" in screen_text(app)


async def test_a_number_no_ticket_here_has_stays_where_it_was_typed():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_customer(pilot)
        field(app, "phone").focus()
        await typed(pilot, "Q9 261124 0001")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert "本机没有这个单号，请核对或直接填写。" in screen_text(app)
        assert field(app, "phone").value == app.draft.phone == "Q9 261124 0001" and app.focused is field(app, "phone")
