"""Published fee tables import as published: one fee-standard number over several bands, no
English column. The rows are real (tests/data/published_fees.csv, sources in its README); every
expected amount is computed by hand from the table's own words."""

from pathlib import Path

import pytest

from kiosk.domain.catalog import CatalogError, parse_csv, to_csv, untranslated
from kiosk.domain.fees import estimate, policy_from_dict, request_from_dict
from kiosk.i18n.estimate_text import format_estimate

PUBLISHED = Path(__file__).parent / "data" / "published_fees.csv"
# No discounts, no urgent surcharge: only the table's prices are under test.
PLAIN = policy_from_dict({"id": "plain", "urgent_percent": {"72h": 0, "24h": 0, "8h": 0}})


def published_rows():
    return parse_csv(PUBLISHED.read_text("utf-8"), PUBLISHED.name)


def test_a_number_shared_by_bands_gives_each_band_its_own_row():
    rows = published_rows()
    assert len(rows) == 18
    bands = [(r.code, r.standard, r.spec_zh, r.price_fen) for r in rows if r.standard == "C014"]
    assert bands == [("C014", "C014", "(0~300)mm", 96000), ("C014.2", "C014", "(0~500)mm", 120000),
                     ("C014.3", "C014", "(0~1000)mm", 145000)]
    assert [(r.code, r.accuracy_class) for r in rows if r.name_zh == "量块"] == [("C001", "三、四等"),
                                                                                ("C001.2", "五、六等")]
    assert len({r.code for r in rows}) == len(rows)  # tickets key rows by code


def test_the_table_exports_as_published_and_reimports_to_the_same_codes():
    rows = published_rows()
    exported = to_csv(rows)
    assert exported.count("\nC014,") == 3 and "C014.2" not in exported  # the number as printed
    assert parse_csv(exported) == rows


def test_rows_a_customer_could_not_tell_apart_are_still_refused():
    header = "收费标准号,项目名称,服务类别,规格/测量范围,计量单位,收费(元)\n"
    with pytest.raises(CatalogError) as refused:
        parse_csv(header + "C013,水平尺,检定,L≤500mm,把,130\nC013,水平尺,检定,L≤500mm,把,150\n", "t.csv")
    [problem] = refused.value.problems
    assert (problem.line, problem.column) == (3, "收费标准号") and "line 2" in problem.message
    # Verification and calibration of one instrument under one number are two bands.
    rows = parse_csv(header + "C013,水平尺,检定,L≤500mm,把,130\nC013,水平尺,校准,L≤500mm,把,150\n")
    assert [(r.code, r.service) for r in rows] == [("C013", "verification"), ("C013.2", "calibration")]


def test_a_missing_english_name_falls_back_and_is_said():
    rows = published_rows()
    assert all(r.name_en == r.name_zh for r in rows)
    assert untranslated(rows)[:3] == ["量块", "量块组合附件(14件装)", "测微计"]
    # Another row of the same instrument lends its English name.
    mixed = parse_csv("收费标准号,项目名称,英文名称,计量单位,服务类别,收费(元)\n"
                      "C001,量块,Gauge block,块,检定,50\nC-001-002,量块,,块,校准,80\n")
    assert [r.name_en for r in mixed] == ["Gauge block", "Gauge block"] and untranslated(mixed) == []


def test_the_import_command_takes_the_table_and_names_what_has_no_english(run):
    status, out, err = run("catalog", "import", str(PUBLISHED))
    assert status == 0, err
    assert "18行" in out and "14种器具没有英文名称" in out and "量块、" in out


def priced(catalog, line: dict) -> int:
    est = estimate(request_from_dict({"lines": [line]}), catalog.by_code, PLAIN, catalog.version)
    return est.total_fen


@pytest.mark.parametrize("line, yuan", [
    ({"item": "C001", "quantity": 3}, 150),  # 三、四等 ≤100mm, 50 a block
    ({"item": "C001.2"}, 120),  # 五、六等, the same number's other band
    ({"item": "C013.2"}, 190),
    ({"item": "C007", "quantity": 4}, 480),  # 套管尺 priced per metre: 4 m
    ({"item": "C-005-006", "metres": 5}, 60),  # 钢卷尺: 5m以上每米加3元
    ({"item": "C-005-006", "metres": "5.2"}, 63),  # a started metre counts
    ({"item": "C-005-006", "metres": 50}, 60 + 45 * 3),
    ({"item": "C-005-006", "metres": 200}, 60 + 195 * 3),
    ({"item": "D-014-056", "points": 10}, 336),  # 基本点为10点
    ({"item": "D-014-056", "points": 13}, 336 + 3 * 60),  # 超过10点，每点加收60元
    ({"item": "D-015-057", "ac_dc": True}, 210 + 105),  # 交直流两用加收基本量限50%
    ({"item": "D-015-057", "ranges": 3}, 210 + 2 * 90),  # 每加一个量限加收90元
    # both: the AC+DC half is of the basic range's 210 only, the extra ranges at 90 each
    ({"item": "D-015-057", "ranges": 3, "ac_dc": True}, 210 + 2 * 90 + 105),
])
def test_real_rows_are_priced_as_the_table_says(db, line, yuan):
    from kiosk.store.catalog import import_csv, load_catalog

    catalog = load_catalog(import_csv(PUBLISHED.read_text("utf-8"), PUBLISHED.name))
    assert priced(catalog, line) == yuan * 100


def test_the_estimate_prints_the_number_as_published(db):
    from kiosk.store.catalog import import_csv, load_catalog

    catalog = load_catalog(import_csv(PUBLISHED.read_text("utf-8"), PUBLISHED.name))
    request = request_from_dict({"lines": [{"item": "C014"}, {"item": "C014.3"}]})
    text = format_estimate(estimate(request, catalog.by_code, PLAIN, catalog.version), "zh")
    assert text.count("C014 ") == 2 and "C014.3" not in text
    assert "￥1,450.00" in text and "合计" in text and "￥2,410.00" in text


def test_a_band_ticket_carries_its_band_and_its_receipt_the_published_number(db):
    from kiosk.domain.ticketcode import decode
    from kiosk.printing.receipts import ticket_document, ticket_facts
    from kiosk.settings.institute import load_institute
    from kiosk.store.catalog import import_csv, load_catalog
    from kiosk.store.keys import keys_for
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register

    catalog = load_catalog(import_csv(PUBLISHED.read_text("utf-8"), PUBLISHED.name))
    customer = CustomerDetails("示范测绘有限公司", "", "贵阳市", "李工", "13812345678")
    lines = (InstrumentLine(request_from_dict({"lines": [{"item": "C014.3"}]}).lines[0]),)
    ticket = register(Registration(customer, lines), catalog, PLAIN, ensure_device("K1"))
    assert [ln.code for ln in decode(ticket.code, keys_for).lines] == ["C014.3"]  # the band, exactly
    document = ticket_document(ticket_facts(ticket.id), load_institute(), "zh")
    printed = [getattr(b, "text", "") for b in document.blocks]
    assert {"  C014 检定", "  (0~1000)mm"} <= set(printed) and not any("C014.3" in text for text in printed)


def test_a_clerk_who_types_a_banded_number_is_shown_its_other_bands():
    """At the desk's line editor a clerk types C001 as the table prints it: the first band's row
    is shown, and the other bands with their codes, so the right one is one edit away."""
    from screens.clerk.intake import bands

    rows = {r.code: r for r in published_rows()}
    assert [r.code for r in bands(rows, rows["C001"])] == ["C001.2"]
    assert [r.code for r in bands(rows, rows["C001.2"])] == ["C001"]
    assert [r.spec_zh for r in bands(rows, rows["C013"])] == ["L≤1000mm"]
    assert bands(rows, rows["C-005-006"]) == []  # a number of one band
