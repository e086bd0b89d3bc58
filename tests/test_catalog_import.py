"""Importing an institute's fee table: all or nothing, every error named by file, line and column."""

import pytest

from kiosk.cli import main
from kiosk.domain.catalog import (
    CatalogError,
    decode_csv_bytes,
    normalise_text,
    parse_csv,
    to_csv,
    yuan_to_fen,
)

HEADER = "收费标准号,项目名称,英文名称,服务类别,计量单位,收费(元),最低收费(元),强制检定,检定周期(月),监管方式\n"
GOOD = [
    "L-001-001,一般压力表,General pressure gauge,检定,块,30,,安全防护,6,P+V",
    "Z-002-001,电子天平,Electronic balance,检定,台,80.5,,贸易结算、医疗卫生,12,P+V",
    "D-002-001,数字多用表,Digital multimeter,校准,台,面议,,否,",
]


def table(*rows: str) -> str:
    return HEADER + "\n".join(rows) + "\n"


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(CatalogError) as refused:
        parse_csv(text, "fees.csv")
    return [(p.line, p.column) for p in refused.value.problems]


def test_a_good_table_parses_with_exact_fen():
    rows = parse_csv(table(*GOOD), "fees.csv")
    assert [r.price_fen for r in rows] == [3000, 8050, None]
    assert rows[0].compulsory_uses == {"safety"} and rows[0].cycle_months == 6 and rows[0].field == "L"
    assert (rows[1].compulsory_uses, rows[1].supervision) == ({"trade", "medical"}, "P+V")
    assert (rows[2].compulsory_uses, rows[2].supervision) == (frozenset(), "")


@pytest.mark.parametrize(
    "bad_row, line, column",
    [
        ("L-001-002,压力表,Gauge,检定,块,30.001,,否,", 5, "收费(元)"),  # fractions of a fen
        ("L-001-002,压力表,Gauge,检定,块,-5,,否,", 5, "收费(元)"),
        ("L-001-002,压力表,Gauge,检定,块,thirty,,否,", 5, "收费(元)"),
        ("L-001-002,压力表,Gauge,鉴定,块,30,,否,", 5, "服务类别"),  # a typo of 检定
        ("L-001-002,压力表,Gauge,检定,箱,30,,否,", 5, "计量单位"),
        ("L-001-002,压力表,Gauge,检定,块,30,,也许,", 5, "强制检定"),
        ("L-001-002,压力表,Gauge,检定,块,30,,否,六", 5, "检定周期(月)"),
        ("L-001-002,压力表,Gauge,检定,块,30,,否,999", 5, "检定周期(月)"),
        ("Q-001-002,压力表,Gauge,检定,块,30,,否,", 5, "收费标准号"),  # unknown field letter
        ("pressure,压力表,Gauge,检定,块,30,,否,", 5, "收费标准号"),
        ("L-001-001,压力表,Gauge,检定,块,30,,否,", 5, "收费标准号"),  # duplicate of line 2
        (",压力表,Gauge,检定,块,30,,否,", 5, "收费标准号"),
        ("L-001-002,,Gauge,检定,块,30,,否,", 5, "项目名称"),
        ("L-001-002,压力表,Gauge,检定,块,面议,10,否,", 5, "收费(元)"),  # quoted row with a minimum
        ("L-001-002," + "压" * 201 + ",Gauge,检定,块,30,,否,", 5, "项目名称"),
        ("L-001-002,压力表\x07,Gauge,检定,块,30,,否,", 5, "项目名称"),
        ("L-001-002,压力表\u202e,Gauge,检定,块,30,,否,", 5, "项目名称"),  # turns the name round on screen
        ("L-001-002,压力表,Gau\u200bge,检定,块,30,,否,", 5, "英文名称"),  # a zero-width space
    ],
)
def test_a_bad_row_is_reported_by_line_and_column(bad_row, line, column):
    assert problems(table(*GOOD, bad_row)) == [(line, column)]


def test_an_invisible_character_is_named_by_its_code_point():
    """Neither an editor nor a spreadsheet shows it: the message says which it is."""
    with pytest.raises(CatalogError) as refused:
        parse_csv(table(*GOOD, "L-001-002,压力表\u2066,Gauge,检定,块,30,,否,"), "fees.csv")
    (problem,) = refused.value.problems
    assert "U+2066" in str(problem) and str(problem).startswith("fees.csv:5: [项目名称]")


# ---- compulsory uses and supervision (《实施强制管理的计量器具目录》 2019年第48号) ----------------


@pytest.mark.parametrize("cell, uses", [
    ("贸易结算", {"trade"}), ("安全防护；医疗卫生", {"safety", "medical"}),
    ("环境监测/贸易结算", {"environment", "trade"}),
    ("\"trade, Medical\"", {"trade", "medical"}), ("贸易结算、贸易结算、", {"trade"}), ("否", set()), ("", set()),
])
def test_the_compulsory_column_names_the_uses(cell, uses):
    (row,) = parse_csv(table(f"Z-002-001,电子天平,Balance,检定,台,80,,{cell},12,"))
    assert row.compulsory_uses == uses


@pytest.mark.parametrize("cell, column, says", [
    ("是", "强制检定", "贸易结算/安全防护/医疗卫生/环境监测"),  # compulsory, but for which uses?
    ("yes", "强制检定", "贸易结算/安全防护/医疗卫生/环境监测"),
    ("贸易结算、计量检测", "强制检定", "'计量检测'"),  # unknown word, named
    ("其他", "强制检定", "'其他'"),  # a use, but never a compulsory one
])
def test_a_compulsory_cell_without_known_uses_is_refused_naming_line_and_word(cell, column, says):
    with pytest.raises(CatalogError) as refused:
        parse_csv(table(*GOOD, f"Z-002-002,电子天平,Balance,检定,台,80,,{cell},12,"), "fees.csv")
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (5, column) and says in problem.message
    assert str(problem).startswith("fees.csv:5: [强制检定]")


@pytest.mark.parametrize("cell", ["PV", "W", "P+V+X", "强检"])
def test_an_unknown_supervision_is_refused_naming_the_line(cell):
    with pytest.raises(CatalogError) as refused:
        parse_csv(table(*GOOD, f"Z-002-002,电子天平,Balance,检定,台,80,,贸易结算,12,{cell}"), "fees.csv")
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (5, "监管方式") and cell in problem.message


def test_supervision_is_read_as_written_in_either_case():
    rows = parse_csv(table(*(f"Z-002-00{i},电子天平,Balance,检定,台,80,,贸易结算,12,{m}"
                             for i, m in enumerate(("p", "v", "p + v", "")))))
    assert [r.supervision for r in rows] == ["P", "V", "P+V", ""]


def test_a_table_stored_before_uses_were_named_reads_yes_as_every_use():
    """Central's stored versions and a central not yet upgraded say 是 (kiosk/sync/feed.py,
    central/due.py): what it meant then, free for any of the four uses."""
    old = "收费标准号,项目名称,英文名称,服务类别,计量单位,收费(元),强制检定\nL-001-001,压力表,Gauge,检定,块,30,是\n"
    (row,) = parse_csv(old, before_uses=True)
    assert row.compulsory_uses == {"trade", "safety", "medical", "environment"}
    with pytest.raises(CatalogError):
        parse_csv(old)  # imported today, the table must say for which uses


def test_export_writes_the_uses_as_the_catalogue_words_them():
    exported = to_csv(parse_csv(table(*GOOD)))
    assert "贸易结算、医疗卫生,P+V" in exported and ",安全防护," in exported


def test_every_bad_row_is_reported_not_just_the_first():
    found = problems(table("L-001-001,压力表,Gauge,检定,块,x,,否,", *GOOD[1:], "L-9,压力表,Gauge,检定,块,1,,否,"))
    assert [line for line, _ in found] == [2, 5]


def test_header_problems_are_reported():
    assert problems("收费标准号,项目名称,价格\nL-001-001,压力表,1\n") == [
        (1, "价格"), (1, "服务类别"), (1, "计量单位"), (1, "收费(元)")
    ]  # no 英文名称: published tables have none (tests/test_catalog_published.py)


def test_english_headers_and_full_width_cells_are_accepted():
    rows = parse_csv("code,name_zh,name_en,service,unit,price\n"
                     "Ｌ－００１－００１,压力表（弹簧管）,Gauge,检定,块,３０\n")
    assert (rows[0].code, rows[0].price_fen, rows[0].name_zh) == ("L-001-001", 3000, "压力表（弹簧管）")


def test_text_keeps_its_own_punctuation_and_symbols():
    # A spec means what it says: ℃, 2×10⁵, ½ and full-width brackets survive.
    assert normalise_text("（-40～150）℃ 2×10⁵ ½ ＡＢ１２") == "（-40～150）℃ 2×10⁵ ½ AB12"


def test_excel_encodings_are_read():
    text = table(*GOOD)
    assert decode_csv_bytes(text.encode("utf-8-sig")) == text
    assert decode_csv_bytes(text.encode("gb18030")) == text


def test_round_trip_through_csv_is_exact():
    rows = parse_csv(table(*GOOD))
    assert parse_csv(to_csv(rows)) == rows


def test_yuan_to_fen_is_exact():
    assert [yuan_to_fen(x) for x in ("0", "0.01", "12.5", "1,234.56", "¥8", "９元")] == [0, 1, 1250, 123456, 800, 900]


# ---- through the command line, against the database ----------------------------------------


def test_cli_import_is_all_or_nothing(tmp_path, capsys):
    db = str(tmp_path / "k.sqlite3")
    bad = tmp_path / "bad.csv"
    bad.write_text(table(*GOOD, "L-001-009,压力表,Gauge,检定,块,abc,,否,"), encoding="utf-8")
    assert main(["--db", db, "catalog", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv:5" in err and "收费(元)" in err and "未导入" in err

    assert main(["--db", db, "catalog", "export"]) == 0
    exported = capsys.readouterr().out
    assert "L-001-001" in exported and "abc" not in exported  # still only the demo catalogue

    good = tmp_path / "fees-2027.csv"
    good.write_bytes(table(*GOOD).encode("gb18030"))  # as Excel on a Chinese Windows saves it
    assert main(["--db", db, "catalog", "import", str(good)]) == 0
    assert "第2版：3行" in capsys.readouterr().out
    assert main(["--db", db, "catalog", "export"]) == 0
    assert parse_csv(capsys.readouterr().out) == parse_csv(table(*GOOD))


def test_cli_export_writes_a_file_excel_opens(tmp_path, capsys):
    out = tmp_path / "fees.csv"
    assert main(["--db", str(tmp_path / "k.sqlite3"), "catalog", "export", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 only with it
    assert len(parse_csv(decode_csv_bytes(data))) >= 80


def test_import_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "k.sqlite3"), "catalog", "import", str(tmp_path / "nope.csv")]) == 1
    assert "找不到文件" in capsys.readouterr().err
    assert not (tmp_path / "k.sqlite3").exists()
