"""Pinyin -> words for the on-screen keyboard: candidates for what the customer has typed so far.

The composition is what the keyboard holds: lowercase a-z and the apostrophes the customer typed
between syllables. Each syllable of a word may be typed in full, by its initial (g, or zh/ch/sh), and
the last one by any prefix: "xian" finds 先 and 西安, "guiz" 贵州, "gzs" 贵州省, "guizs" too.

Order of the candidates (what Sogou and Rime users expect):
1. words spelling the whole composition: every syllable in full, then with only the last one cut
   short, then abbreviated; within each by frequency. Boosted words (the institute's and its
   customers' vocabulary, `boost`) come first among those cut short or abbreviated, where a few
   letters mean hundreds of words; spelled in full they only rank as if FULL_BOOST more frequent,
   so a rare boosted word never passes a common word the customer spelled out (是 for "shi");
2. words spelling a prefix of it, longest prefix first (贵州省 for "guizhoushengji"); a prefix ends
   where the composition's own syllables end (`spelled`), so what is left can still be spelled;
3. among those, last, the characters of the first syllable.
For a field that asks for a person (`person=True`, the contact), names (kiosk/ime/names.py) come first:
"wangfang" offers 王芳 as one word.
`Candidate.letters` says how much of the composition a candidate spells (apostrophes after it
included); the keyboard removes that much and asks again for the rest.

Storage (measured in bench/ime.py): the pinyin keys ("gui'zhou'sheng") are one sorted list of bytes,
walked with bisect; the words behind the keys are one string with an offset array, their
frequencies another array. Python objects per word would cost three to four times as much.
Walking: a key range per syllable typed so far; an initial or a cut syllable steps over the
distinct syllables of the range that start with it (one bisect each), so the work is the number of
dictionary prefixes the composition could mean, not the size of the dictionary.
"""

from __future__ import annotations

import copy
import re
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from heapq import heapify, heappop, heapreplace
from itertools import islice, product
from pathlib import Path

from kiosk.ime.names import PersonalNames, load_names

# Package data, beside this package as kiosk/settings/institute.py finds its file.
DATA_FILE = Path(__file__).parent.parent / "data" / "pinyin_words.gz"
_COMPOSITION = re.compile(r"[a-z']*")
_HANZI = re.compile(r"[\u4e00-\u9fff]+")
_INITIALS2 = (b"zh", b"ch", b"sh")
_LONGEST = 6  # zhuang, chuang, shuang
_SEP = ord("'")
_TOP = 0xFFFFFFFF  # frequencies are below it: rank = tier << 32 | (_TOP - frequency)
_AFTER_SEP = b"("  # the byte after "'": stem + b"(" is above every key of that stem
# For each position of the composition, the pieces that can start there: (end, next, piece, by_prefix).
_Pieces = list[list[tuple[int, int, bytes, bool]]]
# A boosted word not in the dictionary: at most this many readings (products of its characters' readings).
_READINGS = 16
# A boosted word spelled in full ranks as if this much more frequent: jieba's 2,000th word's frequency
# (课程). The institute's 凯里 (46) passes 凯利 (114); no boosted word passes 是 or 计量 (17,395) unless
# it is nearly as common.
FULL_BOOST = 2765
_LONGEST_WORD = 10  # segment(): longer words are not looked for (疾病预防控制中心 is 8)
_RARE_READING = 20  # see _read_characters
NAMES_OFFERED = 3  # person=True: names offered before the dictionary's words


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str  # the word or character(s) offered
    letters: int  # how many characters of the composition (from its start; apostrophes count) it spells


class _Table:
    """Sorted keys; for key i the postings first[i]:first[i+1], each a word (its slice of `text`)
    and a frequency, most frequent first."""

    __slots__ = ("first", "freq", "keys", "offsets", "text")

    def __init__(self, keys: list[bytes], first: array, text: str, offsets: array, freq: array) -> None:
        self.keys, self.first, self.text, self.offsets, self.freq = keys, first, text, offsets, freq

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[bytes, str, int]]) -> _Table:
        """From (key, word, frequency) rows sorted by key, then rank."""
        keys: list[bytes] = []
        first = array("I")
        offsets = array("I", [0])
        freq = array("I")
        words: list[str] = []
        for key, word, f in rows:
            if not keys or keys[-1] != key:
                keys.append(key)
                first.append(len(freq))
            words.append(word)
            offsets.append(offsets[-1] + len(word))
            freq.append(f)
        first.append(len(freq))
        return cls(keys, first, "".join(words), offsets, freq)

    def word(self, posting: int) -> str:
        return self.text[self.offsets[posting]:self.offsets[posting + 1]]

    def postings(self, key: bytes) -> range:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            return range(self.first[i], self.first[i + 1])
        return range(0)


class PinyinDictionary:
    def __init__(self, table: _Table) -> None:
        self._main = table
        # Syllables are the one-syllable keys (every syllable is some character's reading).
        self._syllables = frozenset(k.decode() for k in self._main.keys if _SEP not in k)
        self._starts = frozenset(s[:i] for s in self._syllables for i in range(1, len(s) + 1))
        self._boosted: dict[str, tuple[int, list[tuple[bytes, int]]]] = {}  # word -> (level, [(key, frequency)])
        self._extras: tuple[_Table, ...] = ()  # those words, a table per level, the highest first
        self._readings: dict[str, list[bytes]] | None = None  # _char_readings(), once asked
        self._names: PersonalNames | None = None  # personal_names(), once asked

    def copy(self) -> PinyinDictionary:
        """Another dictionary to boost more words in, sharing this one's packaged table (read-only)."""
        other = copy.copy(self)  # boost() replaces the tables; only the dict of boosted words is changed in place
        other._boosted = dict(self._boosted)
        return other

    def entries(self) -> Iterator[tuple[str, str, int]]:
        """Every (pinyin key, word, frequency) of the packaged dictionary, as the file has them."""
        table = self._main
        for i, key in enumerate(table.keys):
            for p in range(table.first[i], table.first[i + 1]):
                yield key.decode(), table.word(p), table.freq[p]

    # -- the composition -----------------------------------------------------------------------

    def _pieces(self, comp: str) -> _Pieces:
        """For each position: (end, next, piece, by_prefix) for every piece that can start there.
        `next` skips the apostrophes after the piece. by_prefix: the piece stands for any syllable
        starting with it (an initial, or the composition's last letters); otherwise it is a syllable."""
        n = len(comp)
        after = list(range(n + 1))
        for i in range(n - 1, -1, -1):
            if comp[i] == "'":
                after[i] = after[i + 1]
        pieces: _Pieces = [[] for _ in range(n + 1)]
        for pos in range(n):
            if comp[pos] == "'":
                continue
            for end in range(pos + 1, min(n, pos + _LONGEST) + 1):
                piece = comp[pos:end]
                if "'" in piece or piece not in self._starts:
                    break
                if end == n or len(piece) == 1 or piece.encode() in _INITIALS2:
                    pieces[pos].append((end, after[end], piece.encode(), True))
                elif piece in self._syllables:
                    pieces[pos].append((end, after[end], piece.encode(), False))
        return pieces

    def _segments(self, comp: str, pieces: _Pieces) -> list[tuple[int, int]]:
        """The composition's own syllables: the fewest pieces, then the fewest that are not whole
        syllables, longer pieces first on ties. [(start, next)]. When the whole cannot be spelled
        ("zhongguoi"), the longest prefix that can ("zhong'guo"); empty when none can."""
        n = len(comp)
        start = len(comp) - len(comp.lstrip("'"))
        reach = [False] * (n + 1)  # where a spelling from the start can end
        reach[start] = True
        for pos in range(start, n):
            if reach[pos]:
                for _, nxt, _, _ in pieces[pos]:
                    reach[nxt] = True
        target = max(pos for pos in range(n + 1) if reach[pos])
        if target == start:
            return []
        best: list[tuple[int, int] | None] = [None] * (n + 1)
        choice: list[int] = [0] * (n + 1)
        best[target] = (0, 0)
        for pos in range(target - 1, start - 1, -1):
            for end, nxt, piece, _ in pieces[pos]:  # shortest first: a later tie (longer piece) wins
                rest = best[nxt] if nxt <= target else None
                if rest is None:
                    continue
                cost = (rest[0] + 1, rest[1] + (piece.decode() not in self._syllables))
                if best[pos] is None or cost <= best[pos]:  # type: ignore[operator]
                    best[pos], choice[pos] = cost, nxt
        segments, pos = [], start
        while pos < target:
            segments.append((pos, choice[pos]))
            pos = choice[pos]
        return segments

    def spelled(self, composition: str) -> str:
        """The composition split into syllables as it will be read: "guiyangshi" -> "gui'yang'shi",
        "gzs" -> "g'z's"; what cannot be spelled stays as typed after them ("zhongguoi" ->
        "zhong'guo'i")."""
        comp = composition.lower()
        if not _COMPOSITION.fullmatch(comp):
            return composition
        segments = self._segments(comp, self._pieces(comp))
        rest = comp[segments[-1][1]:] if segments else comp
        return "'".join([comp[a:b].strip("'") for a, b in segments] + ([rest] if rest else []))

    # -- candidates ----------------------------------------------------------------------------

    def candidates(self, composition: str, limit: int = 30, person: bool = False) -> list[Candidate]:
        comp = composition.lower()
        if limit <= 0 or not _COMPOSITION.fullmatch(comp) or not comp.strip("'"):
            return []
        words = self._candidates(comp, limit)
        if not person:
            return words
        names = [Candidate(name, len(comp))
                 for name in self.personal_names().candidates(comp.replace("'", ""), NAMES_OFFERED)]
        offered = {c.text for c in names}
        return (names + [c for c in words if c.text not in offered])[:limit]

    def _candidates(self, comp: str, limit: int) -> list[Candidate]:
        n = len(comp)
        pieces = self._pieces(comp)
        segments = self._segments(comp, pieces)
        # Prefix candidates end where one of the composition's own syllables ends.
        if not segments:
            return []
        ends = {nxt for _, nxt in segments} - {n}
        start = segments[0][0]
        # One stream per matched key: (rank of its next word, table, that word, end of the key's words,
        # letters, tier). The key's words are most frequent first, so merging the streams by rank
        # yields the candidates in order, and only as many words are looked at as are offered.
        streams: list[tuple[int, int, int, int, int, int, int]] = []
        tables = (*self._extras, self._main)
        for t, table in enumerate(tables):
            self._walk(table, t, len(tables), pieces, n, ends, start, streams)
        heapify(streams)
        out: list[Candidate] = []
        seen: set[str] = set()
        while streams and len(out) < limit:
            _, t, posting, stop, letters, tier, add = streams[0]
            word = tables[t].word(posting)
            if word not in seen:
                seen.add(word)
                out.append(Candidate(word, letters))
            posting += 1
            if posting < stop:
                rank = tier | (_TOP - tables[t].freq[posting] - add)
                heapreplace(streams, (rank, t, posting, stop, letters, tier, add))
            else:
                heappop(streams)
        return out

    def _walk(self, table: _Table, t: int, slots: int, pieces: _Pieces, n: int, ends: set[int], start: int,
              streams: list[tuple[int, int, int, int, int, int, int]]) -> None:
        keys, first, freq = table.keys, table.first, table.freq
        plain = slots - 1  # the main table's slot in a tier: last; the boosted words' tables before it

        def record(i: int, letters: int, abbreviated: bool, cut: bool) -> None:
            add = t_slot = 0
            if letters == n:
                tier = 4 * abbreviated + 2 * cut
                if tier == 0 and t != plain:  # spelled in full: among the plain words, a little more frequent
                    t_slot, add = plain, FULL_BOOST
            elif letters in ends:
                tier = 6 + 4 * (n - letters) + 2 * abbreviated
            else:
                return
            tier = ((tier // 2) * slots + (t_slot if add else t)) << 32
            p = first[i]
            streams.append((tier | (_TOP - freq[p] - add), t, p, first[i + 1], letters, tier, add))

        def walk(prefix: bytes, lo: int, hi: int, pos: int, abbreviated: bool) -> None:
            for end, nxt, piece, by_prefix in pieces[pos]:
                if by_prefix:
                    succ = piece[:-1] + bytes((piece[-1] + 1,))
                    i = bisect_left(keys, prefix + piece, lo, hi)
                    stop = bisect_left(keys, prefix + succ, i, hi)
                    cut_from = len(prefix)
                    while i < stop:
                        key = keys[i]
                        sep = key.find(b"'", cut_from)
                        stem = key if sep < 0 else key[:sep]
                        j = bisect_left(keys, stem + _AFTER_SEP, i + 1, stop)
                        whole = len(stem) - cut_from == len(piece)
                        step(stem, i, j, end, nxt, abbreviated, whole)
                        i = j
                else:
                    stem = prefix + piece
                    i = bisect_left(keys, stem, lo, hi)
                    j = bisect_left(keys, stem + _AFTER_SEP, i, hi)
                    if i < j:
                        step(stem, i, j, end, nxt, abbreviated, True)

        def step(stem: bytes, i: int, j: int, end: int, nxt: int, abbreviated: bool, whole: bool) -> None:
            # keys[i:j] are stem itself (a word ends here) and stem'... (longer words).
            if keys[i] == stem:
                record(i, nxt, abbreviated or (not whole and end < n), not whole and end == n)
                i += 1
            if i < j and nxt < n:
                walk(stem + b"'", i, j, nxt, abbreviated or not whole)

        walk(b"", 0, len(keys), start, False)

    # -- the institute's words -----------------------------------------------------------------

    def boost(self, words: Iterable[str], level: int = 1) -> None:
        """Rank these words before plain dictionary words of the same match kind (spelled in full:
        FULL_BOOST more frequent; see the module's docstring), after the words boosted at a higher
        level (the institute's own: 2; words common in any organisation's name: 1), among themselves
        by frequency. A word boosted twice keeps the higher level. One character is never boosted: a
        syllable's characters keep the dictionary's order. They go into small tables (one per level)
        that the walk reads too: with their frequency under the readings
        the dictionary has them by, and, for words it lacks, under their characters' readings in
        this dictionary combined (up to _READINGS): pypinyin is not loaded by the running kiosk (~58 MB)."""
        readings = self._char_readings()
        main = self._main
        for word in dict.fromkeys(words):
            if len(word) < 2 or not _HANZI.fullmatch(word) or self._boosted.get(word, (0, []))[0] >= level:
                continue
            keys = [b"'".join(r) for r in islice(product(*(readings.get(ch, []) for ch in word)), _READINGS)]
            known = [(k, main.freq[p]) for k in keys for p in main.postings(k) if main.word(p) == word]
            if known or keys:
                self._boosted[word] = (level, known or [(k, 0) for k in keys])
        levels = sorted({lv for lv, _ in self._boosted.values()}, reverse=True)
        self._extras = tuple(_Table.from_rows(sorted(
            ((k, w, f) for w, (lv, kf) in self._boosted.items() if lv == at for k, f in kf),
            key=lambda r: (r[0], -r[2], r[1]))) for at in levels)

    def segment(self, text: str, nested: bool = False) -> list[str]:
        """The words of `text`, longest match first from the left (this dictionary's words and the
        boosted ones; a character no word starts with is skipped): 贵州茅台酒股份有限公司 -> 贵州,
        茅台酒, 股份有限公司. Words of two characters or more only. `nested`: with the shorter words
        each of those begins with (茅台 of 茅台酒, 股份 of 股份有限公司)."""
        readings, found, i = self._char_readings(), [], 0
        while i < len(text):
            longest, shorter = 0, []
            # Readings of text[i:j] that begin some key; a longer word is looked for while any does.
            prefixes = [b""]
            for j in range(i + 1, min(len(text), i + _LONGEST_WORD) + 1):
                grown = [p + b"'" + r if p else r for p in prefixes for r in readings.get(text[j - 1], ())]
                prefixes = [p for p in grown[:_READINGS] if self._begins_a_key(p)]
                if not prefixes:
                    break
                if j - i >= 2 and any(self._is_word(p, text[i:j]) for p in prefixes):
                    if longest and nested:
                        shorter.append(text[i:i + longest])
                    longest = j - i
            if longest:
                found += shorter + [text[i:i + longest]]
            i += max(1, longest)
        return found

    def _begins_a_key(self, prefix: bytes) -> bool:
        for table in (self._main, *self._extras):
            i = bisect_left(table.keys, prefix)
            if i < len(table.keys) and table.keys[i].startswith(prefix):
                return True
        return False

    def _is_word(self, key: bytes, word: str) -> bool:
        return any(table.word(p) == word for table in (self._main, *self._extras) for p in table.postings(key))

    def personal_names(self) -> PersonalNames:
        """Surnames and given names read the way this dictionary reads them (loaded once, ~10 ms)."""
        if self._names is None:
            readings = self._char_readings()
            self._names = load_names(lambda ch: readings[ch][0].decode() if ch in readings else None)
        return self._names

    def _char_readings(self) -> dict[str, list[bytes]]:
        """Each character's readings, the most frequent first, from the one-syllable keys (once)."""
        if self._readings is None:
            self._readings = self._read_characters()
        return self._readings

    def _read_characters(self) -> dict[str, list[bytes]]:
        table = self._main
        by_char: dict[str, list[tuple[int, bytes]]] = {}
        for i, key in enumerate(table.keys):
            if _SEP in key:
                continue
            for p in range(table.first[i], table.first[i + 1]):
                by_char.setdefault(table.word(p), []).append((-table.freq[p], key))
        # A reading no common word uses (frequency 1 in the build: 汽 as yi) would file a word under
        # initials nobody types: only the usual reading and those at least a twentieth as frequent.
        return {ch: [k for f, k in found if f <= min(-2, found[0][0] // _RARE_READING) or f == found[0][0]]
                for ch, found in ((ch, sorted(found)) for ch, found in by_char.items())}


def parse(data: bytes) -> PinyinDictionary:
    """The dictionary from its file, decompressed (the format: tools/build_pinyin_dictionary.py).

    The arrays are read straight from the bytes and the words decoded in one go; the keys, the only
    small objects kept, are made last, together. Nothing is built row by row: that left ~40 MB of
    fragmented heap behind, and even column by column in text the temporary lists of numbers made
    the allocator keep ~5 MB (bench/ime.py measures the resident memory)."""
    header = data[:data.index(b"\n")]
    magic, version, *sizes = header.split(b" ")
    if (magic, version) != (b"kiosk-pinyin", b"2") or len(sizes) != 3:
        raise ValueError(f"not a pinyin dictionary: {header[:40]!r}")
    n_keys, n_words, n_bytes = map(int, sizes)
    view = memoryview(data)
    at = len(header) + 1

    def numbers(count: int) -> array:
        nonlocal at
        found = array("I")
        found.frombytes(view[at:at + 4 * count])
        if sys.byteorder == "big":
            found.byteswap()  # the file is little-endian
        at += 4 * count
        return found

    first, offsets, freq = numbers(n_keys + 1), numbers(n_words + 1), numbers(n_words)
    text = str(view[at:at + n_bytes], "utf-8")
    keys = data[at + n_bytes:].split(b" ")
    view.release()
    if not (len(keys) == n_keys and first[-1] == n_words and offsets[-1] == len(text)):
        raise ValueError("the pinyin dictionary's sections do not agree")
    return PinyinDictionary(_Table(keys, first, text, offsets, freq))


def load_dictionary(path: Path = DATA_FILE) -> PinyinDictionary:
    """The packaged dictionary (kiosk/data/pinyin_words.gz), ~50 ms: call it in a worker."""
    return parse(zlib.decompress(path.read_bytes(), wbits=31))  # 31: a gzip file
