"""Fee catalogues on the central side: `kiosk central catalog import FILE`.

A table is checked whole with the kiosk's own parser (kiosk/domain/catalog.py, pure) before anything
is written, stored in the canonical CSV the kiosk imports (`to_csv`), and published as ONE
`catalog.version` change carrying the whole CSV: a device gets all of a version or none of
it. The same table twice (same SHA-256 of the canonical CSV, the digest the kiosk computes
too) is not a new version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kiosk.domain.catalog import CatalogError, FeeRow, Problem, parse_csv, to_csv
from kiosk.domain.clock import utc_now

from . import feed
from .readmodels import due_item
from .storage import Storage, ts


@dataclass(frozen=True)
class Imported:
    version: int
    sha256: str
    rows: int
    new: bool  # False: the same table was already a version


def _one_english_name(rows: list[FeeRow], source: str) -> None:
    """The kiosk stores one English name per instrument and refuses a table that gives two
    (kiosk/store/catalog.py): refuse it here too, rather than publish what kiosks reject."""
    names: dict[str, str] = {}
    problems = []
    for row in rows:
        first = names.setdefault(row.name_zh, row.name_en)
        if first != row.name_en:
            problems.append(Problem(source, 0, "英文名称", f"{row.code}: {row.name_zh} is {first!r} elsewhere, "
                                                          f"{row.name_en!r} here"))
    if problems:
        raise CatalogError(problems)


def import_catalog(storage: Storage, text: str, source: str) -> Imported:
    """Raises CatalogError (every bad row named) and writes nothing if the table is bad."""
    rows = parse_csv(text.removeprefix("\ufeff"), source)  # a BOM from Excel is not part of the header
    _one_english_name(rows, source)
    csv = to_csv(rows)
    digest = hashlib.sha256(csv.encode("utf-8")).hexdigest()
    try:
        with storage.transaction() as tx:
            # Look first rather than INSERT ... ON CONFLICT: a refused insert would still use
            # up an id, and version numbers with holes puzzle the people who read them.
            known = tx.one("SELECT id FROM catalog_version WHERE sha256 = ?", (digest,))
            if known is not None:
                return Imported(known[0], digest, len(rows), False)
            version = tx.one("INSERT INTO catalog_version (sha256, source, csv, row_count, imported_at) "
                             "VALUES (?, ?, ?, ?, ?) RETURNING id",
                             (digest, source[:200], csv, len(rows), ts(utc_now())))[0]
            # The due list's dates follow the latest cycles; before publishing (a push's lock order).
            due_item.reprice(tx, storage)
            feed.publish(tx, "catalog.version", catalog_id=version)
    except storage.integrity_errors:  # the same table imported at the same moment elsewhere
        with storage.read() as tx:
            return Imported(tx.one("SELECT id FROM catalog_version WHERE sha256 = ?", (digest,))[0], digest,
                            len(rows), False)
    return Imported(version, digest, len(rows), True)
