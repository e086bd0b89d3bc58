"""A query's rows as plain tuples, typed as what they are; peewee's errors for statements bound on
the connection itself.

peewee's stubs type `query.tuples()` as the query itself, so iterating a model's select after it
claims model instances where peewee yields tuples; read through `tuples()` here instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import peewee
from peewee import BaseQuery

# Around statements bound straight on the sqlite3 connection (a registration's, kiosk/store/
# registration.py): sqlite3's errors raised as peewee's (IntegrityError...), as `execute_sql` raises
# them. peewee's own context manager, which its stubs do not name.
peewee_errors: AbstractContextManager[None] = vars(peewee)["__exception_wrapper__"]


def tuples(query: BaseQuery) -> Iterator[tuple[Any, ...]]:
    """Each row of `query` as a tuple of its selected columns, in order."""
    return iter(query.tuples())
