"""INSERTs whose SQL is built once per model and column set, then only bound.

peewee regenerates an INSERT's SQL on every call; for the six statements of a
registration that generation cost about four times the commit itself, fsync included
(bench/registration.py). The statement still comes from the model's metadata (table,
column names) and each value goes through its field's `db_value`, as peewee would do,
except where that call is known to return the value unchanged (below).
"""

from __future__ import annotations

from functools import lru_cache

from peewee import AutoField, BooleanField, CharField, Field, ForeignKeyField, IntegerField, Model, TextField

from .models import database_proxy

# peewee's db_value for these exact field classes is `None if value is None else adapt(value)`, and their adapt
# is int(), str() or bool(): a value already of that exact type (or None) goes in as it is. Skipping the two
# calls per value is about a tenth of a registration's commit without fsync (bench/registration.py).
# Subclasses are not listed: they may convert (UtcDateTimeField turns a datetime into ISO text).
_AS_IS = {AutoField: int, IntegerField: int, BooleanField: bool, CharField: str, TextField: str}
_NONE = type(None)


def _as_is(field: Field) -> tuple[type, ...]:
    """The exact value types `field.db_value` returns unchanged; () when not known."""
    if type(field) is ForeignKeyField:  # an id (not a model instance) goes through the referenced key's field
        field = field.rel_field
    plain = _AS_IS.get(type(field))
    return (plain, _NONE) if plain else ()


@lru_cache(maxsize=64)
def _statement(model: type[Model], names: tuple[str, ...]) -> tuple[str, tuple[tuple[Field, tuple[type, ...]], ...]]:
    fields = tuple(model._meta.fields[name] for name in names)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join("?" * len(fields))
    return (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})',
            tuple((f, _as_is(f)) for f in fields))


def _params(fields: tuple[tuple[Field, tuple[type, ...]], ...], values) -> list:
    return [v if type(v) in as_is else f.db_value(v) for (f, as_is), v in zip(fields, values)]


def insert(model: type[Model], **values) -> int:
    """Insert one row; returns its rowid."""
    sql, fields = _statement(model, tuple(values))
    return database_proxy.execute_sql(sql, _params(fields, values.values())).lastrowid


def insert_many(model: type[Model], rows: list[dict]) -> None:
    """Insert rows that all have the same keys, in one executemany."""
    if not rows:
        return
    sql, fields = _statement(model, tuple(rows[0]))
    database_proxy.cursor().executemany(sql, [_params(fields, row.values()) for row in rows])
