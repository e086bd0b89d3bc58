"""The fee lookup in the app: Pilot flows and snapshots (zh and en, 80x24)."""

import pytest
from textual.widgets import DataTable, Input

from kiosk.app import KioskApp
from kiosk.config import load_config


def make_app(language: str = "zh") -> KioskApp:
    from dataclasses import replace

    return KioskApp(replace(load_config(), language=language))


async def catalog_loaded(pilot) -> None:
    """Wait for the loading worker and the message it posts; no sleeps."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cells(app: KioskApp, column: int) -> list[str]:
    table = app.screen.query_one("#results", DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_typing_pinyin_initials_lists_the_priced_rows():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await catalog_loaded(pilot)
        await pilot.press("y", "l", "b")
        names = cells(app, 1)
        assert names and set(names[:3]) == {"一般压力表"}
        assert "￥30.00/块" in cells(app, 3)
        assert "找到" in str(app.screen.query_one("#status").render())


async def test_switching_language_keeps_the_query_and_relabels_results():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await catalog_loaded(pilot)
        await pilot.press(*"pressure")
        await pilot.click("#language")
        assert app.language == "en"
        assert app.screen.query_one("#query", Input).value == "pressure"
        assert "General pressure gauge" in cells(app, 1)
        assert any(price.startswith("￥") and price.endswith("/piece") for price in cells(app, 3))
        await pilot.press("f2")  # the same switch from the keyboard
        assert app.language == "zh" and "一般压力表" in cells(app, 1)


async def test_a_query_that_matches_nothing_says_so():
    app = make_app("en")
    async with app.run_test() as pilot:
        await catalog_loaded(pilot)
        await pilot.press(*"qqqzzz")
        assert cells(app, 0) == []
        assert "0 found" in str(app.screen.query_one("#status").render())


@pytest.mark.parametrize("language", ["zh", "en"])
def test_fee_lookup_snapshot(snap_compare, language):
    async def search(pilot):
        await catalog_loaded(pilot)
        await pilot.press(*"ylb")
        await pilot.pause()

    assert snap_compare(make_app(language), terminal_size=(80, 24), run_before=search)


async def test_a_database_from_a_newer_version_is_reported_on_screen(tmp_path):
    import sqlite3
    from dataclasses import replace

    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    app = KioskApp(replace(load_config(), database=path))
    async with app.run_test() as pilot:
        await catalog_loaded(pilot)
        messages = [n.message for n in app._notifications]
        assert any("数据库无法使用" in m and "schema version 99" in m for m in messages)
        assert "正在载入" in str(app.screen.query_one("#status").render())  # still up, nothing shown as loaded
