"""Reading and writing a read model's rows as dicts, the same on both databases."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..storage import Storage, Tx, as_datetime, ts


class Table:
    """A read model's table: `columns` (name, PostgreSQL type) with the key first. Timestamps
    (`timestamptz`) are datetimes in Python, typed on PostgreSQL and ISO text on SQLite."""

    def __init__(self, name: str, columns: Sequence[tuple[str, str]], *, arbitrary: Sequence[str] = (),
                 conflict: Sequence[str] = ()):
        self.name = name
        self.conflict = ", ".join(conflict) or columns[0][0]  # the unique key ON CONFLICT names (the key's)
        self.arbitrary = tuple(arbitrary)  # given, not derived (ticket_state's id): not in `snapshot`
        self.columns = tuple(c for c, _ in columns)
        self.types = tuple(t for _, t in columns)
        self.key = self.columns[0]
        self._times = {c for c, t in columns if t == "timestamptz"}

    def load(self, tx: Tx, storage: Storage, keys: Sequence[str], *, lock: bool) -> dict[str, dict]:
        """The stored rows of `keys`; `lock`: held until the transaction ends (PostgreSQL locks
        them in key order, so two pushes touching the same rows take turns, never deadlock)."""
        if not keys:
            return {}
        where, params = storage.in_list(self.key, sorted(keys))
        tail = f" ORDER BY {self.key} FOR UPDATE" if lock and storage.postgres else ""
        found = {}
        for values in tx.all(f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {where}{tail}", params):
            row = dict(zip(self.columns, values))
            for column in self._times:
                row[column] = as_datetime(row[column])
            found[row[self.key]] = row
        return found

    def write(self, tx: Tx, storage: Storage, rows: list[dict], *, replace: bool, only_if: str = "") -> set[str]:
        """Insert `rows`; `replace`: over the stored ones (the caller holds their locks, or
        `only_if`, a condition on `excluded` and the stored row, decides), else only where none
        is stored yet. The keys written."""
        if not rows:
            return set()
        rows = sorted(rows, key=lambda row: row[self.key])
        if replace:
            sets = ", ".join(f"{c} = excluded.{c}" for c in self.columns[1:])
            tail = f"ON CONFLICT ({self.conflict}) DO UPDATE SET {sets}" + (f" WHERE {only_if}" if only_if else "")
        else:
            tail = f"ON CONFLICT ({self.conflict}) DO NOTHING"
        if storage.postgres:
            # One statement reading the rows as JSON objects straight into the table's row type:
            # measured cheaper than a cast per column (Storage.bulk_insert's pg_types) for rows this wide.
            cursor = tx.execute(f"INSERT INTO {self.name} SELECT * FROM json_populate_recordset(NULL::{self.name}, ?) "
                                f"{tail} RETURNING {self.key}", (msgspec.json.encode(rows).decode(),))
            return {k for (k,) in cursor.fetchall()}
        values = [[self._value(storage, c, row[c]) for c in self.columns] for row in rows]
        return {k for (k,) in storage.bulk_insert(tx, self.name, self.columns, values, tail, self.key)}

    def delete(self, tx: Tx, storage: Storage, keys: Sequence[str]) -> None:
        if keys:
            where, params = storage.in_list(self.key, sorted(keys))
            tx.execute(f"DELETE FROM {self.name} WHERE {where}", params)

    def _value(self, storage: Storage, column: str, value):
        if column in self._times and value is not None and not storage.postgres:
            return ts(value)
        return value

    def snapshot(self, tx: Tx) -> list[tuple]:
        """Every row in key order (the rebuild test compares two)."""
        compared = [c for c in self.columns if c not in self.arbitrary]
        return tx.all(f"SELECT {', '.join(compared)} FROM {self.name} ORDER BY {self.key}")
