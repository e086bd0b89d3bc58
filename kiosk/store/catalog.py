"""Catalogue versions in the database: import (one transaction), load, export.

Versions are never changed or deleted: a ticket records the version it was priced with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

from db.models import CatalogVersion, FeeItem, PricedRow, SearchKey, database_proxy, utc_now
from kiosk.domain.catalog import CatalogError, FeeRow, Problem, parse_csv, to_csv

DEMO_SOURCE = "demo"
_ROW_COLUMNS = (
    "code", "service", "spec_zh", "spec_en", "accuracy_class", "unit", "price_fen", "min_fen",
    "per_point_fen", "points_included", "per_range_fen", "ranges_included", "per_metre_fen",
    "metres_included", "ac_dc_percent", "regulation", "cycle_months", "compulsory_uses", "supervision",
    "turnaround_days", "urgent_allowed",
)


@dataclass(frozen=True)
class LoadedCatalog:
    """One catalogue version in memory: what the estimate engine and the search read."""

    version: int
    rows: tuple[FeeRow, ...]  # in published order
    by_code: dict[str, FeeRow]
    row_ids: dict[str, int]  # code -> priced_row.id, for ticket lines

    @cached_property
    def content_hash(self) -> bytes:
        """kiosk/domain/fingerprint.py catalog_hash of its rows: what a ticket code names it by.
        Computed once per load (~1 ms for the demo's rows), never stored: nothing to migrate or drift."""
        from kiosk.domain.fingerprint import catalog_hash

        return catalog_hash(self.rows)


def demo_csv() -> str:
    return resources.files("db").joinpath("seed/demo_catalog.csv").read_text("utf-8")


def _group_items(rows: list[FeeRow], source: str) -> dict[str, tuple[str, list[str]]]:
    """name_zh -> (name_en, aliases union). One instrument has one English name."""
    items: dict[str, tuple[str, list[str]]] = {}
    problems = []
    for row in rows:
        name_en, aliases = items.setdefault(row.name_zh, (row.name_en, []))
        if name_en != row.name_en:
            problems.append(Problem(source, 0, "英文名称",
                                    f"{row.code}: {row.name_zh} is {name_en!r} elsewhere, {row.name_en!r} here"))
        aliases.extend(a for a in row.aliases if a not in aliases)
    if problems:
        raise CatalogError(problems)
    return items


def search_keys_for(rows) -> dict[str, tuple[str, ...]]:
    """The stored search keys of the rows' texts; those missing are computed and stored.

    A catalogue imported by this version has them all, so the kiosk never loads pypinyin;
    one imported before schema 3 gets them on its first load.
    """
    from kiosk.domain.search import row_texts, search_keys

    texts = {text for row in rows for text in row_texts(row)}
    known: dict[str, tuple[str, ...]] = {}
    for chunk in _chunks(sorted(texts), 500):
        for stored in SearchKey.select().where(SearchKey.text.in_(chunk)):
            known[stored.text] = tuple(stored.keys.split("\n"))
    missing = [{"text": text, "keys": "\n".join(search_keys(text))} for text in sorted(texts - set(known))]
    if missing:
        with database_proxy.atomic():
            for chunk in _chunks(missing, 200):
                SearchKey.insert_many(chunk).on_conflict_ignore().execute()
        known.update((m["text"], tuple(m["keys"].split("\n"))) for m in missing)
    return known


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def import_rows(rows: list[FeeRow], source: str) -> int:
    """Store rows as a new catalogue version, all or nothing. Returns the version number."""
    items = _group_items(rows, source)
    digest = hashlib.sha256(to_csv(rows).encode("utf-8")).hexdigest()
    with database_proxy.atomic():
        search_keys_for(rows)  # with the version: pinyin is computed here, once
        version = CatalogVersion.create(source=source, sha256=digest, row_count=len(rows), imported_at=utc_now())
        item_ids = {}
        for name_zh, (name_en, aliases) in items.items():
            item_ids[name_zh] = FeeItem.create(
                version=version, name_zh=name_zh, name_en=name_en, aliases="、".join(aliases)
            ).id
        batch = [
            {"version": version.id, "item": item_ids[row.name_zh], "position": i,
             **{c: getattr(row, c) for c in _ROW_COLUMNS}}
            for i, row in enumerate(rows)
        ]
        for chunk in _chunks(batch, 200):
            PricedRow.insert_many(chunk).execute()
    return version.id


def import_csv(text: str, source: str) -> int:
    return import_rows(parse_csv(text, source), source)


def latest_version() -> int | None:
    latest = CatalogVersion.select().order_by(CatalogVersion.id.desc()).first()
    return latest.id if latest else None


def ensure_catalog() -> int:
    """First start: the demo catalogue becomes version 1, so the kiosk works out of the box."""
    with database_proxy.atomic():
        version = latest_version()
        if version is None:
            version = import_csv(demo_csv(), DEMO_SOURCE)
    return version


def load_catalog(version: int | None = None) -> LoadedCatalog:
    version = version or latest_version()
    if version is None:
        raise LookupError("no catalogue has been imported")
    if CatalogVersion.get_or_none(CatalogVersion.id == version) is None:
        raise LookupError(f"there is no catalogue version {version} (latest: {latest_version()})")
    query = (
        PricedRow.select(PricedRow, FeeItem)
        .join(FeeItem)
        .where(PricedRow.version == version)
        .order_by(PricedRow.position)
    )
    rows, ids = [], {}
    for r in query:
        aliases = tuple(a for a in r.item.aliases.split("、") if a)
        rows.append(FeeRow(name_zh=r.item.name_zh, name_en=r.item.name_en, aliases=aliases,
                           **{c: getattr(r, c) for c in _ROW_COLUMNS}))
        ids[r.code] = r.id
    return LoadedCatalog(version, tuple(rows), {row.code: row for row in rows}, ids)


def export_csv(version: int | None = None) -> str:
    return to_csv(list(load_catalog(version).rows))
