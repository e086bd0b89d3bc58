"""Catalogue search benchmark: time per keystroke on a 10,000-row catalogue.

The catalogue is the demo catalogue (or, without it, a built-in list of ~30 instruments) varied
with qualifiers (数显 / 便携式 … × 工业 / 实验室 …) into 10,000 rows: several thousand distinct
instrument names with several spec/class/service rows each, as a big provincial table has.
Every prefix of ~40 real queries (hanzi, initials, full pinyin, English, codes, full-width, and
misses) is replayed as keystrokes. The floor is the least conceivable work for a keystroke: a
list comprehension testing the typed text against the 10,000 names, timed on the same keystrokes.

    python -m bench.search
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.common import Figure, median, percentile
from kiosk.domain.catalog import FeeRow, decode_csv_bytes, parse_csv
from kiosk.domain.search import SearchIndex  # does not import pypinyin; building an index does

ROWS = 10_000
REPEATS = 30  # replays of the whole keystroke list (~250 keystrokes), each keystroke timed
DEMO_CATALOG = Path(__file__).resolve().parent.parent / "db" / "seed" / "demo_catalog.csv"

# Used only when the demo catalogue is missing: (zh, en, aliases, field letter).
BUILT_IN = [
    ("压力表", "Pressure gauge", ("压力计", "弹簧管压力表"), "L"),
    ("精密压力表", "Precision pressure gauge", ("标准压力表",), "L"),
    ("数字压力计", "Digital pressure gauge", ("数显压力表",), "L"),
    ("压力变送器", "Pressure transmitter", ("变送器",), "L"),
    ("扭矩扳手", "Torque wrench", ("力矩扳手", "扭力扳手"), "L"),
    ("电子天平", "Electronic balance", ("天平", "分析天平"), "Z"),
    ("砝码", "Weight", ("标准砝码", "法码"), "Z"),
    ("电子计价秤", "Electronic price-computing scale", ("计价秤", "电子秤"), "Z"),
    ("电子汽车衡", "Electronic truck scale", ("汽车衡", "地磅"), "Z"),
    ("非自动衡器", "Non-automatic weighing instrument", ("台秤", "案秤"), "Z"),
    ("玻璃液体温度计", "Liquid-in-glass thermometer", ("玻璃温度计", "水银温度计"), "R"),
    ("双金属温度计", "Bimetallic thermometer", ("指针温度计",), "R"),
    ("工作用廉金属热电偶", "Base-metal thermocouple", ("热电偶", "K型热电偶"), "R"),
    ("数字温度计", "Digital thermometer", ("电子温度计", "测温仪"), "R"),
    ("汞柱式血压计", "Mercury sphygmomanometer", ("血压计", "水银血压计"), "Y"),
    ("无创自动测量血压计", "Automated non-invasive sphygmomanometer", ("电子血压计",), "Y"),
    ("心电图机", "Electrocardiograph", ("心电图仪", "ECG机"), "Y"),
    ("玻璃体温计", "Clinical glass thermometer", ("体温计", "体温表"), "Y"),
    ("电能表", "Electricity meter", ("电表", "电度表"), "D"),
    ("数字多用表", "Digital multimeter", ("万用表", "数字万用表"), "D"),
    ("绝缘电阻表", "Insulation resistance meter", ("兆欧表", "摇表"), "D"),
    ("钳形电流表", "Clamp meter", ("钳表",), "D"),
    ("游标卡尺", "Vernier caliper", ("卡尺", "数显卡尺"), "C"),
    ("千分尺", "Micrometer", ("外径千分尺", "螺旋测微器"), "C"),
    ("钢卷尺", "Steel tape measure", ("卷尺", "盒尺"), "C"),
    ("量块", "Gauge block", ("块规",), "C"),
    ("燃油加油机", "Fuel dispenser", ("加油机", "税控加油机"), "F"),
    ("水表", "Water meter", ("自来水表",), "F"),
    ("出租汽车计价器", "Taximeter", ("出租车计价器", "计价器"), "S"),
    ("声级计", "Sound level meter", ("噪声计", "分贝计"), "A"),
    ("照度计", "Illuminance meter", ("光照度计",), "G"),
    ("酸度计", "pH meter", ("pH计",), "H"),
]
FORMS = [("", ""), ("数显", "Digital"), ("指针式", "Dial"), ("便携式", "Portable"), ("台式", "Bench"),
         ("手持式", "Handheld"), ("智能", "Smart"), ("防爆", "Explosion-proof"), ("在线", "Online"),
         ("无线", "Wireless"), ("记录式", "Recording"), ("微型", "Miniature")]
GRADES = [("", ""), ("工业", "Industrial"), ("实验室", "Laboratory"), ("高精度", "High-accuracy"),
          ("标准", "Standard"), ("工作用", "Working"), ("医用", "Medical"), ("车载", "Vehicle")]

QUERIES = [
    "压力表", "压力", "精密压力表", "天平", "电子天平", "血压计", "温度计", "卡尺", "千分尺", "电能表",
    "加油机", "出租车计价器", "数显卡尺", "万用表", "热电偶",
    "ylb", "dztp", "xyj", "wdj", "jyj", "sxylb",
    "yalibiao", "tianping", "xueyaji", "youbiaokachi", "ya li biao", "wanyongbiao",
    "pressure gauge", "balance", "thermometer", "caliper", "taximeter", "sphygmomanometer",
    "L-001-002", "l001", "z-003", "C-010-004", "r0050",
    "ＹＬＢ", "Ｌ－００１－００２", "ｐｒｅｓｓｕｒｅ", "压力ｂｉａｏ", "qwerty",
]


def base_rows() -> list[FeeRow]:
    if DEMO_CATALOG.exists():
        return parse_csv(decode_csv_bytes(DEMO_CATALOG.read_bytes()), str(DEMO_CATALOG))
    rows = []
    for item, (zh, en, aliases, letter) in enumerate(BUILT_IN, 1):
        for sub, (service, spec) in enumerate([("verification", "0.5级"), ("verification", "1级"),
                                               ("calibration", ""), ("repair", "")], 1):
            rows.append(FeeRow(code=f"{letter}-{item:03d}-{sub:03d}", name_zh=zh, name_en=en,
                               service=service, unit="台", price_fen=1000 * sub, aliases=aliases,
                               spec_zh=spec))
    return rows


def catalogue(n: int = ROWS) -> list[FeeRow]:
    """n rows: the base catalogue once per qualifier pair, codes renumbered within each field.
    Deterministic: no randomness is needed, the order of qualifiers is fixed."""
    base = base_rows()
    items_per_field: dict[str, int] = {}
    for r in base:
        item = int(r.code.split("-")[1]) if r.code.count("-") == 2 else 1
        items_per_field[r.field] = max(items_per_field.get(r.field, 0), item)
    rows: list[FeeRow] = []
    for variant, ((form_zh, form_en), (grade_zh, grade_en)) in enumerate(
        (f, g) for g in GRADES for f in FORMS
    ):
        for r in base:
            if len(rows) == n:
                return rows
            parts = r.code.split("-")
            item = variant * items_per_field[r.field] + (int(parts[1]) if len(parts) == 3 else 1)
            sub = parts[2] if len(parts) == 3 else "001"
            rows.append(replace(
                r,
                code=f"{r.field}-{item:03d}-{sub}",
                name_zh=grade_zh + form_zh + r.name_zh,
                name_en=" ".join(w for w in (grade_en, form_en, r.name_en) if w),
            ))
    raise ValueError(f"only {len(rows)} rows can be made from {len(base)} base rows")


def keystrokes() -> list[str]:
    return [q[:i] for q in QUERIES for i in range(1, len(q) + 1)]


def import_ms() -> float:
    """`import pypinyin` in a fresh interpreter (the cost paid when the first index is built)."""
    code = "import time; t = time.perf_counter(); import pypinyin; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) * 1000 for _ in range(3)]
    return median(runs)


def run() -> list[Figure]:
    rows = catalogue()

    # Build: a fresh index (and so a fresh pinyin cache) each time. pypinyin is imported first,
    # so that its import (reported apart, by import_ms) is not counted in the first build.
    import pypinyin  # noqa: F401

    builds = []
    for _ in range(3):
        t = time.perf_counter_ns()
        index = SearchIndex(rows)
        builds.append((time.perf_counter_ns() - t) / 1e6)
    # Floor for the build: pinyin of every distinct text, nothing else.
    from pypinyin import Style, lazy_pinyin

    texts = {t for r in rows for t in (r.name_zh, *r.aliases)}
    t = time.perf_counter_ns()
    for text in texts:
        lazy_pinyin(text, style=Style.NORMAL)
        lazy_pinyin(text, style=Style.FIRST_LETTER)
    pinyin_ms = (time.perf_counter_ns() - t) / 1e6

    names = [r.name_zh for r in rows]
    keys = keystrokes()
    search, clock = index.search, time.perf_counter_ns
    ours: list[float] = []
    floor: list[float] = []
    first_ours: list[float] = []
    first_floor: list[float] = []
    for _ in range(REPEATS):
        for q in keys:
            t0 = clock()
            search(q)
            t1 = clock()
            [r for r in names if q in r]
            t2 = clock()
            ours.append((t1 - t0) / 1e6)
            floor.append((t2 - t1) / 1e6)
            if len(q) == 1:
                first_ours.append(ours[-1])
                first_floor.append(floor[-1])

    p99, first_p99 = percentile(ours, 99), percentile(first_ours, 99)
    build = median(builds)
    distinct = len({(r.name_zh, r.name_en, r.aliases) for r in rows})
    where = f"{len(rows)} rows, {distinct} distinct instruments"
    return [
        Figure(f"search p99 per keystroke ({where}, {len(ours)} keystrokes)", p99, "ms",
               "names list comprehension p99", percentile(floor, 99), "p99 <= 2 ms", p99 <= 2.0),
        Figure(f"search p99 on the first keystroke ({len(first_ours)} keystrokes)", first_p99, "ms",
               "names list comprehension p99", percentile(first_floor, 99), "p99 <= 2 ms",
               first_p99 <= 2.0),
        Figure(f"index build ({where}), median of 3", build, "ms",
               "pinyin of every distinct text", pinyin_ms, "<= 1000 ms (once per catalogue version)",
               build <= 1000),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
    print(f"info import pypinyin (fresh interpreter, median of 3): {import_ms():.0f} ms")
