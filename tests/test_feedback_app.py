"""服务评价 through the running kiosk (Pilot): the three-tap fast path, the poor-rating path,
the duplicate, the anonymous rating, wrong tickets, the phone check of a ticket found by its
number, the idle wipe. No sleeping: the app's clock is moved by hand, workers are waited for."""

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Input

from db.models import Feedback, Followup, OutboxEvent
from kiosk.domain.feedback import FeedbackEntry, TicketPass
from kiosk.printing.receipts import voucher_qr
from kiosk.store.feedback import PHONE_TRIES_HERE
from screens.feedback import (
    THANKS_SECONDS,
    DetailsScreen,
    FeedbackStartScreen,
    FeedbackThanks,
    PhoneCheckScreen,
    RatingScreen,
    ReasonScreen,
)
from screens.idle import IdleWarning
from screens.welcome import WelcomeScreen

from .kiosk_pilot import FakeClock, make_app, screen_text, settle

AT = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
RIGHT_DIGITS = "5678"  # the sample customer's phone: 13812345678


@pytest.fixture(autouse=True)
def no_wrong_tries():
    """The phone check's wrong tries are the kiosk process's: none from another test."""
    PHONE_TRIES_HERE.forget()
    yield
    PHONE_TRIES_HERE.forget()


@pytest.fixture
def tickets():
    """The kiosk's database with two tickets: one picked up (it may be rated), one only
    registered (not yet). Made before the app starts, as a day at the counters leaves it."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.settings.config import load_config
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    config = load_config()
    db = open_database(config.database)
    ensure_catalog()
    device = ensure_device("K1")
    served = register(sample(), load_catalog(), default_policy(), device)
    waiting = register(sample(), load_catalog(), default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    receive(served.id, clerk, device, now=AT)
    mark_ready(served.id, clerk, device, now=AT + timedelta(days=5))
    pick_up(served.id, clerk, device, now=AT + timedelta(days=6))
    db.close()
    return {"served": served, "waiting": waiting}


class Taps:
    """Counts the customer's taps; a scanner's burst is not a tap."""

    def __init__(self, pilot) -> None:
        self.pilot, self.count = pilot, 0

    async def __call__(self, selector: str) -> None:
        self.count += 1
        await tap(self.pilot, selector)


async def tap(pilot, selector: str) -> None:
    """A tap, as a person makes it: not within a button's 0.2 s press effect (Textual ignores a
    second click then, which a test would otherwise run into without sleeping), and the next one
    only once what it opened has settled (on a busy machine a tap on a screen still being pushed
    was lost: the start screen stayed)."""
    pilot.app.screen.query_one(selector).remove_class("-active")
    await pilot.click(selector)
    await settle(pilot)


async def scan(pilot, text: str, end: str = "enter") -> None:
    """A keyboard-wedge scanner: the characters, then Enter (or Tab)."""
    keys = ["space" if ch == " " else "minus" if ch == "-" else ch for ch in text]
    await pilot.press(*keys, end)
    await settle(pilot)


async def scan_code(pilot, ticket) -> None:
    """The ticket's signed code as one burst into the scan field, then Enter (typed key by key,
    its ~300 characters cost a test 9 s; that is tested once, ending with Tab, below)."""
    pilot.app.screen.query_one("#field-scan", Input).value = ticket.code
    await pilot.press("enter")
    await settle(pilot)


def feedback_events() -> list[OutboxEvent]:
    return list(OutboxEvent.select().where(OutboxEvent.kind == "feedback.given"))


async def test_the_fast_path_is_three_taps(tickets):
    """The ticket's signed code: no phone check. (Until the phone check this test scanned the
    pickup voucher's QR, a plain number: that path now asks four digits, see below.)"""
    ticket = tickets["served"]
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tap = Taps(pilot)
        await tap("#feedback")
        assert isinstance(app.screen, FeedbackStartScreen)
        await scan_code(pilot, ticket)  # the ticket's signed QR code
        assert isinstance(app.screen, RatingScreen)
        text = screen_text(app)
        assert ticket.number in text and "示范燃气" not in text and "13812345678" not in text
        await tap("#rate-5")
        assert isinstance(app.screen, DetailsScreen)
        await tap("#submit")
        assert tap.count == 3
        assert isinstance(app.screen, FeedbackThanks) and len(app.screen_stack) == 2
        assert "感谢您的评价" in screen_text(app)
        # back to the start by itself
        clock.now += THANKS_SECONDS
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
    row = Feedback.get()
    assert (row.ticket_id, row.rating, row.hearts, row.reason, row.callback_phone) == (ticket.id, 5, "", None, None)
    assert row.picked_up_clerk == "wang"
    assert len(feedback_events()) == 1 and Followup.select().count() == 0


async def test_the_voucher_qr_or_a_typed_number_asks_the_phone_digits_first(tickets):
    """A number anyone could type: the last four digits of the contact phone, a wrong try
    said so and retried, then the rating, linked. The phone is never on screen."""
    ticket = tickets["served"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tap = Taps(pilot)
        await tap("#feedback")
        await scan(pilot, voucher_qr(ticket.number))  # the pickup voucher's QR: a plain number
        assert isinstance(app.screen, PhoneCheckScreen)
        text = screen_text(app)
        assert ticket.number in text and "后四位" in text
        assert "5678" not in text and "138" not in text and "示范燃气" not in text
        digits = app.screen.query_one("#field-digits", Input)
        assert digits.has_focus
        await pilot.press(*"567", "enter")  # three digits: a slip, not a try
        await settle(pilot)
        assert isinstance(app.screen, PhoneCheckScreen) and "请输入4位数字" in screen_text(app)
        digits.value = ""
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PhoneCheckScreen)
        assert "手机尾号不对，请再试一次（还可以试2次）" in screen_text(app)
        assert "5678" not in screen_text(app)
        await pilot.press(*"５６７８", "enter")  # full width, as an IME types them; replaces the wrong ones
        await settle(pilot)
        assert isinstance(app.screen, RatingScreen) and ticket.number in screen_text(app)
        await tap("#rate-5")
        await tap("#submit")
        assert tap.count == 3  # the digits are typed, not tapped
        assert isinstance(app.screen, FeedbackThanks)
    row = Feedback.get()
    assert (row.ticket_id, row.rating, row.ticket_number) == (ticket.id, 5, ticket.number)
    assert len(feedback_events()) == 1


async def test_three_wrong_tries_leave_only_the_anonymous_rating(tickets):
    ticket = tickets["served"]
    app = make_app(language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, ticket.number)
        for wrong in ("0000", "1111", "2222"):
            app.screen.query_one("#field-digits", Input).value = ""
            await pilot.press(*wrong, "enter")
            await settle(pilot)
        assert isinstance(app.screen, PhoneCheckScreen)
        assert "wrong 3 times: here it can only be rated without a ticket" in screen_text(app)
        assert app.screen.query_one("#field-digits", Input).disabled and app.screen.query_one("#check").disabled
        assert app.screen.query_one("#anonymous").has_focus  # Enter: the one way left
        app.screen.action_check()  # too late, however it is asked
        await settle(pilot)
        assert isinstance(app.screen, PhoneCheckScreen)
        await tap(pilot, "#back")  # and starting again does not give three more
        app.screen.query_one("#field-scan", Input).value = ""
        await scan(pilot, ticket.number)
        assert isinstance(app.screen, FeedbackStartScreen) and "wrong 3 times" in screen_text(app)
        await tap(pilot, "#anonymous")
        await tap(pilot, "#rate-4")
        await tap(pilot, "#submit")
        assert isinstance(app.screen, FeedbackThanks)
    row = Feedback.get()
    assert (row.ticket_id, row.rating) == (None, 4)


async def test_a_ticket_without_a_phone_offers_the_anonymous_rating(tickets):
    from db.models import Customer, Ticket

    ticket = tickets["served"]
    Customer.update(phone="").where(Customer.id == Ticket.get_by_id(ticket.id).customer_id).execute()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, ticket.number)
        assert isinstance(app.screen, FeedbackStartScreen)
        assert f"受理单{ticket.number}登记时没有留联系电话，无法核对，请点不记名评价" in screen_text(app)


async def test_a_scan_ending_with_tab_and_the_signed_ticket_code_are_read(tickets):
    ticket = tickets["served"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, ticket.code, end="tab")
        assert isinstance(app.screen, RatingScreen)
        assert ticket.number in screen_text(app)


async def test_a_poor_rating_needs_a_reason_and_opens_a_follow_up(tickets):
    ticket = tickets["served"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan_code(pilot, ticket)
        await pilot.click("#rate-1")
        await settle(pilot)
        assert isinstance(app.screen, ReasonScreen)
        await tap(pilot, "#next")  # no reason chosen
        assert isinstance(app.screen, ReasonScreen) and "请选择一个原因" in screen_text(app)
        await tap(pilot, "#reason-other")  # "other" needs words
        assert str(app.screen.query_one("#reason-other").label) == "✓ 其他原因"
        await tap(pilot, "#next")
        assert isinstance(app.screen, ReasonScreen) and "必填" in screen_text(app)
        await tap(pilot, "#reason-slow")
        assert str(app.screen.query_one("#reason-other").label) == "其他原因"
        app.screen.query_one("#field-reason_text", Input).value = "排队一个多小时"
        await tap(pilot, "#next")
        assert isinstance(app.screen, DetailsScreen)
        await pilot.click("#callback")
        await settle(pilot)
        phone = app.screen.query_one("#field-phone", Input)
        assert phone.has_focus
        phone.value = "12345"
        await tap(pilot, "#submit")
        assert isinstance(app.screen, DetailsScreen) and Feedback.select().count() == 0  # a bad phone: nothing
        assert "请输入正确的手机号" in screen_text(app)
        phone.value = "１３９ ８７６５ ４３２１"
        await tap(pilot, "#submit")
        await settle(pilot)
        assert isinstance(app.screen, FeedbackThanks)
        assert "回电" in screen_text(app)
    row = Feedback.get()
    assert (row.rating, row.reason, row.reason_text, row.callback_phone) == (1, "slow", "排队一个多小时", "13987654321")
    followup = Followup.get()
    assert followup.feedback_id == row.id and followup.status == "open"


async def test_a_ticket_rated_already_is_thanked_and_nothing_changes(tickets):
    ticket = tickets["served"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, ticket.number)
        await pilot.press(*RIGHT_DIGITS, "enter")
        await settle(pilot)
        await pilot.click("#rate-4")
        await settle(pilot)
        await pilot.click("#submit")
        await settle(pilot)
        await pilot.click("#done")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        # the same slip again: said only once the phone's digits are right
        await tap(pilot, "#feedback")
        await scan(pilot, ticket.number)
        assert isinstance(app.screen, PhoneCheckScreen)
        await pilot.press(*RIGHT_DIGITS, "enter")
        await settle(pilot)
        assert isinstance(app.screen, FeedbackThanks)
        assert "已经评价过" in screen_text(app)
    assert Feedback.select().count() == 1 and Feedback.get().rating == 4 and len(feedback_events()) == 1


async def test_a_rating_given_meanwhile_elsewhere_wins_and_the_second_changes_nothing(tickets):
    """Rated between the scan and the submit (a second kiosk window, say): the database's
    unique index decides; the customer is thanked; nothing is written."""
    from kiosk.store.feedback import give_feedback

    ticket = tickets["served"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan_code(pilot, ticket)
        await pilot.click("#rate-2")
        await settle(pilot)
        elsewhere = TicketPass._issue(ticket.id, "code")  # the other window's scan
        await app.in_db_thread(give_feedback, FeedbackEntry(ticket.id, 5, ticket_pass=elsewhere))
        await pilot.click("#reason-fees")
        await pilot.click("#next")
        await settle(pilot)
        await pilot.click("#submit")
        await settle(pilot)
        assert isinstance(app.screen, FeedbackThanks) and "已经评价过" in screen_text(app)
    assert Feedback.select().count() == 1 and Feedback.get().rating == 5 and Followup.select().count() == 0


async def test_an_anonymous_rating_stores_no_ticket(tickets):
    app = make_app(language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tap = Taps(pilot)
        await tap("#feedback")
        await tap("#anonymous")
        assert "Anonymous" in screen_text(app)
        await tap("#rate-4")
        await tap("#heart-warm")
        await tap("#heart-patient")
        await tap("#heart-warm")  # and off again
        app.screen.query_one("#field-comment", Input).value = "Clear\x1b[2J fee list"
        await tap("#submit")
        assert isinstance(app.screen, DetailsScreen) and "control characters" in screen_text(app)
        app.screen.query_one("#field-comment", Input).value = "Clear fee list, thanks"
        await tap("#submit")
        assert isinstance(app.screen, FeedbackThanks) and "Thank you" in screen_text(app)
        # The app's clock ticks while the screen is torn down (CI saw it at app exit): no error.
        await app.screen.query_one("#thanks-countdown").remove()
        app.idle_tick()
        assert isinstance(app.screen, FeedbackThanks)
    row = Feedback.get()
    assert (row.ticket_id, row.rating, row.hearts, row.comment, row.language) == (
        None, 4, "patient", "Clear fee list, thanks", "en")


async def test_wrong_tickets_say_why_and_offer_the_anonymous_way(tickets):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, "K1-991231-0099")
        assert isinstance(app.screen, FeedbackStartScreen) and "没有找到这张受理单" in screen_text(app)
        app.screen.query_one("#field-scan", Input).value = ""
        await scan(pilot, tickets["waiting"].number)
        assert isinstance(app.screen, FeedbackStartScreen)
        assert f"受理单{tickets['waiting'].number}还没有在窗口收件" in screen_text(app)
        await pilot.click("#find")  # the field still holds it, selected: the same answer
        await settle(pilot)
        assert "还没有在窗口收件" in screen_text(app)
        await pilot.click("#anonymous")
        await settle(pilot)
        assert isinstance(app.screen, RatingScreen) and "不记名评价" in screen_text(app)
        assert tickets["waiting"].number not in screen_text(app)
    assert Feedback.select().count() == 0


async def test_an_idle_kiosk_forgets_the_feedback_too(tickets):
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan_code(pilot, tickets["served"])
        await pilot.click("#rate-3")
        await settle(pilot)
        await pilot.click("#heart-careful")
        app.screen.query_one("#field-comment", Input).value = "SECRET-COMMENT"
        await pilot.click("#callback")
        app.screen.query_one("#field-phone", Input).value = "13812345678"
        await settle(pilot)
        clock.now += 55
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, IdleWarning)
        clock.now += 5
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        # the next person starts from nothing
        await tap(pilot, "#feedback")
        await settle(pilot)
        assert app.screen.query_one("#field-scan", Input).value == ""
        await pilot.click("#anonymous")
        await settle(pilot)  # the rating screen is pushed: wait for it on a busy machine
        await pilot.click("#rate-3")
        await settle(pilot)
        assert app.screen.query_one("#field-comment", Input).value == ""
        assert app.screen.query_one("#field-phone", Input).value == ""
        assert app.screen.draft.hearts == set() and not app.screen.draft.callback
        assert "SECRET" not in screen_text(app) and tickets["served"].number not in screen_text(app)
    assert Feedback.select().count() == 0


async def test_an_idle_kiosk_forgets_the_phone_digits(tickets):
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await scan(pilot, tickets["served"].number)
        await pilot.press(*"5678")  # typed, not yet confirmed
        assert app.screen.query_one("#field-digits", Input).value == "5678"
        clock.now += 60
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        await tap(pilot, "#feedback")
        await scan(pilot, tickets["served"].number)
        assert isinstance(app.screen, PhoneCheckScreen)
        assert app.screen.query_one("#field-digits", Input).value == ""
        assert app.screen.draft.ticket_pass is None and "5678" not in screen_text(app)
    assert Feedback.select().count() == 0


async def test_the_start_screen_alone_times_out_too(tickets):
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await pilot.press(*"K1")
        clock.now += 61
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1


async def test_a_language_switch_keeps_the_choices(tickets):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await pilot.click("#anonymous")
        await settle(pilot)  # the rating screen is pushed: wait for it on a busy machine
        await pilot.click("#rate-5")
        await settle(pilot)
        await pilot.click("#heart-reassuring")
        app.screen.query_one("#field-comment", Input).value = "很好"
        await pilot.press("f2")
        await pilot.pause()
        text = screen_text(app)
        assert "Very satisfied" in text and "Five hearts" in text
        assert str(app.screen.query_one("#heart-reassuring").label) == "✓ Reliable"
        assert app.screen.query_one("#field-comment", Input).value == "很好"
        await pilot.press("f2")
        await pilot.pause()
        assert str(app.screen.query_one("#heart-reassuring").label) == "✓ 放心"


async def test_a_double_tap_on_submit_stores_one_rating(tickets):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await pilot.click("#anonymous")
        await settle(pilot)  # the rating screen is pushed: wait for it on a busy machine
        await pilot.click("#rate-5")
        await settle(pilot)
        screen = app.screen
        screen.action_submit()
        screen.action_submit()
        await settle(pilot)
        assert isinstance(app.screen, FeedbackThanks)
    assert Feedback.select().count() == 1


async def test_back_goes_back_one_step_and_next_opens_one_screen(tickets):
    """A screen's own buttons run once: 上一步 on the rating screen returns to the start (not to the
    welcome screen), and 下一步 on the reason screen opens the details once (back: the reasons)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "#feedback")
        await tap(pilot, "#anonymous")
        assert isinstance(app.screen, RatingScreen)
        await tap(pilot, "#back")
        assert isinstance(app.screen, FeedbackStartScreen)
        await tap(pilot, "#anonymous")
        await tap(pilot, "#rate-1")
        await tap(pilot, "#reason-slow")
        await tap(pilot, "#next")
        assert isinstance(app.screen, DetailsScreen)
        await tap(pilot, "#back")
        assert isinstance(app.screen, ReasonScreen)
