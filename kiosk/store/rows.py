"""A query's rows as plain tuples, typed as what they are.

peewee's stubs type `query.tuples()` as the query itself, so iterating a model's select after it
claims model instances where peewee yields tuples; read through `tuples()` here instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from peewee import BaseQuery


def tuples(query: BaseQuery) -> Iterator[tuple[Any, ...]]:
    """Each row of `query` as a tuple of its selected columns, in order."""
    return iter(query.tuples())
