"""The candidate ranking, held out: organisation names, contacts and instruments that the curated
vocabulary (kiosk/data/organisation_words.txt) does not hold as such, typed the way a customer does on
the on-screen keyboard at 80x24, taps counted (issue 16: an 8-character organisation name of common
words in at most 20 taps)."""

from __future__ import annotations

import functools
import itertools
import re
import statistics
from pathlib import Path

import pytest

from kiosk.domain.catalog import decode_csv_bytes, parse_csv
from kiosk.i18n.textwidth import cell_width
from kiosk.ime import (
    Candidate,
    PinyinDictionary,
    customer_vocabulary,
    institute_vocabulary,
    load_dictionary,
    organisation_words,
)
from kiosk.settings.institute import load_institute
from screens.keyboard.composer import Composer
from screens.keyboard.widgets import OVERHEAD

ROOT = Path(__file__).resolve().parent.parent
BAR = 79  # the candidate bar's width at 80 columns (the keyboard's padding takes one)
BUDGET = 20

# Written for this test from organisations of several provinces and trades; the words as a customer
# thinks of them, typed one after the other. None is in the vocabulary file (checked below).
ORGANISATIONS = re.findall(r"\S+", """
遵义市/第一/人民医院 六盘水市/钟山区/疾病预防控制中心 贵州/茅台酒/股份有限公司
中国/石化/销售/股份有限公司/贵州/石油/分公司 黔南州/市场监督管理局 毕节市/供排水/有限公司
成都市/第三/人民医院 四川省/计量/测试/研究院 云南/白药/集团/股份有限公司 昆明/钢铁/集团/有限责任公司
广州市/自来水/有限公司 深圳市/燃气/集团/股份有限公司 湖南省/疾病预防控制中心 长沙市/中心医院
武汉/钢铁/有限公司 河南省/产品质量/监督/检验/研究院 杭州/娃哈哈/集团/有限公司 南京/化工/园区/管理委员会
江苏省/特种设备/安全/监督检验/研究院 山东省/计量/科学/研究院 青岛/啤酒/股份有限公司
北京市/朝阳区/卫生健康委员会 上海/电气/集团/有限公司 天津市/环境监测/中心 重庆市/渝北区/人民医院
西安市/供电/公司 兰州/石化/公司 贵阳市/南明区/城市/管理局 安顺/学院 铜仁市/碧江区/中医院
黔西南州/人民医院 凯里/学院 都匀市/自来水/公司 贵州/航天/电器/股份有限公司 贵州/电网/有限责任公司
中国移动/通信/集团/贵州/有限公司 中国/建设银行/贵阳/分行 贵州省/地质/矿产/勘查/开发局
遵义/医科大学/附属医院 仁怀市/酱香/酒业/有限公司 习水县/卷烟厂 清镇市/水泥厂 瓮安县/磷化工/有限公司
开阳县/磷矿 贵州/轮胎/股份有限公司 国药/控股/贵州/有限公司 水城/钢铁/集团 福泉市/环境监测站
黔东南州/食品/药品/检验所 安顺市/西秀区/农业农村局
""")
CONTACTS = re.findall(r"\S+", """
王芳 张伟 李娜 刘洋 陈静 杨磊 黄勇 赵军 吴涛 周明 徐丽 孙强 马超 朱敏 胡杰 郭艳 何平 林峰 高燕 罗娟
郑华 梁辉 谢婷 宋鹏 唐玲 许飞 韩雪 邓斌 冯刚 曹颖 刘晓明 王秀英 李建国 张志强""")


@functools.cache
def kiosk_dictionary() -> PinyinDictionary:
    """As the kiosk loads it (screens/keyboard/dictionary.py): the demo catalogue, the demo province's
    places and the organisation words boosted; no customers' names (they would hold the answers)."""
    rows = parse_csv(decode_csv_bytes((ROOT / "db" / "seed" / "demo_catalog.csv").read_bytes()))
    names = [text for row in rows for text in (row.name_zh, *row.aliases)]
    dictionary = load_dictionary()
    dictionary.boost(institute_vocabulary(names, load_institute().places), level=2)
    dictionary.boost(organisation_words(), level=1)
    return dictionary


@functools.cache
def usual_readings() -> dict[str, str]:
    return {ch: keys[0].decode() for ch, keys in kiosk_dictionary()._char_readings().items()}


def reading(word: str) -> list[str]:
    """The word's syllables as the dictionary files it (长沙 chang'sha, though 长 is usually zhang)."""
    dictionary = kiosk_dictionary()
    for key in itertools.product(*(dictionary._char_readings().get(ch, ()) for ch in word)):
        if dictionary._is_word(b"'".join(key), word):
            return [k.decode() for k in key]
    return [usual_readings()[ch] for ch in word]


def pages(candidates: list[Candidate], letters: str, spelled: str) -> list[list[Candidate]]:
    """The first two pages of the candidate bar at 80 columns, as the keyboard fits them."""
    composer = Composer()
    composer.letters, composer.candidates = letters, candidates
    room = BAR - (cell_width(spelled[-16:]) + OVERHEAD) - 2 * (1 + OVERHEAD)
    composer.fit(room, OVERHEAD)
    first = composer.page
    composer.next_page()
    composer.fit(room, OVERHEAD)
    return [first, composer.page if composer.start else []]


def taps_to_find(dictionary: PinyinDictionary, word: str, letters: str, person: bool = False) -> int | None:
    """Letters typed one by one until `word` shows (on the first page, or the second after a tap on ›),
    and the tap on it; None if it never shows."""
    for typed in range(1, len(letters) + 1):
        shown = pages(dictionary.candidates(letters[:typed], person=person), letters[:typed],
                      dictionary.spelled(letters[:typed]))
        for page, cost in ((shown[0], 1), (shown[1], 2)):
            if any(c.text == word and c.letters == typed for c in page):
                return typed + cost
        if typed < len(letters) and any(c.text == word for c in shown[0]):
            continue
    return None


def word_taps(dictionary: PinyinDictionary, word: str) -> int | None:
    """A word by its syllables' first letters (one character: in full); if it never shows, those
    erased (a tap each) and the initials tried with zh/ch/sh in full (石化: "sh" alone is one
    initial), then the word in full pinyin. None: it is not offered at all (a trade name: 娃哈哈)."""
    syllables = reading(word)
    full = "".join(syllables)
    tries = [full] if len(word) == 1 else list(dict.fromkeys([
        "".join(s[0] for s in syllables), "".join(s[:2] if s[:2] in ("zh", "ch", "sh") else s[0] for s in syllables),
        full]))
    erased = 0
    for letters in tries:
        found = taps_to_find(dictionary, word, letters)
        if found is not None:
            return erased + found
        erased += 2 * len(letters)
    return None


def name_taps(dictionary: PinyinDictionary, words: list[str]) -> tuple[int, bool]:
    """Taps for the words one after the other, and whether every one was offered as a word: one
    that is not is typed a character at a time after trying it in full (its taps counted)."""
    total, common = 0, True
    for word in words:
        taps = word_taps(dictionary, word)
        if taps is None:
            common = False
            syllables = reading(word)
            taps = 2 * (len(syllables) + len("".join(syllables)))  # its initials and full pinyin, erased
            taps += sum(word_taps(dictionary, ch) or 0 for ch in word)
        total += taps
    return total, common


def first_eight(words: list[str]) -> list[str]:
    """The words that hold the name's first 8 characters."""
    kept: list[str] = []
    while sum(map(len, kept)) < 8 and len(kept) < len(words):
        kept.append(words[len(kept)])
    return kept


def test_the_names_are_held_out():
    vocabulary = set(organisation_words())
    assert not {"".join(name.split("/")) for name in ORGANISATIONS} & vocabulary
    assert len(ORGANISATIONS) == 50


def test_eight_characters_of_an_organisation_name_take_at_most_20_taps(capsys):
    """Names shorter than 8 characters: the whole name, in the same budget. A name with a word the
    dictionary does not offer (a trade name) is shown, not held to the budget: its words are not common."""
    dictionary = kiosk_dictionary()
    counts, uncommon = {}, set()
    for name in ORGANISATIONS:
        words = first_eight(name.split("/"))
        counts["".join(words)], common = name_taps(dictionary, words)
        if not common:
            uncommon.add("".join(words))
    values = sorted(n for name, n in counts.items() if name not in uncommon)
    with capsys.disabled():
        print(f"\ntaps for the first 8 characters (in words) of {len(values)} held-out organisation names: "
              f"min {values[0]}, median {statistics.median(values)}, max {values[-1]}; the most:")
        for name, n in sorted(counts.items(), key=lambda item: -item[1])[:6]:
            print(f"  {name}: {n}" + (" (a word not in the dictionary: not held to the budget)" * (name in uncommon)))
    assert len(uncommon) <= 3
    over = {name: n for name, n in counts.items() if n > budget(name) and name not in uncommon}
    assert over.keys() == KNOWN_MISSES.keys(), over
    assert all(n <= budget(name) + 6 for name, n in over.items()), over


def budget(typed: str) -> float:
    """20 taps for 8 characters; the words holding the first 8 may hold more (股份有限公司): in proportion."""
    return BUDGET * max(8, len(typed)) / 8


# Over the budget, and why: shown by the test, not hidden by tuning the vocabulary to it.
KNOWN_MISSES = {
    "习水县卷烟厂": "习水县 is a county of the demo province the demo institute file does not list (浠水县 of Hubei "
                    "comes first for xsx and xishuixian); an institute that lists its counties gets it first",
    "贵州省地质矿产勘查": "勘查 comes after its more frequent synonym 勘察 and 勘测 for kc: typed kanch",
}


def test_a_contacts_name_is_one_or_two_taps_after_its_full_pinyin(capsys):
    dictionary = kiosk_dictionary()
    readings = usual_readings()
    surnames = {"曾": "zeng"}  # read as a surname; none of the list needs it, kept for the next one
    costs = {}
    for name in CONTACTS:
        letters = surnames.get(name[0], readings[name[0]]) + "".join(readings[ch] for ch in name[1:])
        shown = pages(dictionary.candidates(letters, person=True), letters, dictionary.spelled(letters))
        costs[name] = next((cost for page, cost in ((shown[0], 1), (shown[1], 2))
                            if Candidate(name, len(letters)) in page), None)
    with capsys.disabled():
        print(f"\ncontacts: {sum(c == 1 for c in costs.values())} of {len(costs)} on the first page")
    assert {name: c for name, c in costs.items() if c is None} == {}


def test_without_the_person_flag_the_words_come_first():
    """A name is offered only where the field asks for a person: 浏阳 (a city) stays first for liuyang."""
    dictionary = kiosk_dictionary()
    assert dictionary.candidates("liuyang")[0].text == "浏阳"
    assert dictionary.candidates("liuyang", person=True)[0].text == "刘洋"
    assert dictionary.candidates("zhang", person=True)[0].text == "张"
    assert dictionary.candidates("wanggong", person=True)[0].text == "王工"


def test_the_catalogues_instruments_come_first_by_their_initials():
    rows = parse_csv(decode_csv_bytes((ROOT / "db" / "seed" / "demo_catalog.csv").read_bytes()))
    names = sorted({run for row in rows for run in re.findall(r"[\u4e00-\u9fff]{2,}", row.name_zh)})
    dictionary, readings = kiosk_dictionary(), usual_readings()
    by_initials: dict[str, list[str]] = {}
    for name in names:
        by_initials.setdefault("".join(readings[ch][0] for ch in name), []).append(name)
    late = {}
    for initials, same in by_initials.items():
        offered = [c.text for c in dictionary.candidates(initials, limit=30)]
        # Names with the same initials share the first places; none comes after another word.
        late.update({name: offered.index(name) if name in offered else None
                     for name in same if name not in offered[:len(same)]})
    assert late == {}, late


# ---- the boost's rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("composition, first", [("shi", "是"), ("jiliang", "计量"), ("yiyuan", "医院"),
                                                 ("gongsi", "公司"), ("jiance", "检测"), ("kaili", "凯里")])
def test_a_boosted_rare_word_does_not_pass_the_common_word_spelled_in_full(composition, first):
    assert kiosk_dictionary().candidates(composition)[0].text == first


@pytest.mark.parametrize("composition, word", [("yx", "有限"), ("csy", "测试院"), ("ceshiyuan", "测试院"),
                                                ("yxgs", "有限公司"), ("jbyfkzzx", "疾病预防控制中心"),
                                                ("scjdglj", "市场监督管理局")])
def test_words_of_organisation_names_are_offered_first_by_their_initials(composition, word):
    assert word in [c.text for c in kiosk_dictionary().candidates(composition)[:3]]


def test_the_customers_own_words_are_boosted():
    """茅台 is no common word for "mt" (码头, 每天 ...) until the institute's customers' names have it."""
    customers = ["贵州茅台酒股份有限公司", "茅台镇国台酒业有限公司", "仁怀市茅台镇酒厂", "遵义市自来水公司"]
    dictionary = kiosk_dictionary().copy()
    assert "茅台" not in [c.text for c in dictionary.candidates("mt")[:5]]
    words = customer_vocabulary(customers, dictionary.segment)
    assert "茅台" in words and "自来水" not in words  # in one name only
    dictionary.boost(words, level=2)
    assert dictionary.candidates("mt")[0].text == "茅台"
    assert "茅台" not in [c.text for c in kiosk_dictionary().candidates("mt")[:5]], "the copy, not the shared one"
