"""The institute's own words for the keyboard: its instruments' names and its province's places, the
words organisation names are made of, and the words of its own customers' names."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

ORGANISATION_WORDS = Path(__file__).parent.parent / "data" / "organisation_words.txt"
# A word of the customers' names is boosted when this many names have it: one name's odd word is
# typed once (and the name completes after two characters anyway, kiosk/store/organisations.py).
MIN_NAMES = 2
CUSTOMER_WORDS = 3000  # at most, the most frequent

_HANZI = re.compile(r"[\u4e00-\u9fff]{2,}")
# The 55 minority nationalities, as autonomous areas name them (黔东南苗族侗族自治州).
_NATIONALITIES = (  # longest first, so that 布依 is not read as 布 + 依
    "柯尔克孜|乌孜别克|维吾尔|哈萨克|达斡尔|塔吉克|俄罗斯|鄂温克|塔塔尔|鄂伦春|蒙古|"
    "布依|朝鲜|土家|哈尼|傈僳|高山|拉祜|东乡|纳西|景颇|仫佬|布朗|撒拉|毛南|仡佬|"
    "锡伯|阿昌|普米|德昂|保安|裕固|独龙|赫哲|门巴|珞巴|基诺|回|藏|苗|彝|壮|满|"
    "侗|瑶|白|傣|黎|佤|畲|水|土|羌|怒|京"
)
_AUTONOMOUS = re.compile(f"(?:(?:{_NATIONALITIES})族)*自治(?:州|县|区|旗)$")
# A place is also typed without its level: 贵阳市 -> 贵阳.
_LEVEL = re.compile(r"(?:特区|新区|省|市|县|区|州|旗|镇|乡)$")


def place_names(place: str) -> list[str]:
    """A place as it is written and as it is said without its level: 贵阳市 -> 贵阳市, 贵阳;
    黔东南苗族侗族自治州 -> 黔东南苗族侗族自治州, 黔东南. A name of one character is not offered."""
    names = [place]
    for level in (_AUTONOMOUS, _LEVEL):
        short = level.sub("", place)
        if short != place:
            names.append(short)
            break
    return [n for n in names if len(n) >= 2]


def institute_vocabulary(catalog_names: Iterable[str], places: Iterable[str]) -> list[str]:
    """Words to pass to PinyinDictionary.boost(): each place with and without its level (see
    place_names), and every run of two or more Chinese characters in the catalogue's names and
    aliases (K型热电偶 -> 型热电偶). Order kept, duplicates dropped."""
    words: list[str] = []
    for place in places:
        for run in _HANZI.findall(place):
            words.extend(place_names(run))
    for name in catalog_names:
        words.extend(_HANZI.findall(name))
    return list(dict.fromkeys(words))


def organisation_words(path: Path = ORGANISATION_WORDS) -> list[str]:
    """The curated words of organisation names (kiosk/data/organisation_words.txt says whence)."""
    words = [w for line in path.read_text("utf-8").splitlines() for w in line.split("#", 1)[0].split()]
    return list(dict.fromkeys(words))


def customer_vocabulary(names: Iterable[str], segment: Callable[[str, bool], list[str]],
                        min_names: int = MIN_NAMES, limit: int = CUSTOMER_WORDS) -> list[str]:
    """The words the institute's customers' names are made of (贵州茅台酒股份有限公司 -> 贵州, 茅台,
    茅台酒, 股份, 股份有限公司: `segment` with the words nested at the start of longer ones), those in
    at least `min_names` names, the most frequent first (ties by first seen)."""
    counts: Counter[str] = Counter()
    for name in names:
        for run in _HANZI.findall(name):
            counts.update(list(dict.fromkeys(segment(run, True))))
    return [w for w, n in counts.most_common(limit) if n >= min_names]
