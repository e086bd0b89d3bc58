"""A central database as an older schema left it, with its rows: what every later upgrade created
(indexes, then columns, then tables) dropped, read from the upgrades' own statements
(central/schema.py UPGRADES). For the upgrade tests (tests/central/test_read_models.py and the
backfill's) and the backfill bench: an upgrade is then run on data as an older central had it."""

from __future__ import annotations

import re


def back_to(storage, version: int) -> None:
    """Leave `storage` (central.storage.Storage) at schema `version`."""
    from central.schema import SCHEMA_VERSION, TYPES, UPGRADES

    made = [statement for v in range(version + 1, SCHEMA_VERSION + 1) for statement in UPGRADES.get(v, ())]
    found = {kind: [m.groups() for s in made for m in re.finditer(pattern, s)] for kind, pattern in (
        ("index", r"CREATE (?:UNIQUE )?INDEX (\w+)"), ("column", r"ALTER TABLE (\w+) ADD COLUMN (\w+)"),
        ("table", r"CREATE TABLE (\w+)"), ("dropped", r"ALTER TABLE (\w+) DROP COLUMN (\w+)"))}
    renamed = {m.group(1) for s in made for m in re.finditer(r"ALTER TABLE (\w+) RENAME TO", s)}
    with storage.transaction() as tx:
        for table, column in found["dropped"]:  # back as it was (schema 25 dropped ticket_state's text keys)
            _restore(tx, storage, table, column)
        if version < 26 <= SCHEMA_VERSION:  # by ticket uid again (schema 26 made them by ticket_state's id)
            for table, (columns, key, by_ticket) in BY_UID.items():
                _by_uid(tx, storage, table, columns, key, by_ticket)
            _due_item_by_uid(tx, storage)
        for (index,) in found["index"]:
            tx.execute(f"DROP INDEX IF EXISTS {index}")
        for table, column in found["column"]:
            tx.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for (table,) in found["table"]:
            if table not in renamed:  # made, filled and put in another's place (ticket_serial_26): undone above
                tx.execute(f"DROP TABLE {table}")
        # An index a later upgrade made again (dropped and created, as schema 26 the ticket list's): as
        # `version` had it.
        kept = [statement for v in range(2, version + 1) for statement in UPGRADES.get(v, ())]
        for index in dict.fromkeys(index for (index,) in found["index"]):
            earlier = [s for s in kept if re.search(rf"CREATE (?:UNIQUE )?INDEX {index}\b", s)]
            if earlier:
                tx.execute(earlier[-1].format(**TYPES[storage.dialect]))
        tx.execute("UPDATE central_meta SET value = ? WHERE key = 'schema_version'", (str(version),))


# Schema 26's tables by ticket id, as schema 25 had them: the ticket's uid, (other columns, the key's
# others) and whether an index by ticket; the key's name on PostgreSQL {table}_25_pkey (26's DROP TABLE
# removes it).
BY_UID = {"ticket_serial": (("serial_key",), ("serial_key",), True),
          "ticket_facet": (("facet", "value", "first_at"), ("facet", "value", "first_at"), True),
          "figure_ticket": (("basis", "cells"), (), False)}
# due_item as 25 had it: keyed by `item` "uid|line" (line zero-padded to 4), with the uid.
DUE_ITEM = ("CREATE TABLE due_item_25 (item TEXT PRIMARY KEY, ticket TEXT NOT NULL, line INTEGER NOT NULL, "
            "number {text_c} NOT NULL, site TEXT, code TEXT NOT NULL, serial_number TEXT NOT NULL, "
            "serial_key TEXT NOT NULL, quantity INTEGER NOT NULL, picked_up_at {ts} NOT NULL, "
            "picked_up_on TEXT NOT NULL, name_zh TEXT, name_en TEXT, cycle_months INTEGER, due_on {text_c}, "
            "latest SMALLINT NOT NULL)")


def _by_uid(tx, storage, table: str, columns: tuple[str, ...], key: tuple[str, ...], by_ticket: bool) -> None:
    kinds = {"first_at": "TIMESTAMPTZ" if storage.postgres else "TEXT"}
    typed = ", ".join(f"{c} {kinds.get(c, 'TEXT')} NOT NULL" for c in columns)
    tx.execute(f"CREATE TABLE {table}_25 ({typed}, "
               f"ticket TEXT NOT NULL, PRIMARY KEY ({', '.join((*key, 'ticket'))}))")
    tx.execute(f"INSERT INTO {table}_25 SELECT {', '.join('t.' + c for c in columns)}, s.uid FROM {table} t "
               f"JOIN ticket_state s ON s.id = t.ticket")
    tx.execute(f"DROP TABLE {table}")
    tx.execute(f"ALTER TABLE {table}_25 RENAME TO {table}")
    if by_ticket:
        tx.execute(f"CREATE INDEX {table}_ticket ON {table} (ticket)")
    if table == "ticket_facet":  # a counter by its device's uid (26: its id as text)
        tx.execute("UPDATE ticket_facet SET value = (SELECT d.uid FROM device d WHERE CAST(d.id AS TEXT) = "
                   "ticket_facet.value) WHERE facet = 'counter'")


def _due_item_by_uid(tx, storage) -> None:
    from central.readmodels.due_item import _COPIED
    from central.schema import TYPES

    tx.execute(DUE_ITEM.format(**TYPES[storage.dialect]))
    pad = "lpad(d.line::text, 4, '0')" if storage.postgres else "printf('%04d', d.line)"
    tx.execute(f"INSERT INTO due_item_25 (item, ticket, {', '.join(_COPIED)}) SELECT s.uid || '|' || {pad}, s.uid, "
               f"{', '.join('d.' + c for c in _COPIED)} FROM due_item d JOIN ticket_state s ON s.id = d.ticket")
    tx.execute("DROP TABLE due_item")
    tx.execute("ALTER TABLE due_item_25 RENAME TO due_item")
    # By ticket, which 26 dropped; its other indexes, which 26 made again, back_to makes as `version` had them.
    tx.execute("CREATE INDEX due_item_ticket ON due_item (ticket)")


def _restore(tx, storage, table: str, column: str) -> None:
    """A column a later upgrade dropped, back with the values it held: ticket_state's keys
    ("created_at|event uid", number_key ranked "0|" or "1|"), made from the events their ids name."""
    from central.readmodels.ticket_state import DEVICES, KEYS

    if table == "ticket_state" and column in DEVICES:  # a device's uid (26 holds its id)
        tx.execute(f"ALTER TABLE ticket_state ADD COLUMN {column} TEXT")
        tx.execute(f"UPDATE ticket_state SET {column} = (SELECT d.uid FROM device d WHERE d.id = {DEVICES[column]})")
        return
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
