"""The kiosk's SQLite database through peewee.

peewee imports psycopg (and psycopg2) when it is importable, for its PostgreSQL classes. The
kiosk's database is SQLite; psycopg is there only with the central extra, and loading it (its
C extension, OpenSSL, Kerberos) cost every kiosk process ~16 MB of resident memory
(bench/memory.py). So peewee is imported here with them hidden; right after, they are
importable again for whoever wants them (central imports psycopg itself, never peewee).
Everything under db/ and kiosk/store/ comes through this package before its own `import peewee`.
"""

import sys


def _import_peewee_without_postgresql() -> None:
    if "peewee" in sys.modules:
        return
    hidden = [name for name in ("psycopg", "psycopg2", "psycopg2cffi") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None: "import fails" (ImportError)
    try:
        import peewee  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_peewee_without_postgresql()
