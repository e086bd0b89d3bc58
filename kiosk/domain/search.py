"""Catalogue search for the one search box: hanzi, pinyin, initials, English, aliases, fee codes.

Pure: no Textual, no database. Build a `SearchIndex` once per catalogue version, then call
`search()` on every keystroke.

Keys of a row: name_zh, its full pinyin and pinyin initials, name_en, every alias with its
pinyin and initials, and the fee-standard number. Spec, accuracy class and service are not
keys: the customer picks the instrument first, then its row. Keys and queries go through the
same `normalise_query` (NFKC, casefold, no whitespace, no dashes), so "ＹＬＢ", "ya li biao",
"Pressure Gauge", "l001002" and "Ｌ－００１" all meet the keys they mean.

Ranking: a row whose key equals the query, then rows with a key starting with the query, then
rows with a key containing it; catalogue order within each rank. An empty query finds nothing
(the screen shows its own browse list, not 10,000 rows).

How it stays under 2 ms per keystroke on 10,000 rows in pure Python:
- exact matches come from a dict;
- prefix and substring matches are found with `str.find` (C speed) over one big string per
  "layer", whose entries are "\\n"-separated keys, so "\\nq" finds a key prefix and "q" alone
  a substring, and a query (which never holds "\\n") cannot run from one key into the next;
- the name keys are the same for all the spec/class/service rows of one instrument, so that
  layer stores each distinct key set once (one entry per instrument, not per row); the code
  layer holds one short entry per row;
- entries are in order of their first row, and only the first `limit` matching entries of a
  layer can hold the `limit` first matching rows (each of those entries brings a distinct
  first row that comes before any row of a later entry), so a broad query such as "y" stops
  scanning almost at once; a rare one costs at most two C-level scans per layer, and a miss
  usually none (see the two tests in `_Layer`).
No state is kept between keystrokes, so the first keystroke costs what any other does (no
narrowing from the previous query is needed to stay inside the budget).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence

from kiosk.domain.catalog import FeeRow

# Whitespace and the dashes people type (or leave out) inside codes and English names.
_IGNORED = re.compile(r"[\s\-‐‑‒–—―]+")


def normalise_query(text: str) -> str:
    """Fold a query (or a key) to its search form: NFKC (full-width ＹＬＢ１２ -> ylb12), casefold,
    and no whitespace or dashes. The result never contains "\\n", which separates keys."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def search_keys(text: str) -> tuple[str, ...]:
    """(text, full pinyin, initials) in search form, duplicates dropped.

    pypinyin costs ~0.1 s and ~58 MB to load, so it is imported here, only for texts whose
    keys were not stored when the catalogue was imported (see kiosk.store.catalog).
    Polyphones are read in context by pypinyin's phrase dictionary (长度 -> changdu,
    重量 -> zhongliang); ü is written v (绿 -> lv), as pinyin IMEs type it.
    """
    from pypinyin import Style, lazy_pinyin

    key = normalise_query(text)
    full = normalise_query("".join(lazy_pinyin(key, style=Style.NORMAL)))
    initials = normalise_query("".join(lazy_pinyin(key, style=Style.FIRST_LETTER)))
    return tuple(k for k in dict.fromkeys((key, full, initials)) if k)


def row_texts(row: FeeRow) -> tuple[str, ...]:
    """The texts of a row that are searched by name (the code is searched as it is)."""
    return (row.name_zh, row.name_en, *row.aliases)


def _key_builder(known: Mapping[str, tuple[str, ...]]):
    """keys(text), from the stored keys where there are some, computed (and cached) otherwise."""
    cache = dict(known)

    def keys(text: str) -> tuple[str, ...]:
        found = cache.get(text)
        if found is None:
            found = cache[text] = search_keys(text)
        return found

    return keys


class _Layer:
    """Distinct key sets ("entries") in one string, in order of their first row.

    text = "\\n" + entry0 + "\\n" + entry1 + "\\n" ..., each entry its keys joined by "\\n";
    starts[e] is where entry e begins (plus a sentinel), rows[e] its rows in catalogue order.
    """

    def __init__(self, entry_of_row: Iterable[str]):
        groups: dict[str, list[int]] = {}  # insertion order = order of first row
        for row, entry in enumerate(entry_of_row):
            if entry:
                groups.setdefault(entry, []).append(row)
        self.entries = list(groups)
        self.rows = [tuple(rows) for rows in groups.values()]
        self.starts = []
        pos = 1
        for entry in groups:
            self.starts.append(pos)
            pos += len(entry) + 1
        self.starts.append(pos)
        self.text = "\n" + "\n".join(groups) + "\n"
        # Two cheap tests that spare a full scan, which is what a miss costs: typing on past
        # the last match ("qw", "压力b") misses on every keystroke. A key starts with q only
        # if the sorted keys say so; a key contains q only if it has every pair of q's letters.
        keys = {key for entry in groups for key in entry.split("\n")}
        self.sorted_keys = sorted(keys)
        self.pairs = {key[i : i + 2] for key in keys for i in range(len(key) - 1)}

    def prefix_hits(self, q: str, limit: int) -> list[int]:
        at = bisect_left(self.sorted_keys, q)
        if at == len(self.sorted_keys) or not self.sorted_keys[at].startswith(q):
            return []
        return self._scan("\n" + q, 1, limit)

    def substring_hits(self, q: str, limit: int) -> list[int]:
        if not all(q[i : i + 2] in self.pairs for i in range(len(q) - 1)):
            return []
        return self._scan(q, 0, limit)

    def _scan(self, needle: str, skip: int, limit: int) -> list[int]:
        """Rows of the first `limit` entries containing needle, at most `limit` from each; they
        include the `limit` first matching rows of this layer. `skip` is 1 when needle starts
        with the "\\n" before a key, so that the hit is placed on the key and not before it."""
        found: list[int] = []
        find, starts, rows = self.text.find, self.starts, self.rows
        pos = find(needle)
        for _ in range(limit):
            if pos < 0:
                break
            entry = bisect_right(starts, pos + skip) - 1
            found.extend(rows[entry][:limit])
            pos = find(needle, starts[entry + 1] - 1)  # from the "\n" that opens the next entry
        return found


class SearchIndex:
    """Search over one catalogue version. Immutable once built, so it may be shared by threads."""

    def __init__(self, rows: Sequence[FeeRow], known: Mapping[str, tuple[str, ...]] | None = None):
        keys = _key_builder(known or {})
        self._rows = tuple(rows)
        names = []
        for row in self._rows:
            row_keys = [key for text in row_texts(row) for key in keys(text)]
            names.append("\n".join(dict.fromkeys(row_keys)))
        codes = [normalise_query(row.code) for row in self._rows]
        self._layers = (_Layer(names), _Layer(codes))
        exact: dict[str, set[int]] = {}
        for layer in self._layers:
            for entry, rows_of_entry in zip(layer.entries, layer.rows):
                for key in entry.split("\n"):
                    exact.setdefault(key, set()).update(rows_of_entry)
        self._exact = {key: tuple(sorted(rows_of_key)) for key, rows_of_key in exact.items()}

    def search(self, query: str, limit: int = 50) -> list[FeeRow]:
        """Rows matching the query, best first (exact key, key prefix, substring), at most limit."""
        q = normalise_query(query)
        if not q or limit <= 0:
            return []
        picked = list(self._exact.get(q, ())[:limit])
        seen = set(picked)
        for rank in (_Layer.prefix_hits, _Layer.substring_hits):
            if len(picked) >= limit:
                break
            # Each layer brings a superset of its first `limit` rows; the first `limit` rows of
            # this rank, after the ones already picked, are among their union.
            found = set()
            for layer in self._layers:
                found.update(rank(layer, q, limit))
            found -= seen
            new = sorted(found)[: limit - len(picked)]
            picked += new
            seen.update(new)
        return [self._rows[i] for i in picked]


__all__ = ["SearchIndex", "normalise_query", "row_texts", "search_keys"]
