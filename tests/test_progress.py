"""进度查询 at the kiosk: each state says where to go next, a promise that passed says so,
nothing of the customer is on screen, bad scans get words; through Pilot and in snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from textual.widgets import Input

from kiosk.domain.clock import zone
from kiosk.store.progress import ticket_progress
from screens.progress import ProgressScreen
from screens.welcome import WelcomeScreen

from .kiosk_pilot import make_app, screen_text, settle
from .test_feedback_app import scan, scan_code


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone())


NOW = local("2026-11-25T10:00")


@pytest.fixture
def counter():
    """The kiosk's database (the one make_app opens) with tickets at each step, registered and
    taken through the counters at these local times, as a standalone kiosk and desk share it."""
    from db.connection import open_database
    from db.models import Ticket
    from kiosk.domain.fees import default_policy
    from kiosk.settings.config import load_config
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    db = open_database(load_config().database)
    ensure_catalog()
    device = ensure_device("K1")
    clerk = add_clerk("wang", "王芳", "2468")

    def ticket(registered, *steps, urgent=None):
        t = register(sample(urgent=urgent), load_catalog(), default_policy(), device)
        # the number as it was that day (snapshots must not change with the date they run on)
        number = f"K1-{local(registered):%y%m%d}-{t.id:04d}"
        Ticket.update(number=number, created_at=local(registered)).where(Ticket.id == t.id).execute()
        for step, at in zip((receive, mark_ready, pick_up), steps, strict=False):
            step(t.id, clerk, device, now=local(at))
        return replace(t, number=number)

    made = {
        "registered": ticket("2026-11-25T09:00"),
        "in_lab": ticket("2026-11-24T09:00", "2026-11-24T09:20", urgent="72h"),
        "late": ticket("2026-11-16T09:00", "2026-11-16T09:30"),
        "ready": ticket("2026-11-16T09:00", "2026-11-16T09:30", "2026-11-20T15:00"),
        "forgotten": ticket("2026-09-01T09:00", "2026-09-01T09:30", "2026-09-08T15:00"),
        "collected": ticket("2026-11-02T09:00", "2026-11-02T09:30", "2026-11-06T15:00", "2026-11-09T10:00"),
    }
    db.close()
    return made


def test_each_state_with_its_dates_and_promises(db_of, counter):
    p = {name: ticket_progress(t.number, now=NOW) for name, t in counter.items()}
    assert (p["registered"].status, p["registered"].urgent_by, p["registered"].late) == ("registered", None, False)
    assert p["in_lab"].urgent_by == local("2026-11-27T09:20") and p["in_lab"].ready_on == date(2026, 12, 1)
    assert (p["late"].status, p["late"].ready_on, p["late"].late) == ("received", date(2026, 11, 23), True)
    assert (p["ready"].waiting_days, p["ready"].late) == (5, False)
    assert (p["forgotten"].waiting_days, p["forgotten"].late) == (78, True)
    assert p["collected"].steps["picked_up"] == local("2026-11-09T10:00")
    assert ticket_progress(counter["ready"].code, now=NOW).status == "ready"  # the signed code, too


def test_bad_scans_are_named(db_of, counter):
    assert ticket_progress("K9-000000-0000").error == "not_found"
    assert ticket_progress("").error == "not_found"
    code = counter["ready"].code
    assert ticket_progress(code[:-5]).error in ("damaged", "invalid")
    assert ticket_progress(code[:40] + ("A" if code[40] != "A" else "B") + code[41:]).error in ("damaged", "invalid")


@pytest.fixture
def db_of(counter):
    from db.connection import open_database
    from kiosk.settings.config import load_config

    db = open_database(load_config().database)
    yield db
    db.close()


async def test_scanned_at_the_kiosk_each_state_says_where_to_go_and_nothing_of_the_customer(counter):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ProgressScreen)
        await scan(pilot, counter["registered"].number)
        text = screen_text(app)
        assert "还没有收件" in text and "1号收件窗口" in text
        await scan_code(pilot, counter["ready"])  # the next scan replaces the answer
        text = screen_text(app)
        assert "证书已完成" in text and "2号发件窗口" in text and "还没有收件" not in text
        for private in ("示范燃气", "李工", "13812345678", "5678"):
            assert private not in text
        await scan(pilot, counter["late"].number)
        assert "已超过承诺的完成时间" in screen_text(app)
        await scan(pilot, counter["collected"].number)
        assert "已取件" in screen_text(app)
        await scan(pilot, "K9-000000-0000")
        assert "没有找到这张受理单" in screen_text(app) and "已取件" not in screen_text(app)
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)


async def test_the_idle_wipe_takes_the_answer_away(counter):
    from .kiosk_pilot import FakeClock

    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=60, idle_warning_seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        await scan(pilot, counter["ready"].number)
        assert counter["ready"].number in screen_text(app)
        clock.now += 60
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and counter["ready"].number not in screen_text(app)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_progress_snapshot(snap_compare, counter, language):
    app = make_app(language)

    async def run_before(pilot):
        await settle(pilot)
        app.push_screen(ProgressScreen(now=NOW))  # in the lab, not late: on any day the test runs
        await settle(pilot)
        app.screen.query_one("#field-scan", Input).value = counter["in_lab"].number
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_database_problem_is_said_and_the_kiosk_stays(counter, monkeypatch):
    import sqlite3

    import kiosk.store.feedback
    import kiosk.store.progress

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(kiosk.store.progress, "ticket_progress", broken)
    monkeypatch.setattr(kiosk.store.feedback, "find_ticket_for_feedback", broken)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        await scan(pilot, counter["ready"].number)
        assert "暂时查不到进度" in screen_text(app) and isinstance(app.screen, ProgressScreen)
        await pilot.press("escape", "f7")  # and feedback's lookup
        await settle(pilot)
        await scan(pilot, counter["ready"].number)
        assert "暂时查不到受理单" in screen_text(app)
    assert app.return_code in (None, 0)
