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
        ("table", r"CREATE TABLE (\w+)"), ("dropped", r"ALTER TABLE (\w+) DROP COLUMN (\w+)"))}
    with storage.transaction() as tx:
        for table, column in found["dropped"]:  # back as it was (schema 25 dropped ticket_state's text keys)
            _restore(tx, storage, table, column)
        for (index,) in found["index"]:
            tx.execute(f"DROP INDEX IF EXISTS {index}")
        for table, column in found["column"]:
            tx.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for (table,) in found["table"]:
            tx.execute(f"DROP TABLE {table}")
        tx.execute("UPDATE central_meta SET value = ? WHERE key = 'schema_version'", (str(version),))


def _restore(tx, storage, table: str, column: str) -> None:
    """A column a later upgrade dropped, back with the values it held: ticket_state's keys
    ("created_at|event uid", number_key ranked "0|" or "1|"), made from the events their ids name."""
    from central.readmodels.ticket_state import KEYS

    if table != "ticket_state" or column not in KEYS:
        raise ValueError(f"{table}.{column}: no way back known")
    tx.execute(f"ALTER TABLE ticket_state ADD COLUMN {column} TEXT")
    rows = tx.all(f"SELECT s.uid, e.created_at, e.uid, e.status FROM ticket_state s JOIN event e "
                  f"ON e.id = s.{KEYS[column]}")
    from central.readmodels.stored import key
    from central.storage import as_datetime

    for ticket, created_at, uid, status in rows:
        text = key(as_datetime(created_at), uid)
        if column == "number_key":
            text = ("0|" if status == 0 else "1|") + text
        tx.execute(f"UPDATE ticket_state SET {column} = ? WHERE uid = ?", (text, ticket))
