"""INSERTs whose SQL is built once per model and column set, then only bound.

peewee regenerates an INSERT's SQL on every call; for the six statements of a
registration that generation cost about four times the commit itself, fsync included
(bench/registration.py). The statement still comes from the model's metadata (table,
column names) and each value goes through its field's `db_value`, as peewee would do.
"""

from __future__ import annotations

from functools import lru_cache

from peewee import Field, Model

from .models import database_proxy


@lru_cache(maxsize=64)
def _statement(model: type[Model], names: tuple[str, ...]) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(model._meta.fields[name] for name in names)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join("?" * len(fields))
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})', fields


def insert(model: type[Model], **values) -> int:
    """Insert one row; returns its rowid."""
    sql, fields = _statement(model, tuple(values))
    params = [f.db_value(v) for f, v in zip(fields, values.values())]
    return database_proxy.execute_sql(sql, params).lastrowid


def insert_many(model: type[Model], rows: list[dict]) -> None:
    """Insert rows that all have the same keys, in one executemany."""
    if not rows:
        return
    sql, fields = _statement(model, tuple(rows[0]))
    database_proxy.cursor().executemany(sql, [[f.db_value(v) for f, v in zip(fields, row.values())] for row in rows])
