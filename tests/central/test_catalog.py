"""Catalogues: checked whole, stored atomically with their one feed change, deduplicated."""

from __future__ import annotations

import hashlib

import pytest

from central import feed
from central.catalog import import_catalog
from kiosk.domain.catalog import CatalogError, parse_csv, to_csv
from kiosk.store.catalog import demo_csv


def rows(storage, table):
    with storage.read() as tx:
        return tx.one(f"SELECT count(*) FROM {table}")[0]


def test_an_import_is_one_version_and_one_change_and_the_same_table_again_is_not_new(storage):
    first = import_catalog(storage, demo_csv(), "demo.csv")
    assert first.new and first.version == 1 and first.rows == 167
    assert first.sha256 == hashlib.sha256(to_csv(parse_csv(demo_csv())).encode()).hexdigest()  # as the kiosk
    again = import_catalog(storage, "\ufeff" + demo_csv(), "copy.csv")  # same table, other file
    assert (again.new, again.version) == (False, 1)
    assert (rows(storage, "catalog_version"), rows(storage, "feed")) == (1, 1)
    changed = demo_csv().replace(",块,30.00,", ",块,31.00,", 1)
    assert changed != demo_csv()
    assert import_catalog(storage, changed, "2027.csv").version == 2
    assert rows(storage, "feed") == 2


def test_a_bad_table_writes_nothing_and_names_every_bad_row(storage):
    lines = demo_csv().splitlines()
    lines[3] = lines[3].replace("检定", "检验", 1)
    lines[7] = "X-1," + lines[7].split(",", 1)[1]
    with pytest.raises(CatalogError) as refused:
        import_catalog(storage, "\n".join(lines), "bad.csv")
    assert "bad.csv:4" in str(refused.value) and "bad.csv:8" in str(refused.value)
    assert (rows(storage, "catalog_version"), rows(storage, "feed")) == (0, 0)


def test_two_english_names_for_one_instrument_are_refused_as_the_kiosk_would(storage):
    table = parse_csv(demo_csv())
    twin = next(r for r in table[1:] if r.name_zh == table[0].name_zh)
    text = demo_csv().replace(f"{twin.code},{twin.name_zh},{twin.name_en}",
                              f"{twin.code},{twin.name_zh},Another name", 1)
    with pytest.raises(CatalogError, match="Another name"):
        import_catalog(storage, text, "twin.csv")


def test_a_version_and_its_change_are_written_together_or_not_at_all(storage, monkeypatch):
    def broken(tx, pending):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(feed, "_write", broken)
    with pytest.raises(RuntimeError):
        import_catalog(storage, demo_csv(), "demo.csv")
    assert (rows(storage, "catalog_version"), rows(storage, "feed")) == (0, 0)
