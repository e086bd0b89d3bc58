"""The on-screen keyboard's pinyin input method (kiosk/ime): what a customer typing Chinese sees offered."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.catalog import decode_csv_bytes, parse_csv
from kiosk.ime import Candidate, PinyinDictionary, institute_vocabulary, load_dictionary
from kiosk.settings.institute import InstituteFileError, load_institute, parse_institute

ROOT = Path(__file__).resolve().parent.parent
VISIBLE = 5  # candidates a customer reads before tapping: the first few of the candidate bar


@pytest.fixture(scope="module")
def plain() -> PinyinDictionary:
    """The packaged dictionary, nothing boosted."""
    return shared()


@pytest.fixture(scope="module")
def institute() -> PinyinDictionary:
    """Boosted as the kiosk boosts it: the demo catalogue's names and aliases, the demo province's places."""
    rows = parse_csv(decode_csv_bytes((ROOT / "db" / "seed" / "demo_catalog.csv").read_bytes()))
    names = [text for row in rows for text in (row.name_zh, *row.aliases)]
    dictionary = load_dictionary()
    dictionary.boost(institute_vocabulary(names, load_institute().places))
    return dictionary


def texts(dictionary: PinyinDictionary, composition: str, n: int = 30) -> list[str]:
    return [c.text for c in dictionary.candidates(composition, limit=n)]


# ---- what a customer types -------------------------------------------------------------------


def test_initials_find_the_province(plain):
    assert "贵州省" in texts(plain, "gzs", 3)


def test_initials_find_a_hospital(plain):
    assert "医院" in texts(plain, "yy", 5)


@pytest.mark.parametrize("composition, word", [
    ("youxiangongsi", "有限公司"), ("yxgs", "有限公司"), ("youxianzerengongsi", "有限责任公司"),
    ("jiliang", "计量"), ("xi'an", "西安"), ("gongdianju", "供电局"), ("zilaishui", "自来水"),
    ("ranqi", "燃气"), ("dianli", "电力"), ("renminyiyuan", "人民医院"), ("jiance", "检测"), ("wenduji", "温度计"),
    ("xueyaji", "血压计"), ("jiayouji", "加油机"), ("dianzitianping", "电子天平"), ("yanjiusuo", "研究所"),
    ("diyi", "第一"), ("keji", "科技"), ("yinhang", "银行"), ("chongqing", "重庆"),
])
def test_common_words_of_organisations_and_instruments_come_first(plain, composition, word):
    assert texts(plain, composition, 1) == [word]


def test_the_u_with_dots_is_typed_v(plain):
    assert "绿" in texts(plain, "lv", 5)
    assert "女" in texts(plain, "nv", 1)


def test_the_catalogues_instruments_come_first_once_boosted(institute):
    assert texts(institute, "yalibiao", 1) == ["压力表"]
    assert texts(institute, "ylb", 1) == ["压力表"]


def test_a_place_of_the_institutes_province_comes_first_once_boosted(plain, institute):
    """凯利 is the more common word in the newspapers; the institute in Guizhou wants 凯里 (a city there)."""
    assert texts(plain, "kaili", 1) == ["凯利"]
    assert texts(institute, "kaili", 1) == ["凯里"]
    assert texts(institute, "bijie", 1) == ["毕节"]
    assert texts(institute, "qdn", 1) == ["黔东南"]
    assert texts(institute, "guiz", 1) == ["贵州"]


def test_a_boosted_word_the_dictionary_lacks_is_added():
    dictionary = load_dictionary()
    assert "贵州省计量测试院" not in texts(dictionary, "guizhoushengjiliangceshiyuan")
    dictionary.boost(["贵州省计量测试院"])
    assert texts(dictionary, "guizhoushengjiliangceshiyuan", 1) == ["贵州省计量测试院"]
    assert texts(dictionary, "gzsjlcsy", 1) == ["贵州省计量测试院"]


def test_a_boosted_word_spelled_only_in_part_comes_after_the_words_spelled_in_full():
    """西昂 (xi'ang: no such word) is spelled by "xian" only with its last syllable cut short: boosted,
    it comes after every word "xian" spells in full (先, 西安), before the plain words cut short (想)."""
    dictionary = load_dictionary()
    assert "西昂" not in texts(dictionary, "xian", 200)
    dictionary.boost(["西昂"])
    after = texts(dictionary, "xian", 200)
    assert max(after.index("西安"), after.index("先")) < after.index("西昂") < after.index("想")
    full = {c.text for c in dictionary.candidates("xian", limit=200)[:after.index("西昂")]}
    assert "县" in full and "想" not in full


def test_one_character_is_never_boosted():
    """A syllable's characters keep the dictionary's order: boosting 暹 (a rare xian) does not move it."""
    dictionary = load_dictionary()
    before = texts(dictionary, "xia", 200)
    dictionary.boost(["暹"])
    assert texts(dictionary, "xia", 200) == before


# ---- the order of the list -------------------------------------------------------------------


def test_whole_matches_then_longest_prefixes_then_the_first_syllables_characters(plain):
    found = plain.candidates("guizhoushengji")
    letters = [c.letters for c in found]
    assert letters == sorted(letters, reverse=True), "longest prefix first"
    assert found[0] == Candidate("贵州省", len("guizhousheng"))
    assert Candidate("贵州", len("guizhou")) in found
    assert found[-1].letters == len("gui") and len(found[-1].text) == 1


def test_whole_words_before_characters_of_the_same_spelling(plain):
    found = plain.candidates("xian")
    assert "西安" in [c.text for c in found[:10]]
    assert {c.letters for c in found} == {4}


def test_an_apostrophe_separates_syllables_and_is_taken_with_the_word_before_it(plain):
    found = plain.candidates("xi'an")
    assert found[0] == Candidate("西安", 5)
    xi = next(c for c in found if c.text == "西")
    assert xi.letters == 3, "the keyboard is left with 'an', not \"'an\""


def test_spelled_shows_the_syllables_as_they_will_be_read(plain):
    assert plain.spelled("guiyangshi") == "gui'yang'shi"
    assert plain.spelled("gzs") == "g'z's"
    assert plain.spelled("xi'an") == "xi'an"
    assert plain.spelled("xian") == "xian"
    assert plain.spelled("zhongguoi") == "zhong'guo'i"


def test_what_cannot_be_spelled_finds_what_comes_before_it(plain):
    assert texts(plain, "zhongguoi", 1) == ["中国"]
    assert plain.candidates("zhongguoi")[0].letters == len("zhongguo")
    assert plain.candidates("iu") == []
    assert plain.candidates("") == [] and plain.candidates("''") == []


def test_choosing_candidates_one_after_the_other_types_the_whole_name(plain):
    composition, typed = "guizhoushengjiliangceshi", ""
    while composition:
        first = plain.candidates(composition)[0]
        typed, composition = typed + first.text, composition[first.letters:]
    assert typed == "贵州省计量测试"


# ---- taps for a whole organisation name ------------------------------------------------------

# Names as a customer thinks of them: the words they would type one after the other.
NAMES = [
    "贵阳市/第一/人民医院", "遵义/供电局/计量/中心", "贵州省/计量/测试/院", "六盘水市/自来水/公司",
    "安顺市/燃气/有限公司", "黔东南州/人民医院", "毕节市/电力/有限公司", "铜仁市/检验检测/中心",
    "凯里市/中医院/药剂科", "贵州/电子/科技/有限公司",
]


def taps(dictionary: PinyinDictionary, words: list[str]) -> int:
    """Taps to type `words` one after the other, as a customer who knows pinyin does: each word by its
    syllables' initials (a word of one character in full), a tap a letter, and a tap on the word as soon
    as it is among the first VISIBLE candidates. If it has not shown when the initials are all typed,
    they erase them (a tap each), type the word in full pinyin the same way, and at the end page
    through the candidates (a tap a page) to find it."""
    readings = usual_readings()
    count = 0
    for word in words:
        full = "".join(readings[ch] for ch in word)
        initials = "".join(readings[ch][0] for ch in word) if len(word) > 1 else full
        typed = until_shown(dictionary, word, initials)
        if typed is None:
            count += 2 * len(initials)
            typed = until_shown(dictionary, word, full)
        if typed is None:
            offered = [c.text for c in dictionary.candidates(full, limit=100) if c.letters == len(full)]
            assert word in offered, f"{word} is not offered for {full}: {offered[:10]}"
            typed = len(full) + offered.index(word) // VISIBLE + 1
        count += typed
    return count


def until_shown(dictionary: PinyinDictionary, word: str, letters: str) -> int | None:
    """Letters typed until `word` shows among the first VISIBLE candidates, plus the tap on it."""
    for typed in range(1, len(letters) + 1):
        shown = dictionary.candidates(letters[:typed])[:VISIBLE]
        if Candidate(word, typed) in shown:
            return typed + 1
    return None


@functools.cache
def usual_readings() -> dict[str, str]:
    """Each character's most frequent reading (from the dictionary's one-syllable keys)."""
    usual: dict[str, tuple[int, str]] = {}
    for key, word, freq in shared().entries():
        if len(word) == 1 and freq > usual.get(word, (-1, ""))[0]:
            usual[word] = (freq, key)
    return {ch: key for ch, (_, key) in usual.items()}


def test_an_organisation_name_of_eight_or_nine_characters_takes_at_most_20_taps(plain, institute, capsys):
    """With the institute's words boosted, as the kiosk runs; the plain dictionary's count is shown beside."""
    counts = {"".join(name.split("/")): (taps(institute, name.split("/")), taps(plain, name.split("/")))
              for name in NAMES}
    with capsys.disabled():
        print("\ntaps to type an organisation name (letters + candidate taps), boosted / plain dictionary:")
        for name, (boosted, unboosted) in counts.items():
            print(f"  {name} ({len(name)} characters): {boosted} / {unboosted}")
    assert all(boosted <= 20 for boosted, _ in counts.values()), counts


# ---- properties ------------------------------------------------------------------------------

COMPOSITIONS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", max_size=24)


@given(COMPOSITIONS)
@settings(max_examples=300, deadline=None)
def test_any_composition_gives_a_unique_list_of_candidates_that_each_spell_part_of_it(composition):
    dictionary = shared()
    found = dictionary.candidates(composition)
    assert len({c.text for c in found}) == len(found)
    assert all(0 < c.letters <= len(composition) and c.text for c in found)
    assert dictionary.candidates(composition) == found, "deterministic"
    assert dictionary.spelled(composition).replace("'", "") == composition.replace("'", "")


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_the_full_pinyin_of_a_common_word_offers_it_or_a_more_frequent_homophone_first(data):
    key, word, freq = data.draw(st.sampled_from(common_words()))
    letters = key.replace("'", "")
    first = shared().candidates(letters)[0]
    assert first.letters == len(letters)
    assert first.text == word or frequencies()[first.text, letters] >= freq, (key, word, first)


@functools.cache
def shared() -> PinyinDictionary:
    """One plain dictionary for the hypothesis tests and the helpers (fixtures do not mix with @given)."""
    return load_dictionary()


@functools.cache
def common_words() -> list[tuple[str, str, int]]:
    return sorted((e for e in shared().entries() if len(e[1]) > 1), key=lambda e: -e[2])[:5000]


@functools.cache
def frequencies() -> dict[tuple[str, str], int]:
    """(word, letters of a key it is under) -> its frequency there."""
    found: dict[tuple[str, str], int] = {}
    for key, word, freq in shared().entries():
        letters = key.replace("'", "")
        found[word, letters] = max(freq, found.get((word, letters), 0))
    return found


# ---- what the package brings -----------------------------------------------------------------


def test_places_are_read_from_the_institute_file():
    places = load_institute().places
    assert "贵阳市" in places and "黔东南苗族侗族自治州" in places
    without = (ROOT / "kiosk" / "data" / "institute.toml").read_text("utf-8").replace("places = [", "unused = [")
    assert parse_institute(without, "institute.toml").places == ()
    with pytest.raises(InstituteFileError, match="places"):
        parse_institute('places = "贵阳市"\n' + without, "institute.toml")
    assert "黔东南" in institute_vocabulary([], places) and "贵阳" in institute_vocabulary([], places)
    assert institute_vocabulary(["K型热电偶", "pH计", "压力表"], []) == ["型热电偶", "压力表"]


def test_the_input_method_loads_neither_pypinyin_nor_textual():
    """The running kiosk never loads pypinyin (~58 MB): boosting reads characters from the dictionary."""
    probe = ("from kiosk.ime import load_dictionary\nd = load_dictionary()\nd.boost(['贵阳', '黔东南苗族侗族自治州'])\n"
             "import sys, json\nprint(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in ("pypinyin", "textual", "peewee", "rich", "screens")] == []
