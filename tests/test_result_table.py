"""Result lists fitted to their width in display cells (screens/result_table.py): prices and codes
never narrower than they are, names and specs wrapped, never cut, in the fewest lines."""

from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from kiosk.domain.catalog import decode_csv_bytes, parse_csv
from kiosk.i18n import name_of, service_name, spec_of, unit_price
from kiosk.i18n.textwidth import cell_width
from screens.result_table import CELL_PADDING, KEEP, NAME, WRAP, fit_widths, wrapped_lines

CATALOG = Path(__file__).parents[1] / "db" / "seed" / "demo_catalog.csv"
ROWS = parse_csv(decode_csv_bytes(CATALOG.read_bytes()), str(CATALOG))
KINDS = {"col.item": NAME, "col.service": KEEP, "col.price": KEEP, "col.spec": WRAP}
HEADERS = {"col.item": "项目", "col.service": "服务", "col.price": "收费", "col.spec": "规格"}


def cells(rows, lang):
    return [(name_of(r, lang), service_name(r.service, lang), unit_price(r.price_fen, r.unit, lang), spec_of(r, lang))
            for r in rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_line_count_is_what_rich_draws(lang):
    """The widths are chosen by counting lines; Rich wraps the cells: both must agree."""
    console = Console(width=200)
    for row in ROWS:
        for text in (name_of(row, lang), spec_of(row, lang)):
            for width in range(8, 61):
                assert wrapped_lines(text, width) == len(Text(text).wrap(console, width)), (text, width)


def test_what_fits_keeps_its_natural_widths():
    rows = cells(ROWS[:3], "zh")
    widths = fit_widths(200, KINDS, rows, HEADERS)
    assert widths == {key: max(cell_width(HEADERS[key]), *(cell_width(r[i]) for r in rows))
                      for i, key in enumerate(KINDS)}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [60, 72, 74, 100])
def test_a_narrow_table_wraps_names_and_specs_and_never_cuts_a_price(lang, width):
    rows = cells(ROWS, lang)
    widths = fit_widths(width, KINDS, rows, HEADERS)
    assert sum(widths.values()) + CELL_PADDING * len(KINDS) <= width  # nothing past the edge
    for i, key in enumerate(KINDS):
        if KINDS[key] == KEEP:
            assert widths[key] == max(cell_width(HEADERS[key]), *(cell_width(r[i]) for r in rows))

    def lines(name_width: int, spec_width: int) -> int:
        return sum(max(wrapped_lines(r[0], name_width), wrapped_lines(r[3], spec_width)) for r in rows)

    room = widths["col.item"] + widths["col.spec"]
    best = lines(widths["col.item"], widths["col.spec"])
    assert all(best <= lines(w, room - w) for w in range(10, room - 8 + 1))  # no split takes fewer lines


def test_a_class_the_spec_names_is_not_said_twice():
    """声级计 2级 was shown "2级 2级"; a balance's class that the spec does not name is still added."""
    by_code = {row.code: row for row in ROWS}
    assert spec_of(by_code["A-001-002"], "zh") == "2级" and spec_of(by_code["A-001-002"], "en") == "Class 2"
    assert spec_of(by_code["Z-005-001"], "zh") == "E2等级 (1mg~100g)"
    assert spec_of(by_code["Z-001-001"], "zh") == "最大秤量 ≤220g I级"
    for row in ROWS:
        text = spec_of(row, "zh")
        assert not row.accuracy_class or text.count(row.accuracy_class) == 1, (row.code, text)
