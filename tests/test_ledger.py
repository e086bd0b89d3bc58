"""A customer's instrument list read from a spreadsheet (kiosk/domain/ledger.py, issue 22 item 2): an
e-CQS ledger export or the institute's template, CSV or XLSX, each row found in the fee schedule as
the kiosk's search finds it, bad rows named with what to do, good rows kept; a hostile file refused
whole with a clear message. Fixtures: tests/data/ledger_* (README.md there says what each holds)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from importlib.resources import files
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain import ledger
from kiosk.domain.catalog import parse_csv
from kiosk.domain.ledger import (
    COLUMNS,
    ECQS_KEYS,
    MAX_ROWS,
    Ledger,
    LedgerLine,
    LedgerProblem,
    Matcher,
    band_of,
    parse_use,
    read_ledger,
    read_rows,
    template_csv,
    template_xlsx,
)
from kiosk.domain.search import normalise_query, row_texts
from kiosk.domain.validation import FieldError, clean_text
from kiosk.i18n import MESSAGES
from kiosk.i18n.ledger_text import problem_text

DATA = Path(__file__).parent / "data"
ROWS = parse_csv((files("db") / "seed" / "demo_catalog.csv").read_text("utf-8"))
BY_CODE = {row.code: row for row in ROWS}
MATCHER = Matcher(ROWS)  # the search keys once (~0.2 s of pypinyin)
HEADER = [c.zh for c in COLUMNS if c.key in ECQS_KEYS]


def rows_of(led: Ledger) -> list[tuple[int, str, int, str, str]]:
    return [(ln.line, ln.row.code, ln.quantity, ln.use, ln.serial) for ln in led.lines]


def problems_of(led: Ledger) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.key) for p in led.problems]


def as_csv(rows: list[list[str]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for cells in rows:
        book.active.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- the fixtures: real-shaped files with bad rows ----------------------------------------------

ECQS_GOOD = [  # (spreadsheet row, fee row, quantity, use, serial): the header is on row 3
    (4, "L-001-004", 1, "safety", "YB2023-0417"),  # 压力表 (0~1.6)MPa 1.6级 -> (0~6)MPa 1.6级
    (5, "L-001-004", 1, "safety", "YB2023-0418"),
    (6, "L-001-008", 1, "safety", "20210335"),  # 0-25MPa 2.5级 -> (6~60)MPa; the full-width serial folded
    (7, "Z-002-001", 1, "trade", "A150017"),  # 电子计价秤 15kg -> ≤15kg
    (8, "Y-001-001", 1, "medical", "0087"),  # 血压计: an alias of one instrument only
    (10, "F-004-001", 1, "trade", "W2020001"),  # 水表 DN20 -> DN15~DN25
    (11, "A-001-002", 1, "environment", "50123"),  # 声级计 2级
]
ECQS_BAD = [
    (9, "range", "ledger.band.ambiguous"),  # 出租汽车计价器: 使用中 or 首次检定, the ledger does not say
    (12, "name", "ledger.name.unknown"),  # 流量积算仪
    (13, "name", "ledger.name.ambiguous"),  # 温度计: three thermometers
    (14, "name", "error.required"),  # no name, the rest filled
    (15, "serial", "error.emoji"),
    (16, "use", "ledger.use.unknown"),  # 自用检测
    (17, "name", "ledger.name.ambiguous"),  # 电子秤: 电子计价秤 or 非自动衡器
    (18, "accuracy", "ledger.band.ambiguous"),  # 0~160MPa: beyond every band
    (20, "serial", "error.control_chars"),  # U+202E in the serial (row 19 is blank)
]


@pytest.mark.parametrize("name", ["ledger_ecqs.csv", "ledger_ecqs.xlsx"])
def test_an_ecqs_export_keeps_its_good_rows_and_names_each_bad_one(name):
    led = read_ledger((DATA / name).read_bytes(), MATCHER)
    assert led.header_line == 3  # below a title row and the export's line
    assert rows_of(led) == ECQS_GOOD
    assert problems_of(led) == ECQS_BAD
    assert led.rows_read == len(ECQS_GOOD) + len(ECQS_BAD)
    gauge = led.lines[0]
    assert (gauge.name, gauge.model, gauge.range, gauge.accuracy, gauge.manufacturer, gauge.location,
            gauge.delivery) == ("压力表", "Y-100", "(0~1.6)MPa", "1.6级", "上海红旗仪表有限公司", "1号锅炉房", "送检")
    assert [ln.on_site for ln in led.lines] == [False, False, False, True, False, False, False]  # 现场检定


def test_the_csv_and_xlsx_exports_read_alike_cell_for_cell():
    """The XLSX holds numbers and dates where the CSV holds text (序号 4, a serial 50123, a date)."""
    from_csv = read_ledger((DATA / "ledger_ecqs.csv").read_bytes(), MATCHER)
    from_xlsx = read_ledger((DATA / "ledger_ecqs.xlsx").read_bytes(), MATCHER)
    assert from_csv == from_xlsx


TEMPLATE_GOOD = [(3, "L-001-004", 3, "safety", "23051234"), (4, "C-001-006", 2, "other", "C1"),
                 (6, "L-001-007", 1, "safety", "EN1"),  # written in English: pressure gauge, 2.5, safety
                 (7, "C-003-001", 10, "other", "")]  # the fee number alone decides
TEMPLATE_BAD = [(5, "range", "ledger.band.ambiguous"),  # 数字多用表: which digits?
                (8, "quantity", "error.quantity"), (9, "service", "ledger.code.service"),
                (10, "code", "ledger.code.unknown")]


@pytest.mark.parametrize("name", ["ledger_template.csv", "ledger_template.xlsx"])
def test_the_institutes_template_with_quantities_services_and_numbers(name):
    led = read_ledger((DATA / name).read_bytes(), MATCHER)
    assert rows_of(led) == TEMPLATE_GOOD
    assert problems_of(led) == TEMPLATE_BAD
    assert [ln.service for ln in led.lines] == ["verification", "calibration", "verification", "verification"]


@pytest.mark.parametrize("make", [template_csv, template_xlsx])
def test_the_shipped_template_reads_back_its_example(make):
    led = read_ledger(make(), MATCHER)
    assert led.header_line == 2 and led.columns == ledger.TEMPLATE_KEYS
    assert rows_of(led) == [(3, "L-001-004", 1, "safety", "23051234")] and not led.problems
    empty = read_ledger(make(example=False), MATCHER)
    assert problems_of(empty) == [(0, "", "ledger.file.no_rows")]


def test_every_problem_is_worded_in_both_languages_with_its_row():
    problems = [*read_ledger((DATA / "ledger_ecqs.csv").read_bytes(), MATCHER).problems,
                *read_ledger((DATA / "ledger_template.xlsx").read_bytes(), MATCHER).problems]
    for problem in problems:
        zh, en = problem_text(problem, "zh"), problem_text(problem, "en")
        assert zh.startswith(f"第{problem.line}行") and en.startswith(f"Row {problem.line}")
        assert "[" not in zh + en and re.search(r"[\u4e00-\u9fff]", zh)
    ambiguous = next(p for p in problems if p.key == "ledger.name.ambiguous")
    assert "玻璃液体温度计" in problem_text(ambiguous, "zh") and "Digital thermometer" in problem_text(ambiguous, "en")
    band = next(p for p in problems if p.key == "ledger.band.ambiguous")
    assert "S-001-001" in problem_text(band, "en") and "收费标准号" in problem_text(band, "zh")
    assert all(key in MESSAGES for key in MESSAGES if key.startswith("ledger."))


# ---- matching: the kiosk's search, then the row -------------------------------------------------


def test_every_instrument_is_found_by_its_name_and_each_alias_it_alone_has():
    owners: dict[str, set[str]] = {}
    for row in ROWS:
        for text in row_texts(row):
            owners.setdefault(normalise_query(text), set()).add(row.name_zh)
    for key, names in owners.items():
        found = MATCHER.instruments(key)
        if len(names) == 1:
            assert found == tuple(names), key
        else:
            assert set(found) == names, key  # 电子秤, scale, thermometer: the problem lists them


def test_a_name_that_contains_the_schedules_name_is_found():
    assert MATCHER.instruments("一般压力表（耐震型）") == ("一般压力表",)
    assert MATCHER.instruments("ＹＡＬＩＢＩＡＯ") == ("一般压力表",)  # pinyin, full-width: the search's keys
    assert MATCHER.instruments("流量积算仪") == ()


# The rows a ledger's name, class, range and words cannot tell apart (the customer writes the fee number).
UNTOLD = {"Z-001-002": "no range given for >220g", "R-001-001": "division value", "R-001-002": "division value"}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.code)
def test_each_row_of_the_schedule_is_found_from_what_a_ledger_says(row):
    """A ledger row that says the instrument, its class (one of the row's), its range as the row prints
    it and the words of its variant finds that row (or one priced the same)."""
    found = ledger._band_match(ledger._fold_spec(row.spec_zh))
    measured = found[1].group(0).replace("≤", "") if found and found[0].high != float("inf") else ""
    accuracy = ledger._CLASS_SPLIT.split(row.accuracy_class)[0]
    cells = {"name": row.name_zh, "accuracy": accuracy, "range": measured, "model": " ".join(ledger.variant_words(row))}
    got = MATCHER.row_for(cells, row.service, 7)
    if row.code in UNTOLD:
        assert isinstance(got, LedgerProblem) and got.key == "ledger.band.ambiguous" and got.line == 7
    else:
        assert isinstance(got, type(row)) and ledger._pricing(got) == ledger._pricing(row), got


@pytest.mark.parametrize(("spec", "value", "inside"), [
    ("(0~6)MPa", "(0~1.6)MPa", True), ("(0~6)MPa", "0-6 MPa", True), ("(6~60)MPa", "0~6MPa", False),
    ("(6~60)MPa", "0～25ＭＰａ", True), ("最大秤量 ≤220g", "200g", True), ("最大秤量 >220g", "220g", False),
    ("最大秤量 (1~10]kg", "10kg", True), ("最大秤量 (1~10]kg", "1000g", False), ("E2等级 (1mg~100g)", "50 g", True),
    ("(0~300)N·m", "0~200N·m", True), ("DN15~DN25", "DN20", True), ("DN32~DN50", "DN25", False),
    ("G1.6~G4", "G2.5", True), ("(-0.1~2.4)MPa", "-0.1~0MPa", True), ("(0~6)MPa", "(0~100)°C", None),
    ("使用中检定", "(0~6)MPa", None),
])
def test_a_range_in_a_band(spec, value, inside):
    assert ledger.in_band(BY_CODE["L-001-001"].__class__(code="X001", name_zh="x", name_en="x", service="verification",
                                                           unit="台", price_fen=1, spec_zh=spec),
                          ledger.measure_of(value)) is inside


def test_the_narrowest_band_and_the_variant_words_decide():
    cells = {"name": "游标卡尺", "range": "(0~150)mm"}
    assert MATCHER.row_for(cells, "verification", 1).code == "C-001-001"  # not (0~300) nor (0~500)
    assert MATCHER.row_for({"name": "压力表", "model": "Y-100", "range": "(-0.1~0)MPa", "accuracy": "1.6级"},
                           "verification", 1).code == "L-001-004"  # a plain gauge: not the 真空表 band
    assert MATCHER.row_for({"name": "真空表", "model": "真空表 Y-100", "range": "(-0.1~0)MPa", "accuracy": "1.6"},
                           "verification", 1).code == "L-001-010"
    assert MATCHER.row_for({"name": "电子台秤", "range": "500kg"}, "verification", 1).code == "Z-003-003"
    band = band_of("电子台秤 最大秤量 (300~1000]kg")
    assert band is not None and band.holds(500_000) and not band.holds(300_000)


def test_a_service_the_instrument_is_not_offered_for_says_which_it_is():
    got = MATCHER.row_for({"name": "数字多用表"}, "verification", 3)
    assert isinstance(got, LedgerProblem) and got.key == "ledger.service.none"
    assert "校准" in problem_text(got, "zh") and "calibration" in problem_text(got, "en").lower()


@pytest.mark.parametrize(("text", "use"), [
    ("贸易结算", "trade"), ("贸易结算类", "trade"), ("安全防护", "safety"), ("用于安全防护", "safety"),
    ("医疗卫生", "medical"), ("环境监测", "environment"), ("", "other"), ("其他", "other"), ("Trade", "trade"),
    ("ｓａｆｅｔｙ", "safety"), ("自用检测", None), ("贸易、医疗", None), ("买卖", None),
])
def test_uses(text, use):
    assert parse_use(text) == use


# ---- properties ---------------------------------------------------------------------------------

GOOD = ["L-001-004", "L-001-008", "Z-002-001", "Y-001-001", "C-001-001", "D-002-001", "F-004-001", "S-001-002"]
cell_text = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=12)
gb_text = st.text(st.characters(codec="gb18030", categories=("Lo", "Nd", "Lu", "Ll")), max_size=10).filter(
    lambda text: not _refused(text))


def _refused(text: str) -> bool:
    try:
        clean_text(text, max_length=60)
    except FieldError:
        return True
    return False


@st.composite
def good_rows(draw):
    """Template rows that name their fee number (so each must be found as it is), with free text in
    the e-CQS columns, full-width digits in the serial."""
    n = draw(st.integers(1, 6))
    out = []
    for _ in range(n):
        code = draw(st.sampled_from(GOOD))
        row = BY_CODE[code]
        serial = draw(st.text("0123456789０１２３４５６７８９ABC-", max_size=12))
        out.append({"name": row.name_zh, "code": code, "quantity": str(draw(st.integers(1, 999))),
                    "use": draw(st.sampled_from(["贸易结算", "安全防护", "医疗卫生", "环境监测", "其他", ""])),
                    "serial": serial, "model": draw(gb_text), "manufacturer": draw(gb_text),
                    "location": draw(gb_text)})
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=good_rows(), order=st.permutations(["name", "code", "quantity", "use", "serial", "model", "manufacturer",
                                               "location", "extra"]),
       titles=st.integers(0, 3), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "xlsx"]))
def test_good_rows_come_back_whatever_the_column_order_encoding_or_format(rows, order, titles, encoding):
    headings = {c.key: c.heading if i % 2 else c.zh for i, c in enumerate(COLUMNS)} | {"extra": "备注"}
    table = [[f"标题{i}"] for i in range(titles)] + [[headings[key] for key in order]]
    table += [[row.get(key, "任意") for key in order] for row in rows]
    if encoding == "xlsx":
        data = as_xlsx(table)
    else:
        data = as_csv(table, encoding, "\t" if encoding == "utf-16" else ",")
    led = read_ledger(data, MATCHER)
    assert not led.problems, led.problems
    assert led.header_line == titles + 1
    assert [(ln.row.code, ln.quantity) for ln in led.lines] == [(r["code"], int(r["quantity"])) for r in rows]
    for ln, row in zip(led.lines, rows):
        assert ln.serial == clean_text(row["serial"]) and ln.serial.isascii()  # full-width digits folded
        assert ln.model == clean_text(row["model"]) and ln.location == clean_text(row["location"])
        assert ln.use == (parse_use(row["use"]) or "other")


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.lists(cell_text, max_size=6), max_size=8))
def test_any_table_reads_without_raising_and_every_row_is_kept_or_named(cells):
    table = [HEADER] + cells
    led = read_rows(table, MATCHER)
    named = {p.line for p in led.problems}
    kept = {ln.line for ln in led.lines}
    assert not named & kept
    for number, row in enumerate(cells, start=2):
        if any(c.strip() for c in row[: len(HEADER)]):
            assert number in named | kept
    for ln in led.lines:  # what is kept is what the kiosk would take typed
        for key in ("model", "range", "serial", "manufacturer", "location"):
            assert clean_text(getattr(ln, key), max_length=60) == getattr(ln, key)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=600) | st.builds(lambda b: ledger.XLSX_MAGIC + b, st.binary(max_size=300)))
def test_any_bytes_give_a_ledger_never_an_exception(data):
    led = read_ledger(data, MATCHER)
    assert isinstance(led, Ledger)
    assert all(isinstance(ln, LedgerLine) for ln in led.lines)


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=30))
def test_a_cell_is_cleaned_as_the_kiosk_cleans_typing(text):
    led = read_rows([HEADER, ["压力表", text, "(0~1.6)MPa", "1.6级", "", "", "", "安全防护", ""]], MATCHER)
    try:
        expected = clean_text(text, max_length=60)
    except FieldError as e:
        assert problems_of(led) == [(2, "model", e.key)]
    else:
        assert [ln.model for ln in led.lines] == [expected]


# ---- limits and hostile files -------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_whole():
    led = read_ledger(b"x" * (ledger.MAX_BYTES + 1), MATCHER)
    assert problems_of(led) == [(0, "", "ledger.file.too_big")] and "1024 KB" in problem_text(led.problems[0], "en")


def test_rows_beyond_the_limit_are_named_and_the_first_ones_kept():
    table = [HEADER] + [["压力表", "Y-100", "(0~1.6)MPa", "1.6级", str(i), "", "", "安全防护", ""]
                        for i in range(MAX_ROWS + 20)]
    led = read_ledger(as_csv(table), MATCHER)
    assert len(led.lines) == MAX_ROWS
    assert problems_of(led) == [(MAX_ROWS + 2, "", "ledger.file.too_many_rows")]


def test_a_long_blank_run_ends_the_table():
    table = [HEADER, ["压力表", "", "(0~1.6)MPa", "1.6级"]] + [[""]] * ledger.MAX_BLANK_RUN + [["压力表"]]
    led = read_ledger(as_xlsx(table), MATCHER)
    assert len(led.lines) == 1 and not led.problems


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (ledger.XLSX_MAX_UNPACKED + 10) + b"</a>")
    data = out.getvalue()
    assert len(data) < ledger.MAX_BYTES  # small on the wire
    assert problems_of(read_ledger(data, MATCHER)) == [(0, "", "ledger.file.xlsx_too_big")]


def test_an_xlsx_with_a_dtd_is_refused():
    book = io.BytesIO(as_xlsx([HEADER, ["压力表"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, mark, rest = content.partition(b"?>")
                dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
                content = head + mark + dtd + rest if mark else dtd + content
            dst.writestr(item, content)
    assert problems_of(read_ledger(out.getvalue(), MATCHER)) == [(0, "", "ledger.file.unreadable")]


@pytest.mark.parametrize(("data", "key"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "ledger.file.xls"),
    (b"", "ledger.file.empty"), (b"  \r\n", "ledger.file.empty"),
    (b"PK\x03\x04 not a zip", "ledger.file.unreadable"),
    ("品名,规格\n压力表,Y\n".encode(), "ledger.file.no_header"),
    ("器具名称,出厂编号\n".encode(), "ledger.file.no_rows"),
    (b"\xff\xfe\x00\xd8", "ledger.file.encoding"),  # UTF-16 with a lone surrogate
])
def test_files_that_cannot_be_read_say_why(data, key):
    assert problems_of(read_ledger(data, MATCHER)) == [(0, "", key)]


def test_a_column_twice_reads_the_first():
    led = read_rows([["器具名称", "出厂编号", "出厂编号"], ["压力表", "A1", "B2"]], MATCHER)
    assert problems_of(led) == [(1, "serial", "ledger.file.column_twice"), (2, "range", "ledger.band.ambiguous")]


def test_headings_either_language_with_marks():
    keys = [ledger.column_key(c) for c in ["*器具名称", "器具名称\nInstrument", "Serial number", "出厂编号（必填）",
                                           "规格型号", "测量范围/量程", "序号", "Fee no."]]
    assert keys == ["name", "name", "serial", "serial", "model", "range", None, "code"]
