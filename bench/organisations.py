"""Organisation names completed per keystroke (kiosk/store/organisations.py matching) with 50,000
names in the kiosk's own SQLite table, as the customer screen asks on every key press once two
characters are typed (in the station's database thread, not the UI's).

The names are made deterministically from a province's places, trades, numbers and legal forms
(贵阳市第12燃气有限公司 ...), 5,000 of them registered here once or more. Every prefix (from two
characters) of ~20 typed texts is replayed: names' starts (a range of the key's b-tree), words in
the middle (a scan of the keys), Latin letters, full width, and misses (the whole scan, nothing
found). The floor is the least conceivable work for a keystroke that may need a containment: a
list comprehension testing the typed key against the 50,000 keys in memory, on the same keystrokes.

    python -m bench.organisations
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Figure, median, percentile

NAMES = 50_000
REGISTERED = 5_000
REPEATS = 5
PLACES = ["贵州", "贵阳市", "遵义市", "六盘水市", "安顺市", "毕节市", "铜仁市", "黔东南州", "黔南州", "黔西南州",
          "凯里市", "都匀市", "兴义市", "仁怀市", "清镇市", "赤水市", "福泉市", "盘州市", "观山湖区", "花溪区"]
TRADES = ["燃气", "电力", "水务", "化工", "制药", "机械", "建材", "食品", "酿酒", "仪表", "钢铁", "铝业", "煤矿",
          "交通", "建设", "检测", "环保", "医疗", "电子", "物流", "茶叶", "矿业", "能源", "通信", "科技"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "厂", "研究院", "中心", "医院", "监测站",
         "质检所"]
TYPED = ["贵阳市燃气", "遵义市第3", "六盘水", "观山湖区科技", "第1燃气", "有限责任", "研究院", "质检所",
         "仪表厂", "ＡＢＣ仪表", "abc", "黔东南州第42酿酒", "花溪区茶叶", "钢铁股份", "没有这个单位", "zzzz",
         "铜仁市 矿业", "第499", "都匀市第7医疗医院", "监测"]


def names() -> list[str]:
    made = [f"{place}{'第' + str(n) if n else ''}{trade}{form}"
            for n in range(NAMES // (len(PLACES) * len(TRADES) * len(FORMS)) + 1)
            for place in PLACES for trade in TRADES for form in FORMS]
    return made[:NAMES - 100] + [f"ABC仪表{n}有限公司" for n in range(100)]


def keystrokes() -> list[str]:
    return [text[:i] for text in TYPED for i in range(2, len(text) + 1)]


def run() -> list[Figure]:
    from db.connection import open_database
    from kiosk.domain.organisations import search_key
    from kiosk.store.organisations import learn, matching, remember

    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    all_names = names()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.sqlite3")
        try:
            with db.atomic():
                learn(all_names, t0)
                for i, name in enumerate(all_names[::NAMES // REGISTERED]):
                    for _ in range(1 + i % 3):
                        remember(name, "联系人", t0 + timedelta(minutes=i))
            keys = [search_key(name) for name in all_names]
            typed = keystrokes()
            ours, floor, misses = [], [], []
            clock = time.perf_counter_ns
            for _ in range(REPEATS):
                for text in typed:
                    a = clock()
                    found = matching(text)
                    b = clock()
                    key = search_key(text)
                    [k for k in keys if key in k]
                    c = clock()
                    ours.append((b - a) / 1e6)
                    floor.append((c - b) / 1e6)
                    if not found:
                        misses.append(ours[-1])
        finally:
            db.close()
    p99, floor_p99 = percentile(ours, 99), percentile(floor, 99)
    where = f"{NAMES} names, {len(ours)} keystrokes"
    return [
        Figure(f"organisation names median per keystroke ({where})", median(ours), "ms",
               "keys list comprehension median", median(floor), "median <= 2 ms", median(ours) <= 2.0),
        Figure(f"organisation names p99 per keystroke ({where})", p99, "ms", "keys list comprehension p99",
               floor_p99, "p99 <= 10 ms", p99 <= 10.0),
        Figure(f"organisation names median of a miss, every key read ({len(misses)} keystrokes)",
               median(misses), "ms", "keys list comprehension median", median(floor), "median <= 10 ms",
               median(misses) <= 10.0),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
