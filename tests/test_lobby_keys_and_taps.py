"""A first-time customer at the lobby, by keys and by taps: the options screen starts on its first
choice and Tab reads it in order; one tap on a search result chooses it."""

from textual.widgets import DataTable, Input, RadioSet

from screens.estimate import EstimateScreen
from screens.fee_lookup import FeeLookupScreen
from screens.instruments import InstrumentsScreen
from screens.line_editor import LineEditor
from screens.options import OptionsScreen

from .kiosk_pilot import add_line, make_app, settle, to_instruments


def focused_id(app) -> str | None:
    return app.focused.id if app.focused is not None else None


async def to_options(pilot, query: str, **line) -> None:
    await to_instruments(pilot)
    await add_line(pilot, query, **line)
    await pilot.click("#next")
    await pilot.pause()
    assert isinstance(pilot.app.screen, OptionsScreen)


async def test_the_options_start_on_the_urgent_choice_and_arrows_choose_within_it():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_options(pilot, "wyb", quantity="1", ranges="7")
        assert focused_id(app) == "urgent"  # not 查看费用: Enter must not skip the choice
        await pilot.press("down", "down", "enter")  # 不加急 -> 72 h -> 24 h, chosen
        assert app.draft.urgent == "24h"
        assert app.screen.query_one("#urgent", RadioSet).pressed_button.id == "urgent-24h"
        # Tab: the choices in reading order, 查看费用 last
        order = []
        for _ in range(6):
            await pilot.press("tab")
            order.append(focused_id(app))
        assert order == ["field-certificates", "field-certificate_name", "notify", "field-email", "back", "next"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen) and app.screen.estimate.urgent == "24h"


async def test_without_urgent_service_the_options_start_on_the_certificates():
    """A gauge for safety use is verified free: urgent is not offered, the first choice is the count."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_options(pilot, "ylb", quantity="1", use="safety")
        assert app.screen.query_one("#urgent", RadioSet).disabled
        assert focused_id(app) == "field-certificates"


async def test_enter_in_the_last_option_goes_to_the_estimate():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_options(pilot, "wyb", quantity="1", ranges="7")
        await pilot.press("tab")
        app.focused.value = "2"
        await pilot.press("enter")  # the count, then on to the name
        assert focused_id(app) == "field-certificate_name"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen) and app.draft.certificates == 2


async def row_clicked(pilot, table: DataTable, row: int) -> None:
    """A tap on the row's first cell, where the customer's finger lands."""
    region = table.region
    header = table.header_height if table.show_header else 0
    y = region.y + header + sum(r.height for r in list(table.rows.values())[:row]) - table.scroll_y
    await pilot.click(offset=(region.x + 2, y))
    await pilot.pause()


async def test_one_tap_on_a_search_result_opens_its_dialog():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"ylb")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InstrumentsScreen)
        hits = screen.query_one("#hits", DataTable)
        assert hits.row_count >= 2
        await row_clicked(pilot, hits, 1)  # the second variant, not the highlighted first
        assert isinstance(app.screen, LineEditor)
        assert app.screen.row == screen.hits[1]


async def test_one_tap_on_a_line_of_yours_opens_it():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        await add_line(pilot, "ylb", quantity="2")
        await add_line(pilot, "wyb", quantity="1", ranges="3")
        screen = app.screen
        await row_clicked(pilot, screen.query_one("#lines", DataTable), 1)
        assert isinstance(app.screen, LineEditor)
        assert app.screen.editing and app.screen.line == app.draft.lines[1]


async def test_one_tap_on_a_fee_shows_it_in_the_lookup():
    """In the fee lookup a tap on a row chooses it at once: its regulation and days below."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#fees")
        await pilot.press(*"ylb")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FeeLookupScreen)
        assert not screen.query_one("#chosen").display
        await row_clicked(pilot, screen.query_one("#results", DataTable), 2)
        row = screen.hits[2]
        shown = str(screen.query_one("#chosen").render())
        assert screen.query_one("#chosen").display
        assert row.code in shown and row.regulation in shown and f"{row.turnaround_days}个工作日" in shown
        screen.query_one("#query", Input).value = "yl"  # a new search: the choice goes with the old results
        await pilot.pause()
        assert not screen.query_one("#chosen").display
