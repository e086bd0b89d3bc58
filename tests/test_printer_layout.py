"""Receipt columns and layout: what every renderer prints, line by line."""

import unicodedata
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printer.document import QR, Column, Cut, Document, Feed, Row, Rule, Table, Text
from printer.layout import CutLine, FeedLine, QRLine, TextLine, column_widths, layout
from printer.profiles import PROFILES
from printer.width import clusters, columns_of, pad, sanitize, truncate, wrap

P58 = PROFILES["58mm"]
P80 = PROFILES["80mm"]

# Text as receipts see it, and worse: ASCII, hanzi, the punctuation that trips code pages,
# spaces in runs, combining marks, surrogate pairs and lone surrogates, controls.
PIECES = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from(list("计量检定压力表合格证书，。、（）“”——￥·×…é")),
    st.just(" "),
    st.sampled_from(["\u0301", "\u0308", "\ufe0f", "e\u0301", "a\u0301\u0302\u0303\u0304"]),
    st.sampled_from(["\ud83d\ude00", "\ud800", "\udc00", "😀", "\U00020000"]),
    st.sampled_from(["\x1b", "\t", "\x00", "\x85", "\r"]),
    st.characters(),
)
TEXTS = st.lists(PIECES, max_size=60).map("".join)


def gb18030_columns(text: str) -> int:
    """The rule, independently: bytes GB18030 uses for the character, 1 -> 1 column, else 2;
    what it cannot encode prints as one '?'."""
    total = 0
    for ch in text:
        try:
            total += 1 if len(ch.encode("gb18030")) == 1 else 2
        except UnicodeEncodeError:
            total += 1
    return total


def is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


# --- columns --------------------------------------------------------------------------------


def test_columns_count_gb18030_bytes_not_unicode_width():
    assert columns_of("abc") == 3
    assert columns_of("计量") == 4
    for ch in "“”·—×￥é…、，":  # "ambiguous" in a terminal, double on the receipt
        assert columns_of(ch) == 2, ch
    assert columns_of("\ud800") == 1  # printed as '?'
    assert columns_of("\ud83d\ude00") == columns_of("😀") == 2


@given(TEXTS)
def test_columns_match_the_gb18030_encoding(text):
    lone = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace") != text
    if not lone:
        assert columns_of(text) == gb18030_columns(text)
    assert columns_of(text) >= len(text) - text.count("\ud83d")


@given(TEXTS)
def test_sanitized_text_encodes_strictly_and_holds_no_control(text):
    clean = sanitize(text)
    clean.encode("gb18030")  # strict: no lone surrogate left
    assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in clean)
    assert sanitize(clean) == clean


def test_sanitize_keeps_escape_bytes_off_the_printer():
    assert sanitize("a\x1bE\x01b") == "a?E?b"
    assert sanitize("e\u0301") == "é"
    assert sanitize("x\ud83d\ude00y\ud800") == "x😀y?"
    assert sanitize("a\tb\r\nc") == "a b\nc"


# --- wrap -----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(TEXTS, st.integers(min_value=2, max_value=40))
def test_wrap_is_lossless_never_too_wide_never_inside_a_glyph(text, width):
    lines = wrap(text, width)
    assert lines and "".join(lines) == text
    for line in lines:
        assert columns_of(line.rstrip(" ")) <= width  # trailing spaces hang, never print
    position = 0
    for line in lines[:-1]:
        position += len(line)
        before, after = text[position - 1], text[position]
        assert not ("\ud800" <= before <= "\udbff" and "\udc00" <= after <= "\udfff"), "surrogate pair split"
        if is_mark(after):  # only a combining sequence too wide for any line may be cut
            start = position
            while start > 0 and is_mark(text[start - 1]):
                start -= 1
            end = position
            while end < len(text) and is_mark(text[end]):
                end += 1
            base = max(0, start - 1)
            if base > 0 and "\udc00" <= text[base] <= "\udfff" and "\ud800" <= text[base - 1] <= "\udbff":
                base -= 1  # the base is a surrogate pair
            assert columns_of(text[base:end]) > width, "combining mark split from its base"


@given(TEXTS, st.integers(min_value=2, max_value=40))
def test_wrap_breaks_only_when_it_must(text, width):
    lines = wrap(text, width)
    if columns_of(text.rstrip(" ")) <= width:
        assert lines == [text]
    for line in lines[1:-1]:  # (the first may be an indent too wide for what follows it)
        assert line.strip(" "), "a line of nothing but spaces"


def test_chinese_wraps_by_columns_sixteen_hanzi_in_thirty_two():
    assert wrap("计" * 40, 32) == ["计" * 16, "计" * 16, "计" * 8]
    assert wrap("a计" * 4, 5) == ["a计a", "计a计", "a计"]


def test_words_and_chinese_punctuation_break_where_a_typesetter_would():
    assert wrap("hello world foo", 5) == ["hello ", "world ", "foo"]
    assert wrap("压力表压力表，合格", 12) == ["压力表压力", "表，合格"]  # "，" never starts a line
    assert wrap("送检（加急）", 6) == ["送检", "（加", "急）"]  # "（" never ends one, "）" never starts one
    assert wrap("abcdefgh", 3) == ["abc", "def", "gh"]  # no opportunity: cut between glyphs


@pytest.mark.parametrize("width", range(8, 20))
def test_an_amount_is_never_split_from_its_yuan_sign(width):
    for line in wrap("超长3米加收 ￥6.00 加急72h加收30% ￥4.80", width):
        assert not line.rstrip(" ").endswith("￥")


def test_wrap_width_below_one_hanzi_is_an_error():
    with pytest.raises(ValueError):
        wrap("计量", 1)


def test_pad_and_truncate_by_columns():
    assert pad("计量", 6, "right") == "  计量"
    assert pad("计量", 7, "center") == " 计量  "
    assert truncate("计量ab", 3) == "计"
    assert truncate("e\u0301x", 2) == ""  # a glyph is not cut from its mark (which prints 2 wide)
    assert truncate("e\u0301x", 3) == "e\u0301"
    assert clusters("e\u0301x") == ["e\u0301", "x"]


# --- layout ---------------------------------------------------------------------------------


def texts(lines):
    return [line.text for line in lines if isinstance(line, TextLine)]


def test_a_chinese_line_wraps_at_sixteen_hanzi_on_58mm():
    lines = layout(Document((Text("检" * 40),)), P58)
    assert texts(lines) == ["检" * 16, "检" * 16, "检" * 8]


def test_double_size_uses_half_the_columns():
    lines = layout(Document((Text("检" * 20, size=2, align="center"),)), P58)
    assert [line.size for line in lines] == [2, 2, 2]
    assert texts(lines) == ["检" * 8, "检" * 8, "    " + "检" * 4]
    assert all(line.dots_columns <= P58.columns for line in lines)


def test_alignment_pads_by_columns():
    [centre] = layout(Document((Text("计量院", align="center"),)), P58)
    assert centre.text == " " * 13 + "计量院"
    [right] = layout(Document((Text("¥12 计量", align="right"),)), P58)
    assert columns_of(right.text) == 32 and right.text.endswith("¥12 计量")


def test_a_row_puts_its_value_flush_right():
    [line] = layout(Document((Row("合计", "￥1,234.50", bold=True),)), P58)
    assert line.bold and line.text.startswith("合计 ") and line.text.endswith("￥1,234.50")
    assert columns_of(line.text) == 32


def test_a_long_row_value_wraps_right_of_the_key_each_part_flush_right():
    lines = texts(layout(Document((Row("单位", "某某精密仪器有限公司第二分公司计量室"),)), P58))
    assert len(lines) == 2 and lines[0].startswith("单位 ")
    assert all(columns_of(line) == 32 for line in lines)
    assert ("".join(line.replace(" ", "").removeprefix("单位") for line in lines)
            == "某某精密仪器有限公司第二分公司计量室")


def test_a_row_with_a_key_too_long_puts_the_value_under_it():
    lines = texts(layout(Document((Row("很长的键" * 5, "值"),)), P58))
    assert lines[-1] == " " * 30 + "值"


def test_column_widths_share_what_is_left_by_weight():
    table = Table((Column("a", weight=1), Column("b", weight=0, min_width=6), Column("c", weight=0, min_width=10)), ())
    assert column_widths(table, 32) == [14, 6, 10]
    table = Table((Column("a", weight=2), Column("b", weight=1)), ())
    assert column_widths(table, 32) == [4 + 16, 4 + 7]  # 23 left: 15 and 7, the odd one to the first
    squeezed = Table(tuple(Column(str(i), min_width=20) for i in range(3)), ())
    assert column_widths(squeezed, 32) == [10, 10, 10]


def test_table_columns_line_up_and_chinese_cells_wrap_inside_their_column():
    table = Table(
        (Column("项目"), Column("数量", align="right", weight=0, min_width=6),
         Column("金额", align="right", weight=0, min_width=10)),
        (("1. 精密压力表（0-1.6MPa 0.4级）检定", "2台", "￥160.00"), ("2. 游标卡尺", "1把", "免费")),
    )
    lines = layout(Document((table,)), P58)
    assert lines[0].bold and not lines[1].bold
    for line in lines:
        text = line.text + " " * (32 - columns_of(line.text))
        cells = [truncate(text, 14)]
        rest = text[len(cells[0]):]
        assert rest[:1] == " " and columns_of(cells[0]) == 14  # the first column ends at 14, always
        second = truncate(rest[1:], 6)
        assert rest[1 + len(second):][:1] == " "
    amounts = [line.text for line in lines if line.text.endswith(("￥160.00", "免费"))]
    assert all(columns_of(a) == 32 for a in amounts)
    first_cells = [truncate(line.text, 14).rstrip(" ") for line in lines[1:]]
    assert "".join(first_cells[:-1]).replace(" ", "") == "1.精密压力表（0-1.6MPa0.4级）检定"


def test_rules_feeds_qr_and_cut_pass_through():
    lines = layout(Document((Rule(), Rule("—"), Feed(2), QR("K1"), QR(""), Cut())), P80)
    assert lines[0] == TextLine("-" * 48)
    assert lines[1] == TextLine("—" * 24)
    assert lines[2:] == [FeedLine(2), QRLine("K1"), CutLine()]


DOCS = st.lists(
    st.one_of(
        st.builds(Text, TEXTS, st.sampled_from(["left", "center", "right"]), st.booleans(), st.sampled_from([1, 2])),
        st.builds(Row, TEXTS, TEXTS, st.booleans()),
        st.builds(lambda cells: Table((Column("项目"), Column("数量", "right", 0, 6)), (tuple(cells),)),
                  st.lists(TEXTS, min_size=2, max_size=2)),
    ),
    max_size=6,
).map(lambda blocks: Document(tuple(blocks)))


@settings(max_examples=150)
@given(DOCS, st.sampled_from(sorted(PROFILES)))
def test_no_line_is_wider_than_the_paper_and_no_text_is_lost(document, name):
    profile = PROFILES[name]
    lines = layout(document, profile)
    for line in lines:
        assert columns_of(line.text) * line.size <= profile.columns
        assert line.text == line.text.rstrip(" ")
        line.text.encode("gb18030")
    printed = Counter("".join(texts(lines)).replace(" ", ""))
    wanted = ""
    for block in document.blocks:
        parts = [block.text] if isinstance(block, Text) else [block.key, block.value] if isinstance(block, Row) \
            else ["项目", "数量", *block.rows[0]]
        wanted += "".join(sanitize(p) for p in parts)
    assert printed == Counter(wanted.replace(" ", "").replace("\n", ""))  # table cells interleave
