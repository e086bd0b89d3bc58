"""A central database as an older schema left it, with its rows: what every later upgrade created
(indexes, then columns, then tables) dropped, read from the upgrades' own statements
(central/schema.py UPGRADES). For the upgrade tests (tests/central/test_read_models.py and the
backfill's) and the backfill bench: an upgrade is then run on data as an older central had it."""

from __future__ import annotations

import re


def back_to(storage, version: int) -> None:
    """Leave `storage` (central.storage.Storage) at schema `version`."""
    from central.schema import SCHEMA_VERSION, UPGRADES

    made = [statement for v in range(version + 1, SCHEMA_VERSION + 1) for statement in UPGRADES.get(v, ())]
    found = {kind: [m.groups() for s in made for m in re.finditer(pattern, s)] for kind, pattern in (
        ("index", r"CREATE (?:UNIQUE )?INDEX (\w+)"), ("column", r"ALTER TABLE (\w+) ADD COLUMN (\w+)"),
        ("table", r"CREATE TABLE (\w+)"))}
    with storage.transaction() as tx:
        for (index,) in found["index"]:
            tx.execute(f"DROP INDEX IF EXISTS {index}")
        for table, column in found["column"]:
            tx.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for (table,) in found["table"]:
            tx.execute(f"DROP TABLE {table}")
        tx.execute("UPDATE central_meta SET value = ? WHERE key = 'schema_version'", (str(version),))
