"""An English speaker finds the common instruments with everyday words (the demo catalogue's
English aliases), through the catalogue the kiosk loads from its database."""

import pytest

from kiosk.domain.search import SearchIndex

# word typed -> the instrument it should bring first
FIRST = {
    "balance": "电子天平",
    "pressure gauge": "一般压力表",
    "blood pressure monitor": "无创自动测量血压计",
    "tape measure": "钢卷尺",
    "caliper": "游标卡尺",
    "calipers": "游标卡尺",
    "gas meter": "膜式燃气表",
    "water meter": "水表",
    "taxi meter": "出租汽车计价器",
    "electricity meter": "电能表",
    "ruler": "钢直尺",
    "petrol pump": "燃油加油机",
    "breathalyzer": "呼出气体酒精含量检测仪",
    "noise meter": "声级计",
    "weights": "砝码",
    "multimeter": "数字多用表",
    "Fever Thermometer": "玻璃体温计",
}
# A word several instruments answer to: each of them among the first few, as the kiosk lists them.
AMONG_FIRST = {
    "scale": {"电子计价秤", "非自动衡器"},
    "thermometer": {"数字温度计", "玻璃体温计", "医用电子体温计"},
    "blood pressure meter": {"汞柱式血压计", "弹簧式血压表", "无创自动测量血压计"},
}


@pytest.fixture
def index(catalog):
    from kiosk.store.catalog import search_keys_for

    return SearchIndex(catalog.rows, search_keys_for(catalog.rows))


def instruments(index, word: str) -> list[str]:
    return list(dict.fromkeys(row.name_zh for row in index.search(word, limit=30)))


def test_everyday_english_words_find_their_instrument_first(index):
    found = {word: instruments(index, word)[:1] for word in FIRST}
    assert found == {word: [name] for word, name in FIRST.items()}


def test_a_word_for_several_instruments_lists_them_first(index):
    for word, names in AMONG_FIRST.items():
        assert set(instruments(index, word)[:len(names)]) == names, word
