"""Storage of the domain's facts through peewee (db/): one owner per fact."""

import db  # noqa: F401  # first: peewee imported without psycopg (db/__init__.py)
