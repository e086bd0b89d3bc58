"""The desk's admin screen 满意度统计, through Pilot: only an admin opens it (F11), the views,
the CSV export and its failure, locking closes it; snapshots zh and en at 80x24 and 120x40
(a fixed "today" handed to the screen, never the wall clock)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.satisfaction import Rating
from kiosk.settings.config import load_config
from screens.admin import AdminScreen
from screens.clerk.app import DeskApp
from screens.clerk.receiving import ReceivingScreen
from screens.clerk.unlock import UnlockScreen

from .kiosk_pilot import FakeClock, screen_text, settle
from .test_satisfaction import KNOWN, OLD, TODAY, seed

PIN = "2468"
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def make_desk(language="zh", ratings=(*KNOWN, OLD), clock=None, **kw) -> DeskApp:
    """A desk whose database holds the ratings, wang (王芳, admin) and li (李工, not admin)."""
    from db.connection import open_database

    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(config.database)
    seed(list(ratings))
    db.close()
    app = DeskApp(config, clock=clock, **kw) if clock else DeskApp(config, **kw)
    app.animation_level = "none"
    return app


async def sign_in(pilot, username: str = "wang") -> None:
    await settle(pilot)
    await pilot.press(*username, "enter", *PIN, "enter")
    await settle(pilot)


async def open_admin(pilot) -> AdminScreen:
    """The screen as F11 opens it, but counting to TODAY."""
    screen = AdminScreen(today=TODAY)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    return screen


def recent(days: int = 1) -> list[Rating]:
    now = datetime.now(UTC) - timedelta(days=days)
    return [Rating(now, 5, ("warm",), "1号收件窗口", "王芳", "K1A-261120-0001"),
            Rating(now, 2, (), None, None, None, "slow")]


async def test_an_admin_opens_it_with_f11_and_escape_goes_back():
    app = make_desk(ratings=recent())
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        assert app.clerk.admin
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)
        text = screen_text(app)
        assert "满意度统计" in text and "共2条评价　满意率50.0%　差评1条" in text
        await pilot.press("f11")  # already open: nothing more
        await settle(pilot)
        assert len(app.screen_stack) == 3
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen)


async def test_a_clerk_who_is_not_admin_is_refused_with_a_message():
    app = make_desk("zh")
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "li")
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen)
        assert [n.message for n in app._notifications] == ["需要管理员权限"]


async def test_nothing_opens_behind_the_lock_screen():
    app = make_desk()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and not list(app._notifications)


async def test_views_switch_with_keys_and_taps():
    app = make_desk("zh")
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        screen = await open_admin(pilot)
        text = screen_text(app)
        assert "共5条评价　满意率60.0%　差评2条　2026-09-07至2026-11-24" in text
        assert "2026-W37 09-07" in text and "2026-W48 11-23" in text and "1号收件窗口" not in text
        await pilot.press("2")
        await settle(pilot)
        assert screen.view == "counter"
        text = screen_text(app)
        assert "1号收件窗口" in text and "0000dd02" in text and "D1" in text and "不详" in text
        await pilot.press("right")
        await settle(pilot)
        assert screen.view == "clerk" and "王芳" in screen_text(app) and "zhao" in screen_text(app)
        await pilot.click("#view-heart")
        await settle(pilot)
        assert screen.view == "heart" and "热心" in screen_text(app) and "放心" in screen_text(app)
        await pilot.press("right")
        await settle(pilot)
        assert screen.view == "week"
        await pilot.press("left", "left")
        await settle(pilot)
        assert screen.view == "clerk"
        app.action_toggle_language()
        await settle(pilot)
        assert "By clerk" in screen_text(app) and "Unknown" in screen_text(app)


async def test_no_ratings_in_the_period_is_said_in_words():
    app = make_desk("en", ratings=[OLD])
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        await open_admin(pilot)
        text = screen_text(app)
        assert "No ratings from 2026-09-07 to 2026-11-24" in text and "Satisfied" not in text


async def test_export_writes_the_csv_into_the_data_directory():
    app = make_desk("zh")
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        await open_admin(pilot)
        await pilot.press("f5")
        await settle(pilot)
        path = app.config.data_dir / "exports" / "satisfaction-2026-11-24.csv"
        lines = path.read_text("utf-8-sig").splitlines()
        assert len(lines) == 1 + len(KNOWN)  # the period's ratings, not the older one
        assert f"已导出5条评价：{path}" in screen_text(app).replace("\n", "")


async def test_export_failure_is_said_clearly():
    app = make_desk("en")
    app.config.data_dir.mkdir(parents=True, exist_ok=True)
    (app.config.data_dir / "exports").write_text("a file in the way")
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        await open_admin(pilot)
        await pilot.click("#export")
        await settle(pilot)
        text = screen_text(app)
        assert "Export failed" in text and "Check the disk space" in text
        assert isinstance(app.screen, AdminScreen)


async def test_locking_closes_it_by_key_and_when_idle():
    clock = FakeClock()
    app = make_desk(clock=clock, lock_seconds=120)
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot)
        await open_admin(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.clerk is None
        assert "满意率" not in screen_text(app)
        await sign_in(pilot)
        await open_admin(pilot)
        clock.now += 120
        app.idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and len(app.screen_stack) == 1


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("view", ["week", "heart"])
def test_admin_screen_snapshot(snap_compare, view, language, size):
    app = make_desk(language)

    async def run_before(pilot):
        await sign_in(pilot)
        await open_admin(pilot)
        await pilot.press({"week": "1", "heart": "4"}[view])
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
