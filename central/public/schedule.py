"""The fee schedule the public site shows and prices with: central's latest catalogue version
(the one it publishes to the kiosks, central/catalog.py), searched as the kiosk searches it
(kiosk/domain/search.py: Chinese, pinyin, initials, English, aliases, fee numbers), priced by the
kiosk's own engine (kiosk/domain/fees.py) under the policy the kiosks ship with.

Built once per version (the search keys cost ~0.2 s per 170 rows with pypinyin) and shared by
every request; which version is latest is read again at most every FRESH seconds.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from functools import cached_property

from kiosk.domain.catalog import FeeRow
from kiosk.domain.fees import Policy, default_policy
from kiosk.domain.search import SearchIndex

from ..readmodels.due_item import latest_catalog
from ..storage import Storage

FRESH = 10.0
MOST_FOUND = 500  # a search's rows at most (then paginated)


@dataclass(frozen=True, eq=False)
class Schedule:
    version: int | None  # None: no catalogue published yet
    rows: tuple[FeeRow, ...]
    by_code: dict[str, FeeRow]
    index: SearchIndex
    policy: Policy

    def find(self, query: str) -> list[FeeRow]:
        """Every row for an empty query, else the kiosk's search's, best first."""
        if not query.strip():
            return list(self.rows)
        return self.index.search(query, MOST_FOUND)

    def siblings(self, row: FeeRow) -> list[FeeRow]:
        """The rows of the same instrument and band for each service (the line's service choice)."""
        return [r for r in self._bands.get((row.name_zh, row.spec_zh, row.accuracy_class), ()) if r.code != row.code]

    @cached_property
    def _bands(self) -> dict[tuple[str, str, str], list[FeeRow]]:
        bands: dict[tuple[str, str, str], list[FeeRow]] = {}
        for r in self.rows:
            bands.setdefault((r.name_zh, r.spec_zh, r.accuracy_class), []).append(r)
        return bands


# Per storage, weakly (a storage gone takes its entries): when its latest version was read, and that
# version's schedule.
_current: weakref.WeakKeyDictionary[Storage, tuple[float, Schedule]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current(storage: Storage) -> Schedule:
    with _lock:
        seen = _current.get(storage)
    if seen is not None and time.monotonic() - seen[0] < FRESH:
        return seen[1]
    with storage.read() as tx:
        version, rows = latest_catalog(tx)
    with _lock:
        seen = _current.get(storage)
        if seen is None or seen[1].version != version:
            ordered = tuple(rows.values())
            schedule = Schedule(version, ordered, dict(rows), SearchIndex(ordered), default_policy())
        else:
            schedule = seen[1]
        _current[storage] = (time.monotonic(), schedule)
    return schedule
