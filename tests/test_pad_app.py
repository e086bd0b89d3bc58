"""一次一评: a clerk desk and its counter's rating pad, both driven through Pilot in one test
(both apps on the same database file, as on the counter's machine): intake (F5) and pickup
(F7) each rated on the pad with the clerk's name and 工号; a poor rating's reason; declining;
an unanswered request expiring; another counter's pad not asked. Snapshots of the pad in zh
and en at 80x24. No sleeps: the pad is told to look (what its timer does) and `settle` waits
for the workers; its countdowns run on a FakeClock."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from textual.widgets import Button

from db.models import Clerk, Feedback, Followup, OutboxEvent, RatingRequest
from kiosk.settings.config import load_config
from kiosk.store import window_ratings
from screens.pad.app import IdleScreen, PadApp, RateScreen, ReasonScreen, ThanksScreen

from .kiosk_pilot import FakeClock, screen_text, settle
from .test_desk_app import make_desk, prepare, sign_in, status_of


@pytest.fixture(autouse=True)
def counter_one():
    window_ratings.set_counter("1")
    yield
    window_ratings.set_counter(window_ratings.DEFAULT_COUNTER)


def make_pad(desk_app, counter="1", clock=None, language=None) -> PadApp:
    config = desk_app.config if language is None else replace(desk_app.config, language=language)
    pad = PadApp(config, counter, clock=clock or FakeClock(), poll_seconds=60)  # the test says when to look
    pad.animation_level = "none"
    return pad


def staff_number(username="wang", number="GZ0107"):
    window_ratings.set_staff_number(username, number)


async def look(pad_pilot) -> None:
    """What the pad's timer does twice a second: look for the desk's request."""
    await settle(pad_pilot)
    pad_pilot.app.poll()
    await settle(pad_pilot)


async def test_intake_and_pickup_each_rated_on_the_pad():
    desk, (number,) = make_desk("zh")
    pad = make_pad(desk)
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        await dp.app.in_db_thread(staff_number)
        await look(pp)
        assert isinstance(pad.screen, IdleScreen) and "办理完成后" in screen_text(pad)
        # intake at the desk: the pad asks about it
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f5")
        await settle(dp)
        assert status_of(number) == "received"
        await look(pp)
        assert isinstance(pad.screen, RateScreen)
        text = screen_text(pad)
        assert f"办件编号：{number}（受理）" in text and "为您办理：王芳（工号 GZ0107）" in text
        labels = [str(pad.screen.query_one(f"#level-{n}", Button).label) for n in (5, 4, 3, 2, 1)]
        assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        await pp.click("#level-5")
        await settle(pp)
        assert isinstance(pad.screen, ThanksScreen) and "谢谢您的评价" in screen_text(pad)
        pad.clock.now += 5
        pad.tick()
        await settle(pp)
        assert isinstance(pad.screen, IdleScreen)
        # pickup at the desk: ready, then handed over (F6, F7) — the pad asks about the completion
        await dp.press("f3")
        await settle(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f6", "f7")
        await settle(dp)
        assert status_of(number) == "picked_up"
        await look(pp)
        assert isinstance(pad.screen, RateScreen) and "（办结）" in screen_text(pad)
        await pp.press("4")  # a keyboard's digit works as a tap
        await settle(pp)
        assert isinstance(pad.screen, ThanksScreen)
        await look(pp)
        assert isinstance(pad.screen, ThanksScreen)  # nothing more to rate: no second question
    rows = [(f.stage, f.rating, f.staff_number, f.counter, f.ticket_number)
            for f in Feedback.select().order_by(Feedback.id)]
    assert rows == [("intake", 5, "GZ0107", "1", number), ("completion", 4, "GZ0107", "1", number)]
    given = [json.loads(e.payload) for e in OutboxEvent.select().where(OutboxEvent.kind == "feedback.given")]
    assert [(g["stage"], g["number"], g["staff_number"], g["clerk"]) for g in given] == [
        ("intake", number, "GZ0107", "wang"), ("completion", number, "GZ0107", "wang")]


async def test_a_poor_rating_asks_the_reason_and_opens_a_work_order():
    desk, (number,) = make_desk("en")
    pad = make_pad(desk)
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f5")
        await settle(dp)
        await look(pp)
        await pp.click("#level-2")
        await settle(pp)
        assert isinstance(pad.screen, ReasonScreen) and "What went wrong?" in screen_text(pad)
        assert Feedback.select().count() == 0  # nothing until the reason
        await pp.click("#reason-other")
        await settle(pp)
        await pp.click("#send")
        await settle(pp)
        assert "Please write a few words" in screen_text(pad)
        await pp.press(*"queue", "enter")
        await settle(pp)
        assert isinstance(pad.screen, ThanksScreen) and "work order" in screen_text(pad)
    feedback = Feedback.get()
    assert (feedback.rating, feedback.reason, feedback.reason_text, feedback.stage) == (2, "other", "queue", "intake")
    work = Followup.get()
    assert work.callback_by is not None  # the demo institute: call back within 48 hours
    assert (work.callback_by - feedback.created_at).total_seconds() == 48 * 3600


async def test_declined_or_left_unanswered_nothing_is_rated_and_the_pad_goes_idle():
    desk, (number,) = make_desk("zh")
    clock = FakeClock()
    pad = make_pad(desk, clock=clock)
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f5")
        await settle(dp)
        await look(pp)
        await pp.click("#skip")
        await settle(pp)
        assert isinstance(pad.screen, IdleScreen)
        await look(pp)
        assert isinstance(pad.screen, IdleScreen)  # declined: not asked again
        # another step, left unanswered: it expires
        await dp.press("f3")
        await settle(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f6")
        await settle(dp)
        await dp.press("f7")
        await settle(dp)
        await look(pp)
        assert isinstance(pad.screen, RateScreen)
        clock.now += 120
        pad.tick()
        await settle(pp)
        assert isinstance(pad.screen, IdleScreen)
    assert Feedback.select().count() == 0
    assert [r.state for r in RatingRequest.select().order_by(RatingRequest.id)] == ["declined", "expired"]


async def test_another_counters_pad_is_not_asked():
    desk, (number,) = make_desk("zh")
    pad = make_pad(desk, counter="2")
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f5")
        await settle(dp)
        await look(pp)
        assert isinstance(pad.screen, IdleScreen) and "2号窗口" in screen_text(pad)


# ---- snapshots: 80x24, zh and en --------------------------------------------------------------


def _snapshot_pad(tmp_path, language: str) -> PadApp:
    """A pad with a request waiting: the database as the desk left it after an intake."""
    from datetime import UTC, datetime

    from db.connection import open_database
    from db.models import Device, Ticket
    from kiosk.store.clerks import ClerkInfo
    from kiosk.store.desk import receive

    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    (number,) = prepare(config)
    db = open_database(config.database)
    staff_number()
    clerk = Clerk.get(Clerk.username == "wang")
    receive(Ticket.get(Ticket.number == number).id, ClerkInfo(clerk.id, clerk.username, clerk.display_name),
            Device.get(), now=datetime.now(UTC))
    db.close()
    pad = PadApp(config, "1", clock=FakeClock(), poll_seconds=60)
    pad.animation_level = "none"
    return pad


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("step", ["rate", "reason"])
def test_pad_snapshots(snap_compare, tmp_path, language, step):
    pad = _snapshot_pad(tmp_path, language)

    async def run_before(pilot):
        await look(pilot)
        if step == "reason":
            await pilot.click("#level-1")
            await settle(pilot)

    assert snap_compare(pad, terminal_size=(80, 24), run_before=run_before)


async def test_the_desks_next_step_replaces_an_unanswered_question():
    """The customer walked away without rating; the next customer's intake takes the pad."""
    from screens.clerk.app import DeskApp

    config = replace(load_config(), language="zh", printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    first, second = prepare(config, tickets=2)
    desk = DeskApp(config)
    desk.animation_level = "none"
    pad = make_pad(desk)
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        for number in (first, second):
            await dp.press(*number, "enter")
            await settle(dp)
            await dp.press("f5")
            await settle(dp)
            await look(pp)
            assert isinstance(pad.screen, RateScreen) and number in screen_text(pad)
        screen = pad.screen
        screen.action_level(5)
        screen.action_level(4)  # a second tap before the first is saved: nothing more
        await settle(pp)
        assert isinstance(pad.screen, ThanksScreen)
    assert [(f.ticket_number, f.rating) for f in Feedback.select()] == [(second, 5)]
    assert [r.state for r in RatingRequest.select().order_by(RatingRequest.id)] == ["superseded", "rated"]


async def test_the_customer_switches_the_pads_language_and_keeps_their_place():
    desk, (number,) = make_desk("zh")
    pad = make_pad(desk)
    async with desk.run_test(size=(100, 36)) as dp, pad.run_test(size=(80, 24)) as pp:
        await sign_in(dp)
        await dp.press(*number, "enter")
        await settle(dp)
        await dp.press("f5")
        await settle(dp)
        await look(pp)
        await pp.click("#level-1")
        await settle(pp)
        await pp.click("#reason-other")
        await pp.press(*"slow")
        await pp.click("#pad-language")
        await settle(pp)
        assert isinstance(pad.screen, ReasonScreen) and "What went wrong?" in screen_text(pad)
        assert pad.screen.query_one("#reason-text").value == "slow"
        await pp.click("#send")
        await settle(pp)
        assert "Thank you" in screen_text(pad)
    assert (Feedback.get().reason, Feedback.get().reason_text, Feedback.get().language) == ("other", "slow", "en")
