"""At 80x24 what a customer needs is in sight without scrolling: the estimate's total with five
lines above it, every search result's spec whole, the line dialog's serial number and
manufacturer (with the on-screen keyboard up, too). Asserted on regions (inside the screen and
inside every scrolling container's visible part) and on the text drawn; the snapshots show it."""

import pytest
from textual.errors import NoWidget
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input, RadioSet

from screens.estimate import EstimateScreen
from screens.line_editor import LineEditor

from .kiosk_pilot import add_line, make_app, settle, to_instruments

SMALL = (80, 24)
FIVE_LINES = (("ylb", {"use": "safety"}), ("wyb", {"ranges": "7"}), ("gjc", {"metres": "12"}), ("tp", {}),
              ("wdj", {}))


def in_sight(widget) -> bool:
    """Wholly on the screen, and neither scrolled out of nor cut by any container it is in."""
    screen = widget.screen
    try:
        geometry = screen.find_widget(widget)
    except NoWidget:  # scrolled out of sight, or not displayed
        return False
    region = geometry.region
    return (Region(0, 0, *screen.size).contains_region(region) and geometry.visible_region == region
            and all(ancestor.scrollable_content_region.contains_region(region)
                    for ancestor in widget.ancestors if isinstance(ancestor, Widget) and ancestor.is_scrollable))


def screen_lines(app) -> list[str]:
    """The screen as drawn, one string per row (a hanzi is one character, two cells)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def cell_text(app, region: Region) -> str:
    """What is drawn in a region of the screen, its rows joined, spaces dropped."""
    strips = app.screen._compositor.render_strips()
    return "".join(strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)).replace(" ", "")


async def five_lines_to_the_estimate(pilot) -> None:
    await to_instruments(pilot)
    for query, values in FIVE_LINES:
        await add_line(pilot, query, quantity="2", **values)
    await pilot.click("#next")
    await pilot.pause()
    await pilot.click("#urgent-24h")
    pilot.app.screen.action_next()
    await pilot.pause()


@pytest.mark.parametrize("language, total", [("zh", "合计"), ("en", "Total")])
async def test_the_estimate_total_is_in_sight_at_80x24_with_five_lines(language, total):
    app = make_app(language)
    async with app.run_test(size=SMALL) as pilot:
        await five_lines_to_the_estimate(pilot)
        screen = app.screen
        assert isinstance(screen, EstimateScreen) and len(screen.estimate.lines) == 5
        totals = screen.query_one("#estimate-totals")
        assert in_sight(totals)
        money = f"{screen.estimate.total_fen // 100:,}.{screen.estimate.total_fen % 100:02d}"
        assert any(total in line and money in line for line in screen_lines(app)), "\n".join(screen_lines(app))
        assert in_sight(screen.query_one("#confirm"))
        # the lines scroll above it: the last one is reached by scrolling the list, not the page
        lines = screen.query_one("#estimate-scroll")
        lines.scroll_end(animate=False)
        await pilot.pause()
        assert "R-006-001" in "\n".join(screen_lines(app)) and in_sight(totals)


def spec_columns(app, table: DataTable, key: str) -> dict[int, str]:
    """Row index -> the text drawn in column `key` of each row wholly in sight (its lines joined)."""
    region = table.scrollable_content_region  # not the scrollbar
    x = region.x + sum(c.get_render_width(table) for c in table.ordered_columns[:table.get_column_index(key)])
    width = min(table.ordered_columns[table.get_column_index(key)].get_render_width(table), region.right - x)
    y = region.y + table.header_height - round(table.scroll_y)
    shown = {}
    for index, row in enumerate(table.ordered_rows):
        if region.y + table.header_height <= y and y + row.height <= region.bottom:
            shown[index] = cell_text(app, Region(x, y, width, row.height))
        y += row.height
    return shown


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("query", ["ylb", "gjc", "wdj", "yl"])
async def test_search_results_show_each_spec_whole_at_80x24(language, query):
    app = make_app(language)
    async with app.run_test(size=SMALL) as pilot:
        await to_instruments(pilot)
        await pilot.press(*query)
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#hits", DataTable)
        shown = spec_columns(app, table, "col.spec")
        assert len(shown) >= 2  # a list, not one row
        from kiosk.i18n import spec_of

        for index, drawn in shown.items():
            assert drawn == spec_of(screen.hits[index], language).replace(" ", ""), (index, drawn)
        assert app.screen.find_widget(table).region.right <= SMALL[0]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_fee_lookup_shows_each_spec_whole_at_80x24(language):
    app = make_app(language)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.click("#fees")
        await pilot.press(*"gjc")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#results", DataTable)
        shown = spec_columns(app, table, "col.spec")
        assert len(shown) >= 2
        from kiosk.i18n import spec_of

        for index, drawn in shown.items():
            assert drawn == spec_of(screen.hits[index], language).replace(" ", ""), (index, drawn)
        prices = spec_columns(app, table, "col.price")
        from kiosk.i18n import unit_price

        for index, drawn in prices.items():
            row = screen.hits[index]
            assert drawn == unit_price(row.price_fen, row.unit, language).replace(" ", "")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("query", ["ylb", "wyb"])
async def test_the_line_dialog_shows_serial_and_manufacturer_at_80x24(language, query):
    app = make_app(language)
    async with app.run_test(size=SMALL) as pilot:
        await to_instruments(pilot)
        await pilot.press(*query, "enter", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LineEditor)
        serial, maker = (dialog.query_one(f"#field-{name}", Input) for name in ("serial_number", "manufacturer"))
        body = dialog.query_one("#editor-body")

        # as it opens: the quantity has focus, its digit pad up
        assert dialog.focused.id == "field-quantity"
        assert body.scroll_y == 0
        assert in_sight(serial) and in_sight(maker) and in_sight(dialog.query_one("#save"))

        # a tap on a use: the keyboard goes, the body has its full height
        await pilot.click("#use-safety")
        await pilot.pause()
        assert isinstance(dialog.focused, RadioSet)
        assert in_sight(serial) and in_sight(maker) and in_sight(dialog.query_one("#save"))

        # typing the serial number, its keyboard up: both still there
        serial.focus()
        await pilot.pause()
        await pilot.pause()
        assert in_sight(serial) and in_sight(maker) and in_sight(dialog.query_one("#save"))


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_every_field_of_the_line_dialog_comes_into_sight_when_typed_in(language):
    """The keyboard up takes the body's rows: whatever field is typed in is never hidden."""
    app = make_app(language)
    async with app.run_test(size=SMALL) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"wyb", "enter", "enter")
        await pilot.pause()
        dialog = app.screen
        for name in ("quantity", "ranges", "model", "serial_number", "manufacturer", "requirements"):
            field = dialog.query_one(f"#field-{name}", Input)
            field.focus()
            await pilot.pause()
            await pilot.pause()
            assert in_sight(field), name
            assert in_sight(dialog.query_one("#save")), name
