import os

import pytest

# The app and CLI must never touch the developer's real data or config during tests.
os.environ.pop("KIOSK_CONFIG", None)
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def db(tmp_path):
    from db.connection import open_database

    database = open_database(tmp_path / "kiosk.sqlite3")
    yield database
    database.close()


@pytest.fixture
def catalog(db):
    from kiosk.store.catalog import ensure_catalog, load_catalog

    ensure_catalog()
    return load_catalog()


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """The `kiosk` command, in process: main() with stdin; (exit status, stdout, stderr)."""
    import io
    import sys

    from kiosk.cli import main

    def invoke(*argv: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(["--db", str(tmp_path / "k.sqlite3"), *argv])
        out = capsys.readouterr()
        return status, out.out, out.err

    return invoke
