"""A customer's instrument list read from a spreadsheet: an e-CQS ledger export (the national
compulsory-instrument ledger: 器具名称, 型号规格, 测量范围, 准确度等级, 出厂编号, 生产厂家, 使用地点,
器具用途, 送检方式) or the institute's own template (`template_csv`, `template_xlsx`: the same
columns, zh and en in each header, plus 数量, 服务类别 and 收费标准号), as CSV (UTF-8 with or
without a BOM, GB18030, UTF-16 from Excel's "Unicode text") or XLSX.

Pure: bytes in, rows and problems out; no database, no wording (each problem is a message key of
kiosk/i18n/messages/ledger.py with its values; kiosk/i18n/ledger_text.py words it in zh or en).

How a file is read:
- the header is the first of the first `HEADER_ROWS` rows that names 器具名称 and one more known
  column; columns in any order, unknown ones (序号, 备注, 检定日期...) ignored; a header cell may
  carry both languages ("器具名称 Instrument") and a * marking it required;
- every row after it is one instrument (or `数量` of them); blank rows are skipped; at most
  `MAX_ROWS` rows are read, the rest are named in one problem;
- each cell is cleaned as the kiosk cleans what a customer types (kiosk/domain/validation.py:
  full-width letters and digits folded, whitespace collapsed, no control characters or emoji);
- the name is found in the fee schedule as the kiosk's search box finds it (kiosk/domain/search.py:
  a name or alias that equals it, else the one instrument whose keys start with or contain it, else
  the one whose name the ledger's name contains), then the row of that instrument by service, by
  accuracy class, by measuring range (the upper end of the range in the row's band: `in_band`), by
  the words that name a variant (真空表) and else the row with no such words; a 收费标准号 column
  decides alone. What is left unmatched or ambiguous is a problem naming the row and what to write;
- 器具用途 is one of the kiosk's uses (贸易结算, 安全防护, 医疗卫生, 环境监测, else 其他).

A bad row is reported and left out; the good rows are kept. Limits against a hostile upload:
`MAX_BYTES`, `MAX_ROWS`, `MAX_COLUMNS`; an XLSX is a zip, refused when it unpacks to more than
`XLSX_MAX_UNPACKED` bytes or `XLSX_MAX_MEMBERS` parts, or holds a DTD (entity expansion), before
openpyxl (read-only, cached values only: formulas are never evaluated) reads it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from kiosk.domain.catalog import SERVICE_NAMES, SERVICE_WORDS, SERVICES, FeeRow
from kiosk.domain.fees import MAX_QUANTITY
from kiosk.domain.search import SearchIndex, normalise_query, row_texts, search_keys
from kiosk.domain.validation import FieldError, clean_quantity, clean_text
from kiosk.domain.vocabulary import USE_WORDS, USES, normalise_token

MAX_BYTES = 1024 * 1024  # an upload: an e-CQS export of 500 instruments is ~60 KB as XLSX, ~90 KB as CSV
MAX_ROWS = 500  # instruments read from one file
MAX_COLUMNS = 40
HEADER_ROWS = 10  # the header is looked for in these first rows (a title row or two above it)
MAX_BLANK_RUN = 200  # so many blank rows in a row end the table (a sheet formatted to row 1048576)
SCANNED_ROWS = HEADER_ROWS + 4 * MAX_ROWS  # rows of a file looked at, blank ones included
XLSX_MAX_UNPACKED = 20 * 1024 * 1024
XLSX_MAX_MEMBERS = 100
# The lengths a prepared registration carries (kiosk/domain/prepared.py) and the kiosk takes.
MAX_NAME = 60
MAX_CELL = 60
MAX_ACCURACY = 30
MAX_REMEMBERED = 20_000  # ledger names whose instruments a Matcher remembers


# ---- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    zh: str  # as the e-CQS export (or the template) heads it
    en: str
    aliases: tuple[str, ...] = ()  # other headings seen for it, either language

    @property
    def heading(self) -> str:
        """The template's header cell: both languages."""
        return f"{self.zh} {self.en}"


COLUMNS: tuple[Column, ...] = (
    Column("name", "器具名称", "Instrument", ("计量器具名称", "器具名", "仪器名称", "名称", "instrument name", "name")),
    Column("model", "型号规格", "Model / spec", ("规格型号", "型号", "规格", "model", "spec", "model/spec")),
    Column("range", "测量范围", "Range", ("量程", "测量范围/量程", "measuring range")),
    Column("accuracy", "准确度等级", "Accuracy class",
           ("准确度", "精度等级", "准确度级别", "等级", "accuracy", "class")),
    Column("serial", "出厂编号", "Serial number", ("器具编号", "出厂号", "编号", "serial", "serial no", "serial no.")),
    Column("manufacturer", "生产厂家", "Manufacturer", ("制造厂", "制造单位", "生产厂商", "制造商", "生产厂")),
    Column("location", "使用地点", "Location", ("安装地点", "使用位置", "使用场所")),
    Column("use", "器具用途", "Use", ("用途", "使用用途", "purpose")),
    Column("delivery", "送检方式", "Delivery", ("检定方式", "送检形式")),
    Column("quantity", "数量", "Quantity", ("台数", "件数", "qty")),
    Column("service", "服务类别", "Service", ("服务", "服务项目", "检定/校准")),
    Column("code", "收费标准号", "Fee no.", ("fee no", "fee number", "fee-standard number")),
)
COLUMN_OF = {c.key: c for c in COLUMNS}
ECQS_KEYS = ("name", "model", "range", "accuracy", "serial", "manufacturer", "location", "use", "delivery")
TEXT_KEYS = ("model", "range", "accuracy", "serial", "manufacturer", "location", "delivery")
_HEADER_JUNK = re.compile(r"[\s*＊:：()（）\[\]【】]+")
_HANZI_HEAD = re.compile(r"^[\u3400-\u9fff/、]+")


_REMARK = re.compile(r"\([^)]*\)")  # 出厂编号(必填)


def _fold_heading(text: str) -> str:
    return _HEADER_JUNK.sub("", _REMARK.sub("", unicodedata.normalize("NFKC", text).casefold()))


_HEADINGS: dict[str, str] = {}
for _column in COLUMNS:
    for _word in (_column.zh, _column.en, _column.key, *_column.aliases):
        _HEADINGS.setdefault(_fold_heading(_word), _column.key)
del _column, _word


def column_key(cell: str) -> str | None:
    """Which column a header cell names: "器具名称", "*器具名称 Instrument", "Serial number"..."""
    folded = _fold_heading(cell)
    if not folded:
        return None
    if folded in _HEADINGS:
        return _HEADINGS[folded]
    head = _HANZI_HEAD.match(folded)  # "器具名称instrument": the Chinese part decides
    return _HEADINGS.get(head.group(0)) if head else None


# ---- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerProblem:
    """What is wrong, where: `line` the spreadsheet's row number (0: the file), `column` the key
    of a COLUMNS entry ("" none), `key` a message of kiosk/i18n/messages/ledger.py (or a
    validation error's), `values` its placeholders; a (zh, en) pair is worded per language."""

    line: int
    column: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerLine:
    """One instrument (or `quantity` alike) of the file, with its fee row found."""

    line: int
    row: FeeRow
    name: str  # as the file names it
    quantity: int
    service: str
    use: str
    model: str = ""
    range: str = ""
    accuracy: str = ""
    serial: str = ""
    manufacturer: str = ""
    location: str = ""
    delivery: str = ""

    @property
    def on_site(self) -> bool:
        """送检方式 says the institute verifies it where it stands (现场检定), not at the counter."""
        return "现场" in self.delivery or "on site" in self.delivery.casefold()


@dataclass(frozen=True)
class Ledger:
    lines: tuple[LedgerLine, ...]
    problems: tuple[LedgerProblem, ...]
    columns: tuple[str, ...] = ()  # the keys of the columns read, in the file's order
    header_line: int = 0
    rows_read: int = 0  # non-blank rows after the header (good and bad)

    @property
    def ok(self) -> bool:
        return not self.problems


class LedgerFileError(ValueError):
    """The file as a whole cannot be read (too big, not a spreadsheet, no header)."""

    def __init__(self, key: str, values: Mapping[str, object] | None = None):
        super().__init__(key)
        self.key = key
        self.values = dict(values or {})


# ---- matching a row to the fee schedule ---------------------------------------------------------

_USE_HINTS = (("贸易", "trade"), ("结算", "trade"), ("安全", "safety"), ("防护", "safety"), ("医疗", "medical"),
              ("卫生", "medical"), ("环境", "environment"), ("环保", "environment"), ("监测", "environment"))
_OTHER_USES = {"", "其他", "其它", "非强检", "非强制", "内部使用", "自用", "无", "/", "-", "—", "other"}


def parse_use(text: str) -> str | None:
    """器具用途 as one of USES: the catalogue's words (贸易结算...), their parts (贸易, 安全...),
    the English keys, or other; None: not a use this knows."""
    word = normalise_token(text).casefold().replace(" ", "")
    if word in USES:
        return word
    if word in USE_WORDS:
        return USE_WORDS[word]
    if word in _OTHER_USES:
        return "other"
    found = {use for hint, use in _USE_HINTS if hint in word}
    if len(found) == 1:
        return found.pop()
    return None


def parse_service(text: str) -> str | None:
    word = normalise_token(text).casefold()
    if word in SERVICES:
        return word
    return SERVICE_WORDS.get(word)


def _fold_class(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    for junk in ("准确度", "等级", "级", "等", "class", "cl.", "±", "%", " "):
        text = text.replace(junk, "")
    return text


_CLASS_SPLIT = re.compile(r"[、,，;；/和及]+")


def class_matches(row: FeeRow, accuracy: str) -> bool | None:
    """The ledger's class is one of the row's (1.6 in 1.6级、2.5级); None: nothing to compare."""
    wanted = _fold_class(accuracy)
    if not wanted or not row.accuracy_class:
        return None
    return wanted in {c for c in (_fold_class(part) for part in _CLASS_SPLIT.split(row.accuracy_class)) if c}


# Units of the bands fee tables print, to a base unit of their dimension.
_UNITS: dict[str, tuple[str, float]] = {
    "pa": ("pa", 1), "kpa": ("pa", 1e3), "mpa": ("pa", 1e6), "gpa": ("pa", 1e9), "bar": ("pa", 1e5),
    "μg": ("g", 1e-6), "ug": ("g", 1e-6), "mg": ("g", 1e-3), "g": ("g", 1), "kg": ("g", 1e3), "t": ("g", 1e6),
    "μm": ("m", 1e-6), "um": ("m", 1e-6), "nm": ("m", 1e-9), "mm": ("m", 1e-3), "cm": ("m", 1e-2), "m": ("m", 1),
    "km": ("m", 1e3), "n": ("n", 1), "kn": ("n", 1e3), "mn": ("n", 1e6), "n·m": ("nm", 1), "n.m": ("nm", 1),
    "°c": ("c", 1), "℃": ("c", 1), "ml": ("l", 1e-3), "l": ("l", 1), "m3": ("l", 1e3), "m³": ("l", 1e3),
    "v": ("v", 1), "mv": ("v", 1e-3), "kv": ("v", 1e3), "a": ("a", 1), "ma": ("a", 1e-3), "ka": ("a", 1e3),
    "ω": ("ohm", 1), "kω": ("ohm", 1e3), "mω": ("ohm", 1e6), "hz": ("hz", 1), "khz": ("hz", 1e3),
    "mhz": ("hz", 1e6), "w": ("w", 1), "kw": ("w", 1e3), "lx": ("lx", 1), "db": ("db", 1),
}
_NUM = r"-?\d+(?:\.\d+)?"
_UNIT = r"(?:n·m|n\.m|°c|℃|m³|m3|[a-zμω]{1,3})"
_RANGE = re.compile(rf"[(\[]?\s*({_NUM})\s*({_UNIT})?\s*(?:~|至|到|-(?=\s*-?\d))\s*({_NUM})\s*([)\]])?\s*({_UNIT})")
_BOUND = re.compile(rf"(≤|<=|<|≥|>=|>|max|最大)?\s*({_NUM})\s*({_UNIT})(?![a-z])")
# Sizes named by a letter before the number: water meters DN15~DN25, gas meters G1.6~G4.
_SIZE_RANGE = re.compile(r"(?<![a-z])(dn|g)\s*(\d+(?:\.\d+)?)\s*(?:~|-|至|到)\s*\1?\s*(\d+(?:\.\d+)?)")
_SIZE = re.compile(r"(?<![a-z])(dn|g)\s*(\d+(?:\.\d+)?)")


# Sizes named by a letter before the number: water meters DN15~DN25, gas meters G1.6~G4.
_SIZE_RANGE = re.compile(r"(?<![a-z])(dn|g)\s*(\d+(?:\.\d+)?)\s*(?:~|-|至|到)\s*\1?\s*(\d+(?:\.\d+)?)")
_SIZE = re.compile(r"(?<![a-z])(dn|g)\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Band:
    low: float  # exclusive unless low_closed
    high: float  # inclusive
    dimension: str
    low_closed: bool = False

    def holds(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        return above and value <= self.high


def _unit(text: str | None) -> tuple[str, float] | None:
    return _UNITS.get((text or "").strip()) if text else None


def _fold_spec(text: str) -> str:
    return (unicodedata.normalize("NFKC", text).casefold().replace("～", "~").replace("−", "-").replace("—", "-")
            .replace("〜", "~"))


def _band_match(text: str) -> tuple[Band, re.Match] | None:
    """The first range a folded spec prints, and where."""
    if m := _SIZE_RANGE.search(text):
        return Band(float(m.group(2)), float(m.group(3)), m.group(1), low_closed=True), m
    if m := _RANGE.search(text):
        high_unit = _unit(m.group(5))
        low_unit = _unit(m.group(2)) or high_unit
        if high_unit and low_unit and low_unit[0] == high_unit[0]:
            low, high = float(m.group(1)) * low_unit[1], float(m.group(3)) * high_unit[1]
            return Band(low, high, high_unit[0], low_closed=low <= 0), m
    if m := _BOUND.search(text):
        unit = _unit(m.group(3))
        if unit:
            value = float(m.group(2)) * unit[1]
            if m.group(1) in (">", "≥", ">="):
                return Band(value, float("inf"), unit[0], low_closed=m.group(1) != ">"), m
            return Band(float("-inf"), value, unit[0]), m
    return None


def band_of(spec: str) -> Band | None:
    """The first range a row's spec prints: (0~6)MPa, (1~10]kg, ≤220g, >220g, E2等级 (1mg~100g), DN15~DN25."""
    found = _band_match(_fold_spec(spec))
    return found[0] if found else None


def measure_of(text: str) -> tuple[float, str] | None:
    """The value a ledger's range or model is compared by: its upper end (0~1.6MPa -> 1.6 MPa,
    30kg -> 30 kg, DN20 -> DN 20), in the base unit."""
    folded = _fold_spec(text)
    if m := _SIZE.search(folded):
        return float(m.group(2)), m.group(1)
    if m := _RANGE.search(folded):
        unit = _unit(m.group(5))
        if unit:
            return float(m.group(3)) * unit[1], unit[0]
    if m := _BOUND.search(folded):
        unit = _unit(m.group(3))
        if unit:
            return float(m.group(2)) * unit[1], unit[0]
    return None


def in_band(row: FeeRow, measure: tuple[float, str] | None) -> bool | None:
    """The ledger's range falls in the row's band; None: one of them has no comparable range."""
    band = band_of(row.spec_zh)
    if measure is None or band is None or band.dimension != measure[1]:
        return None
    return band.holds(measure[0])


# What a spec prints about how it is priced, not which variant of the instrument it is.
_GENERIC = re.compile(r"最大秤量|最大试验力|测量范围|分度值|含\d*个?|检定点|校准点|测量点|温湿度点|温度点|量程|等级|"
                      r"单个|砝码组|每套不超过|行程|基本量限|标尺|及以下|及以上|以上|以下|超过|按每米加收|加收|每|个|套|台|点|级|"
                      r"[a-z0-9.~()\[\]≤≥<>±%°·/、,，;；\s]")
_TOKENS = re.compile(r"[\s、,，;；/()（）\[\]〔〕]+")


def variant_words(row: FeeRow) -> tuple[str, ...]:
    """The words of a row's spec that name a variant (真空表, 禁油压力表, 电子台秤, 单相, 3位半, 首次检定),
    in search form; none: a plain band."""
    text = _fold_spec(row.spec_zh)
    found = _band_match(text)
    if found:
        text = text[: found[1].start()] + " " + text[found[1].end():]
    return tuple(dict.fromkeys(normalise_query(token) for token in _TOKENS.split(text)
                               if _GENERIC.sub("", token)))


def _pricing(row: FeeRow) -> tuple:
    return (row.price_fen, row.min_fen, row.per_point_fen, row.points_included, row.per_range_fen,
            row.ranges_included, row.per_metre_fen, row.metres_included, row.ac_dc_percent, row.compulsory_uses,
            row.turnaround_days, row.urgent_allowed, row.unit)


def _pair(zh: str, en: str) -> tuple[str, str]:
    return (zh, en)


def _choices(rows: Sequence[FeeRow], limit: int = 5) -> tuple[str, str]:
    def one(row: FeeRow, lang: int) -> str:
        spec = row.spec_zh if lang == 0 else (row.spec_en or row.spec_zh)
        parts = [row.standard, spec, row.accuracy_class]
        return " ".join(p for p in parts if p)

    shown = rows[:limit]
    more = len(rows) - len(shown)
    zh = "；".join(one(r, 0) for r in shown) + (f"；等{len(rows)}档" if more else "")
    en = "; ".join(one(r, 1) for r in shown) + (f"; {more} more" if more else "")
    return _pair(zh, en)


class Matcher:
    """Finds the fee row of a ledger's instrument. Built once per catalogue version; `index` is the
    kiosk's search over the same rows (one is built when not given)."""

    def __init__(self, rows: Sequence[FeeRow], index: SearchIndex | None = None):
        self.rows = tuple(rows)
        self.index = index or SearchIndex(self.rows)
        self.by_code = {row.code: row for row in self.rows}
        for row in self.rows:  # the published number finds its first band (C001 -> C001)
            self.by_code.setdefault(row.standard, row)
        self.by_name: dict[str, list[FeeRow]] = {}
        for row in self.rows:
            self.by_name.setdefault(row.name_zh, []).append(row)
        # Names and aliases in search form, for a ledger name that contains one ("一般压力表(耐震)").
        self._named: dict[str, list[str]] = {}
        for row in self.rows:
            for text in row_texts(row):
                owners = self._named.setdefault(normalise_query(text), [])
                if row.name_zh not in owners:
                    owners.append(row.name_zh)
        self._names: dict[str, tuple[str, ...]] = {}
        self._text_keys: dict[str, tuple[str, ...]] = {}

    def _keys(self, text: str) -> tuple[str, ...]:
        """A name's keys as the search has them (the text, its pinyin and initials)."""
        if text not in self._text_keys:
            self._text_keys[text] = search_keys(text)
        return self._text_keys[text]

    def instruments(self, name: str) -> tuple[str, ...]:
        """The instruments (name_zh) a ledger's name may mean, best first; one is a match."""
        q = normalise_query(name)
        if q in self._names:
            return self._names[q]
        hits = self.index.search(name, limit=200)
        found = list(dict.fromkeys(row.name_zh for row in hits))
        exact = [n for n in found if any(q in self._keys(text) for row in self.by_name[n] for text in row_texts(row))]
        result = exact or found
        if not result:  # the longest names the ledger's name contains: at most ~1800 look-ups for 60 characters
            for size in range(min(len(q), MAX_NAME), 1, -1):
                result = list(dict.fromkeys(name for start in range(len(q) - size + 1)
                                            for name in self._named.get(q[start:start + size], ())))
                if result:
                    break
        if len(self._names) >= MAX_REMEMBERED:  # names from uploads: a bounded memory
            self._names.clear()
        self._names[q] = tuple(result)
        return self._names[q]

    def row_for(self, cells: Mapping[str, str], service: str, line: int) -> FeeRow | LedgerProblem:
        """The fee row of one ledger row, or the problem that stops it."""
        name = cells["name"]
        code = cells.get("code", "")
        if code:
            row = self.by_code.get(normalise_token(code).upper())
            if row is None:
                return LedgerProblem(line, "code", "ledger.code.unknown", {"code": code})
            return row
        names = self.instruments(name)
        if not names:
            return LedgerProblem(line, "name", "ledger.name.unknown", {"name": name})
        if len(names) > 1:
            shown = names[:6]
            en = [self.by_name[n][0].name_en for n in shown]
            return LedgerProblem(line, "name", "ledger.name.ambiguous",
                                 {"name": name, "choices": _pair("、".join(shown), "; ".join(en))})
        rows = self.by_name[names[0]]
        offered = [r for r in rows if r.service == service]
        if not offered:
            services = list(dict.fromkeys(r.service for r in rows))
            return LedgerProblem(line, "service", "ledger.service.none", {
                "name": _pair(rows[0].name_zh, rows[0].name_en),
                "service": _pair(*SERVICE_NAMES[service]),
                "services": _pair("、".join(SERVICE_NAMES[s][0] for s in services),
                                  ", ".join(SERVICE_NAMES[s][1] for s in services))})
        chosen = self.narrow(offered, cells)
        if len(chosen) == 1 or len({_pricing(r) for r in chosen}) == 1:
            return chosen[0]
        return LedgerProblem(line, "accuracy" if cells.get("accuracy") else "range", "ledger.band.ambiguous",
                             {"name": _pair(rows[0].name_zh, rows[0].name_en), "choices": _choices(chosen)})

    @staticmethod
    def narrow(rows: list[FeeRow], cells: Mapping[str, str]) -> list[FeeRow]:
        """The rows of one instrument and service that fit the ledger's class, range and words."""
        if len(rows) == 1:
            return rows
        accuracy = cells.get("accuracy", "")
        fit = [r for r in rows if class_matches(r, accuracy) is True]
        if fit:
            rows = fit
        measure = measure_of(cells.get("range", "")) or measure_of(cells.get("model", ""))
        fit = [r for r in rows if in_band(r, measure) is True]
        if fit:
            rows = fit
        if len(rows) > 1:  # the variant the ledger's words name (真空表), else the plain bands
            said = normalise_query(" ".join(cells.get(key, "") for key in ("name", "model", "range", "accuracy")))
            score = {r.code: sum(len(word) for word in variant_words(r) if word in said) for r in rows}
            best = max(score.values())
            if best:
                rows = [r for r in rows if score[r.code] == best]
            else:
                rows = [r for r in rows if not variant_words(r)] or rows
        if len(rows) > 1 and fit:  # the narrowest band that holds it: (0~150)mm before (0~300)mm
            bands = {r.code: band_of(r.spec_zh) for r in rows}
            narrowest = min((b.high, -b.low) for b in bands.values() if b)
            rows = [r for r in rows if (b := bands[r.code]) and (b.high, -b.low) == narrowest]
        return rows


# ---- rows ---------------------------------------------------------------------------------------


def _clean(cells: Mapping[str, str], key: str, line: int, problems: list[LedgerProblem], *, required: bool = False,
           max_length: int = MAX_CELL) -> str:
    try:
        return clean_text(cells.get(key, ""), required=required, max_length=max_length)
    except FieldError as e:
        problems.append(LedgerProblem(line, key, e.key, e.values))
        return ""


def read_row(cells: Mapping[str, str], line: int, matcher: Matcher) -> LedgerLine | list[LedgerProblem]:
    """One row (column key -> cell text) as an instrument, or every problem it has."""
    problems: list[LedgerProblem] = []
    name = _clean(cells, "name", line, problems, required=True, max_length=MAX_NAME)
    texts = {key: _clean(cells, key, line, problems, max_length=MAX_ACCURACY if key == "accuracy" else MAX_CELL)
             for key in TEXT_KEYS}
    quantity = 1
    if normalise_token(cells.get("quantity", "")):
        try:
            quantity = clean_quantity(cells["quantity"], MAX_QUANTITY)
        except FieldError as e:
            problems.append(LedgerProblem(line, "quantity", e.key, e.values))
    service = "verification"  # a compulsory-instrument ledger is a list to verify
    if normalise_token(cells.get("service", "")):
        service = parse_service(cells["service"]) or ""
        if not service:
            problems.append(LedgerProblem(line, "service", "ledger.service.unknown", {"text": cells["service"][:20]}))
    use = parse_use(cells.get("use", ""))
    if use is None:
        problems.append(LedgerProblem(line, "use", "ledger.use.unknown", {"text": cells["use"][:20]}))
    code = normalise_token(cells.get("code", ""))[:20]
    if problems:
        return problems
    assert use is not None
    found = matcher.row_for({**texts, "name": name, "code": code}, service, line)
    if isinstance(found, LedgerProblem):
        return [found]
    if code and found.service != service and normalise_token(cells.get("service", "")):
        return [LedgerProblem(line, "service", "ledger.code.service", {
            "code": found.code, "service": _pair(*SERVICE_NAMES[found.service])})]
    return LedgerLine(line=line, row=found, name=name, quantity=quantity, service=found.service, use=use, **texts)


def find_header(rows: Sequence[Sequence[str]]) -> tuple[int, list[str | None]] | None:
    """(index, column key per cell) of the first row naming 器具名称 and another known column."""
    for at, cells in enumerate(rows[:HEADER_ROWS]):
        keys = [column_key(cell) for cell in cells[:MAX_COLUMNS]]
        known = [k for k in keys if k]
        if "name" in known and len(set(known)) >= 2:
            return at, keys
    return None


def read_rows(rows: Iterable[Sequence[str]], matcher: Matcher) -> Ledger:
    """A sheet's rows (cells as text, the first being the spreadsheet's row 1) as a Ledger."""
    numbered = enumerate(rows, start=1)
    head: list[Sequence[str]] = []
    found = None
    for _, cells in numbered:
        head.append(cells)
        found = find_header(head[-1:])
        if found is not None or len(head) == HEADER_ROWS:
            break
    if found is None:
        if not any(any(c.strip() for c in cells) for cells in head):
            return Ledger((), (LedgerProblem(0, "", "ledger.file.empty"),))
        return Ledger((), (LedgerProblem(0, "", "ledger.file.no_header", {"rows": HEADER_ROWS}),))
    header_line, keys = len(head), found[1]
    problems: list[LedgerProblem] = []
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            problems.append(LedgerProblem(header_line, key, "ledger.file.column_twice"))
            keys[i] = None  # the first one counts
        elif key:
            seen.add(key)
    lines: list[LedgerLine] = []
    read = blank = 0
    for number, cells in numbered:
        if not any(cells[i].strip() for i, key in enumerate(keys) if key and i < len(cells)):  # 序号 alone: blank
            blank += 1
            if blank >= MAX_BLANK_RUN:
                break
            continue
        blank = 0
        if read >= MAX_ROWS:
            problems.append(LedgerProblem(number, "", "ledger.file.too_many_rows", {"max": MAX_ROWS}))
            break
        read += 1
        by_key = {key: cells[i] for i, key in enumerate(keys) if key and i < len(cells)}
        result = read_row(by_key, number, matcher)
        if isinstance(result, LedgerLine):
            lines.append(result)
        else:
            problems.extend(result)
    if read == 0 and not problems:
        problems.append(LedgerProblem(0, "", "ledger.file.no_rows"))
    return Ledger(tuple(lines), tuple(problems), tuple(k for k in keys if k), header_line, read)


# ---- files --------------------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel (and WPS's .et): not read


def decode_text(data: bytes) -> str:
    """A CSV's text: UTF-16 with its BOM (Excel's "Unicode text"), UTF-8 with or without a BOM, GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LedgerFileError("ledger.file.encoding") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerFileError("ledger.file.encoding")


def csv_rows(data: bytes) -> list[list[str]]:
    text = decode_text(data)
    if "\x00" in text:
        raise LedgerFileError("ledger.file.unreadable")
    sample = text[:4096]
    delimiter = max(("\t", ",", ";"), key=sample.count)  # Excel's "Unicode text" is tab-separated
    if not sample.count(delimiter):
        delimiter = ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row[:MAX_COLUMNS])
            if len(rows) > SCANNED_ROWS:
                break
    except csv.Error:
        raise LedgerFileError("ledger.file.unreadable") from None
    return rows


def cell_text(value: object) -> str:
    """An XLSX cell as the text a person sees in it: 20230156 not 20230156.0, a date as 2024-05-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_xlsx(data: bytes) -> None:
    """Refuse a zip that unpacks to too much (a zip bomb) or whose XML declares a DTD (entity expansion)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise LedgerFileError("ledger.file.unreadable") from None
    if len(members) > XLSX_MAX_MEMBERS or sum(m.file_size for m in members) > XLSX_MAX_UNPACKED:
        raise LedgerFileError("ledger.file.xlsx_too_big")
    try:
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                # zipfile stops at the declared size and checks the CRC, so the sum above holds.
                with archive.open(member) as part:
                    if b"<!DOCTYPE" in part.read(XLSX_MAX_UNPACKED + 1).upper().replace(b"<!ENTITY", b"<!DOCTYPE"):
                        raise LedgerFileError("ledger.file.unreadable")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise LedgerFileError("ledger.file.unreadable") from None


# What openpyxl raises on a malformed workbook: what its zip and XML parsers and its readers raise
# (ElementTree's ParseError is a SyntaxError).
OPENPYXL_ERRORS = (KeyError, IndexError, ValueError, TypeError, AttributeError, SyntaxError, OSError, EOFError,
                   zipfile.BadZipFile, NotImplementedError)


def xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet with a header's rows (at most the header's search plus MAX_ROWS and the
    blank runs), as text."""
    check_xlsx(data)
    import openpyxl  # type: ignore[import-untyped]  # ~0.2 s: only when an XLSX comes

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except OPENPYXL_ERRORS:
        raise LedgerFileError("ledger.file.unreadable") from None
    try:
        first: list[list[str]] | None = None
        for sheet in book.worksheets[:10]:
            rows: list[list[str]] = []
            blank = 0
            for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                cells = [cell_text(v) for v in values]
                blank = 0 if any(c.strip() for c in cells) else blank + 1
                rows.append(cells)
                if blank >= MAX_BLANK_RUN or len(rows) > SCANNED_ROWS:
                    break
                if len(rows) == HEADER_ROWS and find_header(rows) is None:
                    break
            if find_header(rows) is not None:
                return rows
            if first is None:
                first = rows
        return first or []
    except OPENPYXL_ERRORS:
        raise LedgerFileError("ledger.file.unreadable") from None
    finally:
        book.close()


def read_ledger(data: bytes, matcher: Matcher) -> Ledger:
    """An uploaded file (CSV or XLSX, told by its content, not its name) as a Ledger. A file that
    cannot be read at all is a Ledger with one problem at line 0."""
    try:
        if len(data) > MAX_BYTES:
            raise LedgerFileError("ledger.file.too_big", {"max_kb": MAX_BYTES // 1024})
        if not data.strip():
            raise LedgerFileError("ledger.file.empty")
        if data.startswith(XLS_MAGIC):
            raise LedgerFileError("ledger.file.xls")
        rows = xlsx_rows(data) if data.startswith(XLSX_MAGIC) else csv_rows(data)
    except LedgerFileError as e:
        return Ledger((), (LedgerProblem(0, "", e.key, e.values),))
    return read_rows(rows, matcher)


# ---- the institute's template -------------------------------------------------------------------

TEMPLATE_KEYS = ("name", "model", "range", "accuracy", "serial", "manufacturer", "location", "use", "delivery",
                 "quantity", "service", "code")
TEMPLATE_TITLE = "预约送检器具清单 Instruments for a prepared registration"
TEMPLATE_EXAMPLE = ("一般压力表", "Y-100", "(0~1.6)MPa", "1.6级", "23051234", "某某仪表厂", "锅炉房", "安全防护",
                    "送检", "1", "检定", "")


def template_rows(example: bool = True) -> list[list[str]]:
    """The template: a title row, the header (zh and en), an example row the customer overwrites."""
    rows = [[TEMPLATE_TITLE], [COLUMN_OF[key].heading for key in TEMPLATE_KEYS]]
    if example:
        rows.append(list(TEMPLATE_EXAMPLE))
    return rows


def template_csv(example: bool = True) -> bytes:
    """UTF-8 with a BOM: Excel opens it in Chinese without asking."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(template_rows(example))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(example: bool = True) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "器具清单"
    for cells in template_rows(example):
        sheet.append(cells)
    for i, key in enumerate(TEMPLATE_KEYS):
        letter = openpyxl.utils.get_column_letter(i + 1)
        sheet.column_dimensions[letter].width = 24 if key in ("name", "manufacturer", "range") else 16
        for row in range(3, 203):  # 出厂编号 and the others typed as text: 0012 keeps its zeros
            sheet[f"{letter}{row}"].number_format = "@"
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


__all__ = ["COLUMNS", "MAX_BYTES", "MAX_ROWS", "Ledger", "LedgerLine", "LedgerProblem", "Matcher", "read_ledger",
           "read_rows", "template_csv", "template_xlsx"]
