"""The on-screen keyboard's pinyin input method: candidates per key press, load time, memory.

Key presses: ~40 realistic compositions (organisation names, instruments, places and contacts' names, in
full pinyin, by initials and mixed) typed letter by letter, up to 20 letters each, every prefix timed,
on the packaged dictionary boosted with the demo catalogue and the demo province's places, as the kiosk
boosts it. Floor: `bisect` of the same composition in the dictionary's sorted keys, the least a lookup
by pinyin can cost in Python.

Load: `load_dictionary()` (it runs in a worker after the first frame), median of 3; floor: reading and
decompressing the packaged file, the part no format can skip.

Customers' words: 5,000 made-up organisation names (the most the kiosk reads) segmented into the
dictionary's words, counted and boosted, as screens/keyboard/dictionary.py does in the same worker.
The key presses ask for a person's field (person=True): the dictionary's words and the names.

Memory, each in a fresh interpreter: VmRSS after `import kiosk.ime` and `load_dictionary()` minus VmRSS
before; and what tracemalloc counts for the loaded dictionary. Floor for both: the decompressed file
held as one bytes object (the data itself, with no way to search it). MB is 10^6 bytes.

    python -m bench.ime
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from bisect import bisect_left
from pathlib import Path

from bench.common import Figure, median, percentile

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 20
MAX_LETTERS = 20
P99_GOAL_MS = 5.0
MEMORY_GOAL_MB = 15.0
LOAD_GOAL_MS = 500.0

COMPOSITIONS = [
    # organisation names: full pinyin, initials, mixed
    "guiyangshidiyirenminyiyuan", "gysdyrmyy", "guiyangsdyrenminyiyuan",
    "zunyigongdianjujiliangzhongxin", "zygdjjlzx", "guizhoushengjiliangceshiyuan", "gzsjlcsy",
    "liupanshuishizilaishuigongsi", "lpsszlsgs", "anshunshiranqiyouxiangongsi", "assrqyxgs",
    "qiandongnanzhourenminyiyuan", "qdnzrmyy", "bijieshidianliyouxiangongsi", "tongrenshijianyanjiancezhongxin",
    "guizhoudianzikejiyouxiangongsi", "gzdzkjyxgs", "jianshegongchengyouxianzerengongsi", "jsgcyxzrgs",
    "zhongguoshiyouhuagong", "zgsyhg", "kailishizhongyiyuan", "duyunshigongshuigongsi",
    # instruments
    "yalibiao", "ylb", "jingmiyalibiao", "dianzitianping", "dztp", "xueyaji", "xyj", "wenduji", "jiayouji",
    "shuibiao", "dianbiao", "youbiaokachi", "wanyongbiao", "redianou",
    # contacts' names and odd spellings
    "zhangwei", "wangfang", "liuxiaoming", "chenjing", "xi'an", "lvse", "nvshi",
]


def keystrokes() -> list[str]:
    return [c[:i] for c in COMPOSITIONS for i in range(1, min(MAX_LETTERS, len(c)) + 1)]


def boosted():
    from kiosk.domain.catalog import decode_csv_bytes, parse_csv
    from kiosk.ime import institute_vocabulary, load_dictionary, organisation_words
    from kiosk.settings.institute import load_institute

    rows = parse_csv(decode_csv_bytes((ROOT / "db" / "seed" / "demo_catalog.csv").read_bytes()))
    dictionary = load_dictionary()
    dictionary.boost(institute_vocabulary([t for r in rows for t in (r.name_zh, *r.aliases)],
                                          load_institute().places), level=2)
    dictionary.boost(organisation_words(), level=1)  # as screens/keyboard/dictionary.py does
    return dictionary


def customer_names(count: int = 5000) -> list[str]:
    """As many organisation names as the kiosk reads for their words: places x trades x legal forms."""
    from kiosk.settings.institute import load_institute

    places = load_institute().places
    trades = ["自来水", "燃气", "电力", "化工", "茅台酒", "科技", "建设工程", "人民医院", "食品", "物流", "药业"]
    forms = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "厂", "检测中心"]
    names = [p + t + f for p in places for t in trades for f in forms]
    return (names * (count // len(names) + 1))[:count]


def _raw_data() -> bytes:
    from kiosk.ime.dictionary import DATA_FILE

    return zlib.decompress(DATA_FILE.read_bytes(), wbits=31)


_MEMORY_CHILD = """
import gc, json, sys, tracemalloc
def rss():
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
mode = sys.argv[1]
gc.collect()
before = rss()
tracemalloc.start()
if mode == "dictionary":
    from kiosk.ime import load_dictionary
    kept = load_dictionary()
else:
    from bench.ime import _raw_data
    kept = _raw_data()
gc.collect()
traced = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
gc.collect()
print(json.dumps([rss() - before, traced]))
"""


def _memory(mode: str) -> tuple[float, float]:
    """(RSS delta, tracemalloc) in MB, in a fresh interpreter. The RSS is measured in a second run
    without tracemalloc, whose own bookkeeping would count."""
    def child(code: str) -> list[int]:
        done = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True,
                              cwd=ROOT)
        return json.loads(done.stdout.splitlines()[-1])

    traced = child(_MEMORY_CHILD)[1]
    rss = child(_MEMORY_CHILD.replace("tracemalloc.start()", "").replace(
        "tracemalloc.get_traced_memory()[0]", "0"))[0]
    return rss / 1e6, traced / 1e6


def run() -> list[Figure]:
    from kiosk.ime import load_dictionary

    loads, floors = [], []
    for _ in range(3):
        t = time.perf_counter_ns()
        load_dictionary()
        loads.append((time.perf_counter_ns() - t) / 1e6)
        t = time.perf_counter_ns()
        _raw_data()
        floors.append((time.perf_counter_ns() - t) / 1e6)

    dictionary = boosted()
    from kiosk.ime import customer_vocabulary

    names, customers = customer_names(), []
    for _ in range(3):
        t = time.perf_counter_ns()
        dictionary.copy().boost(customer_vocabulary(names, dictionary.segment), level=2)
        customers.append((time.perf_counter_ns() - t) / 1e6)
    keys = dictionary._main.keys  # the floor's sorted keys: the same list the walk bisects
    presses = keystrokes()
    ours: list[float] = []
    floor: list[float] = []
    clock, candidates = time.perf_counter_ns, dictionary.candidates
    for _ in range(REPEATS):
        for composition in presses:
            t0 = clock()
            candidates(composition, person=True)  # the contact field's: the dictionary's words and names
            t1 = clock()
            bisect_left(keys, composition.encode())
            t2 = clock()
            ours.append((t1 - t0) / 1e6)
            floor.append((t2 - t1) / 1e6)

    rss, traced = _memory("dictionary")
    raw_rss, raw_traced = _memory("text")
    p50, p99 = percentile(ours, 50), percentile(ours, 99)
    where = f"{len(presses)} key presses x {REPEATS}, 1..{MAX_LETTERS} letters"
    load = median(loads)
    return [
        Figure(f"ime candidates p50 per key press ({where})", p50, "ms", "bisect of the composition p50",
               percentile(floor, 50), f"p99 <= {P99_GOAL_MS:g} ms (next line)", p99 <= P99_GOAL_MS),
        Figure(f"ime candidates p99 per key press ({where})", p99, "ms", "bisect of the composition p99",
               percentile(floor, 99), f"p99 <= {P99_GOAL_MS:g} ms", p99 <= P99_GOAL_MS),
        Figure("ime load_dictionary(), median of 3", load, "ms", "read and decompress the file",
               median(floors), f"<= {LOAD_GOAL_MS:g} ms, in a worker after the first frame", load <= LOAD_GOAL_MS),
        Figure(f"ime customers' words: {len(names):,} names segmented, counted, boosted (median of 3)",
               median(customers), "ms", "load_dictionary()", load, f"<= {LOAD_GOAL_MS:g} ms, in the same worker",
               median(customers) <= LOAD_GOAL_MS),
        Figure("ime dictionary RSS (import + load, fresh interpreter)", rss, "MB", "the decompressed file as bytes",
               raw_rss, f"<= {MEMORY_GOAL_MB:g} MB", rss <= MEMORY_GOAL_MB),
        Figure("ime dictionary tracemalloc (import + load)", traced, "MB", "the decompressed file as bytes",
               raw_traced, f"<= {MEMORY_GOAL_MB:g} MB", traced <= MEMORY_GOAL_MB),
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
