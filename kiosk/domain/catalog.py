"""The fee catalogue as plain data, and its CSV form (the shape of a published fee table).

Pure: no database, no Textual. `db/` stores these rows; the estimate engine and the
search read them. Money is integer fen; the CSV carries yuan with at most two decimals,
as institutes publish it, and is converted exactly (Decimal, never float).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from kiosk.domain.hidden_text import hidden
from kiosk.domain.vocabulary import (
    COMPULSORY_USES,
    FIELDS,
    SERVICE_NAMES,
    SERVICE_WORDS,
    SERVICES,
    SUPERVISION,
    UNITS,
    USE_WORDS,
    USES,
    normalise_text,
    normalise_token,
)

# Accepted fee-standard number styles seen in provincial tables: C-005-006, C001, C-001-0001.
CODE_RE = re.compile(r"^[A-Z](?:-?\d{3})(?:-\d{3,4})?$")
# Published tables print one fee-standard number on several bands (量块 三、四等 / 五、六等 under
# C001). Tickets and versions key rows by code, so each band after the first gets a code of its
# own: the number, this mark and its position among the number's bands (C001, C001.2, C001.3).
# The mark is not in CODE_RE, so a derived code never collides with a published number; the
# first band keeps the bare number, so a number that gains bands keeps its code.
BAND_MARK = "."

MAX_TEXT = 200  # longest cell accepted; a longer one is a sign of a broken file


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One priced row of the fee table: one instrument, one service, one spec band."""

    code: str  # fee-standard number 收费标准号 (+ band mark), unique within a catalogue version
    name_zh: str
    name_en: str
    service: str  # one of SERVICES
    unit: str  # a key of UNITS (Chinese measure word)
    price_fen: int | None  # None: quoted at the counter (面议)
    aliases: tuple[str, ...] = ()
    spec_zh: str = ""  # spec / range band, as printed in the table
    spec_en: str = ""
    accuracy_class: str = ""
    min_fen: int | None = None  # minimum charge for the line (this item in one consignment)
    per_point_fen: int | None = None  # add-on per measuring point beyond points_included
    points_included: int = 0
    per_range_fen: int | None = None  # add-on per range / function beyond ranges_included
    ranges_included: int = 0
    per_metre_fen: int | None = None  # add-on per started metre beyond metres_included
    metres_included: int = 0
    ac_dc_percent: int | None = None  # surcharge when both AC and DC are verified
    regulation: str = ""  # JJG / JJF number
    cycle_months: int | None = None  # verification cycle; None: none or first verification only
    # The uses for which the compulsory catalogue (2019年第48号) makes this item's verification
    # compulsory, and free; empty: not in the catalogue. The same scale is free in a market
    # (trade) and charged in a lab.
    compulsory_uses: frozenset[str] = frozenset()
    supervision: str = ""  # the catalogue's P, V or P+V; "" for an item it does not list
    turnaround_days: int = 10  # working days promised
    urgent_allowed: bool = True

    @property
    def field(self) -> str:
        return self.code[0]

    @property
    def standard(self) -> str:
        """The fee-standard number as published, shared by all bands of that number."""
        return fee_number(self.code)


def fee_number(code: str) -> str:
    """A row's code as the published table prints it: C001.2 -> C001."""
    return code.partition(BAND_MARK)[0]


class CatalogError(ValueError):
    """A catalogue file that cannot be imported. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: [{self.column}] {self.message}" if self.column else f"{where}: {self.message}"


# ---- CSV shape -------------------------------------------------------------------------
# Canonical headers are the Chinese ones of a published fee table; the English keys are
# accepted too so that a table can be prepared by tools that do not write Chinese.
COLUMNS: list[tuple[str, str]] = [
    ("收费标准号", "code"),
    ("项目名称", "name_zh"),
    ("英文名称", "name_en"),
    ("别名", "aliases"),
    ("服务类别", "service"),
    ("规格/测量范围", "spec_zh"),
    ("规格(英文)", "spec_en"),
    ("准确度等级", "accuracy_class"),
    ("计量单位", "unit"),
    ("收费(元)", "price"),
    ("最低收费(元)", "min"),
    ("每增加测量点(元)", "per_point"),
    ("含测量点数", "points_included"),
    ("每增加量程(元)", "per_range"),
    ("含量程数", "ranges_included"),
    ("超长每米(元)", "per_metre"),
    ("起算长度(米)", "metres_included"),
    ("交直流加收(%)", "ac_dc_percent"),
    ("依据规程", "regulation"),
    ("检定周期(月)", "cycle_months"),
    ("强制检定", "compulsory"),  # the uses that make it compulsory: 贸易结算、医疗卫生; 否 or empty: none
    ("监管方式", "supervision"),
    ("承诺工作日", "turnaround_days"),
    ("可加急", "urgent_allowed"),
]
# No English column: published tables have none (the Chinese name stands in, see _fill_english).
REQUIRED = {"code", "name_zh", "service", "unit", "price"}
_HEADER_KEYS = {zh: key for zh, key in COLUMNS} | {key: key for _, key in COLUMNS}
_ZH_HEADER = {key: zh for zh, key in COLUMNS}
QUOTED_WORDS = {"", "面议", "议价", "-", "—"}
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", "", "×"}
ALIAS_SPLIT = re.compile(r"[、;；|,，/]")


def yuan_to_fen(text: str) -> int:
    """'45', '45.5', '45.50' -> 4550. Raises ValueError on anything else (no floats)."""
    text = normalise_token(text).replace(",", "").removeprefix("¥").removesuffix("元")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount in yuan: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount in yuan: {text!r}")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals (fen): {text!r}")
    if fen > 100_000_000_00:
        raise ValueError(f"implausibly large amount: {text!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _int(text: str, low: int, high: int) -> int:
    text = normalise_token(text)
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"not a whole number: {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")
    return value


def _bool(text: str, default: bool) -> bool:
    word = normalise_token(text).lower()
    if word == "":
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"not 是/否 (yes/no): {text!r}")


_USE_LIST = "/".join(USE_WORDS)


def _compulsory_uses(text: str, before_uses: bool) -> frozenset[str]:
    """'贸易结算、医疗卫生' (or trade, medical) -> {trade, medical}; 否 or empty -> none. A bare 是
    says the row is compulsory without saying for which uses, and is refused, unless the table
    was written before rows named them (`before_uses`), when 是 meant every compulsory use."""
    word = normalise_token(text).lower()
    if word in NO:
        return frozenset()
    if word in YES:
        if before_uses:
            return COMPULSORY_USES
        raise ValueError(f"say for which uses it is compulsory: {_USE_LIST} (trade/safety/medical/environment), "
                         f"not {text.strip()!r}")
    uses = set()
    for part in filter(None, (p.strip() for p in ALIAS_SPLIT.split(word))):
        use = USE_WORDS.get(part, part)
        if use not in COMPULSORY_USES:
            raise ValueError(f"unknown use {part!r} (known: {_USE_LIST}, or trade/safety/medical/environment)")
        uses.add(use)
    return frozenset(uses)


def _supervision(text: str) -> str:
    mode = normalise_token(text).upper().replace(" ", "")
    if mode and mode not in SUPERVISION:
        raise ValueError(f"not P, V or P+V: {text.strip()!r}")
    return mode


def _row_from_cells(cells: dict[str, str], before_uses: bool = False) -> FeeRow:
    """Build one FeeRow; a bad cell raises _CellError naming its column."""

    def get(key: str) -> str:
        return cells.get(key, "") or ""

    def parse(key: str, fn, *args):
        try:
            return fn(get(key), *args)
        except ValueError as e:
            raise _CellError(key, str(e)) from None

    for key in REQUIRED - {"price"}:
        if not normalise_token(get(key)):
            raise _CellError(key, "required")
    for key, value in cells.items():
        if value and len(value) > MAX_TEXT:
            raise _CellError(key, f"longer than {MAX_TEXT} characters")
        if value and (at := next((ch for ch in value if hidden(ch)), None)):
            # Cc and Cf: a tab pasted from a sheet, or a U+202E that would turn a name round on
            # the screen and the receipt. Named, since neither shows in the file.
            raise _CellError(key, f"contains an invisible character U+{ord(at):04X}")

    code = normalise_token(get("code")).upper()
    if not CODE_RE.match(code):
        raise _CellError("code", f"not a fee-standard number like C-005-006 or C001: {code!r}")
    if code[0] not in FIELDS:
        raise _CellError("code", f"unknown field letter {code[0]!r} (known: {''.join(FIELDS)})")
    service_word = normalise_token(get("service")).lower()
    service = SERVICE_WORDS.get(service_word, service_word)
    if service not in SERVICES:
        raise _CellError("service", f"not one of 检定/校准/检测/修理: {get('service')!r}")
    unit = normalise_token(get("unit"))
    if unit not in UNITS:
        raise _CellError("unit", f"unknown unit {unit!r} (known: {'/'.join(UNITS)})")
    price_text = normalise_token(get("price"))
    price = None if price_text in QUOTED_WORDS else parse("price", yuan_to_fen)

    def money(key: str) -> int | None:
        return None if not normalise_token(get(key)) else parse(key, yuan_to_fen)

    def count(key: str, high: int) -> int:
        return 0 if not normalise_token(get(key)) else parse(key, _int, 0, high)

    row = FeeRow(
        code=code,
        name_zh=normalise_text(get("name_zh")),
        name_en=normalise_text(get("name_en")),
        service=service,
        unit=unit,
        price_fen=price,
        aliases=tuple(a for a in (normalise_text(x) for x in ALIAS_SPLIT.split(get("aliases"))) if a),
        spec_zh=normalise_text(get("spec_zh")),
        spec_en=normalise_text(get("spec_en")),
        accuracy_class=normalise_text(get("accuracy_class")),
        min_fen=money("min"),
        per_point_fen=money("per_point"),
        points_included=count("points_included", 1000),
        per_range_fen=money("per_range"),
        ranges_included=count("ranges_included", 100),
        per_metre_fen=money("per_metre"),
        metres_included=count("metres_included", 10000),
        ac_dc_percent=None if not normalise_token(get("ac_dc_percent"))
        else parse("ac_dc_percent", _int, 0, 500),
        regulation=normalise_text(get("regulation")),
        cycle_months=None if not normalise_token(get("cycle_months")) else parse("cycle_months", _int, 1, 120),
        compulsory_uses=parse("compulsory", _compulsory_uses, before_uses),
        supervision=parse("supervision", _supervision),
        turnaround_days=10 if not normalise_token(get("turnaround_days"))
        else parse("turnaround_days", _int, 1, 365),
        urgent_allowed=parse("urgent_allowed", _bool, True),
    )
    if price is None and any(
        v is not None for v in (row.min_fen, row.per_point_fen, row.per_range_fen, row.per_metre_fen)
    ):
        raise _CellError("price", "a row quoted at the counter cannot have add-ons or a minimum")
    return row


class _CellError(ValueError):
    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


def decode_csv_bytes(data: bytes) -> str:
    """Institutes' CSV files come from Excel: UTF-8 with a BOM, plain UTF-8, or GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("the file is neither UTF-8 nor GB18030 text")


def parse_csv(text: str, filename: str = "<csv>", max_problems: int = 20, *, before_uses: bool = False
              ) -> list[FeeRow]:
    """Parse a whole fee table. All or nothing: any problem raises CatalogError listing them.

    `before_uses`: a table this software stored or published before rows named their compulsory
    uses (central's stored versions, a central not yet upgraded), whose 是 meant every use."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogError([Problem(filename, 0, "", "the file is empty")]) from None
    except csv.Error as e:
        raise CatalogError([Problem(filename, 1, "", f"not CSV: {e}")]) from None
    keys: list[str | None] = []
    for name in header:
        key = _HEADER_KEYS.get(normalise_token(name))
        if key is None and normalise_token(name):
            problems.append(Problem(filename, 1, normalise_token(name), "unknown column"))
        if key is not None and key in keys:
            problems.append(Problem(filename, 1, _ZH_HEADER[key], "column appears twice"))
        keys.append(key)
    for zh, key in COLUMNS:
        if key in REQUIRED and key not in keys:
            problems.append(Problem(filename, 1, zh, "required column is missing"))
    if problems:
        raise CatalogError(problems)

    rows: list[FeeRow] = []
    bands: dict[str, list[tuple[tuple[str, str, str], int]]] = {}  # number -> (band, line) in order
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(keys):
                problems.append(Problem(filename, line, "", f"{len(cells)} cells, header has {len(keys)}"))
                continue
            by_key = {k: v for k, v in zip(keys, cells) if k}
            try:
                row = _row_from_cells(by_key, before_uses)
            except _CellError as e:
                problems.append(Problem(filename, line, _ZH_HEADER.get(e.key, e.key), str(e)))
            else:
                # A band is told apart from its number's other bands by service, spec and class;
                # two rows alike in all three would be two prices for one choice.
                band = (row.service, row.spec_zh, row.accuracy_class)
                earlier = bands.setdefault(row.code, [])
                twin = next((at for b, at in earlier if b == band), None)
                if twin is not None:
                    problems.append(Problem(
                        filename, line, _ZH_HEADER["code"],
                        f"{row.code} already on line {twin} with the same service, spec and class",
                    ))
                else:
                    earlier.append((band, line))
                    if len(earlier) > 1:
                        row = replace(row, code=f"{row.code}{BAND_MARK}{len(earlier)}")
                    rows.append(row)
            if len(problems) >= max_problems:
                break
    except csv.Error as e:
        problems.append(Problem(filename, reader.line_num, "", f"not CSV: {e}"))
    if not rows and not problems:
        problems.append(Problem(filename, 0, "", "no fee rows in the file"))
    if problems:
        raise CatalogError(problems)
    return _fill_english(rows)


def _fill_english(rows: list[FeeRow]) -> list[FeeRow]:
    """A row without an English name takes its instrument's from another row, else the Chinese
    name, so English screens show the instrument as published (`untranslated` lists them)."""
    english: dict[str, str] = {}
    for row in rows:
        if row.name_en:
            english.setdefault(row.name_zh, row.name_en)
    return [row if row.name_en else replace(row, name_en=english.get(row.name_zh, row.name_zh)) for row in rows]


def untranslated(rows) -> list[str]:
    """Instruments shown by their Chinese name in English (the table gave no English name)."""
    return list(dict.fromkeys(row.name_zh for row in rows if row.name_en == row.name_zh))


def _cell(row: FeeRow, key: str) -> str:
    value = {
        "price": row.price_fen,
        "min": row.min_fen,
        "per_point": row.per_point_fen,
        "per_range": row.per_range_fen,
        "per_metre": row.per_metre_fen,
    }.get(key, getattr(row, key, None))
    if key == "code":
        return row.standard
    if key in ("price", "min", "per_point", "per_range", "per_metre"):
        return "面议" if value is None and key == "price" else ("" if value is None else fen_to_yuan(value))
    if key == "service":
        return SERVICE_NAMES[row.service][0]
    if key == "aliases":
        return "、".join(row.aliases)
    if key == "compulsory":
        return "、".join(word for word, use in USE_WORDS.items() if use in row.compulsory_uses) or "否"
    if key == "urgent_allowed":
        return "是" if value else "否"
    if key in ("points_included", "ranges_included", "metres_included") and not value:
        return ""
    return "" if value is None else str(value)


def to_csv(rows: list[FeeRow]) -> str:
    """The inverse of parse_csv: parse_csv(to_csv(rows)) == rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([zh for zh, _ in COLUMNS])
    for row in rows:
        writer.writerow([_cell(row, key) for _, key in COLUMNS])
    return out.getvalue()


__all__ = [
    "COMPULSORY_USES",
    "FIELDS",
    "SERVICES",
    "UNITS",
    "USES",
    "CatalogError",
    "FeeRow",
    "Problem",
    "decode_csv_bytes",
    "fee_number",
    "fen_to_yuan",
    "normalise_text",
    "normalise_token",
    "parse_csv",
    "to_csv",
    "untranslated",
    "yuan_to_fen",
]
