"""`kiosk central ...` in process: the commands, their messages (zh, en), their failures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid

import pytest

from kiosk.cli import main
from kiosk.store.catalog import demo_csv

from .nodes import signed_enrolment


@pytest.fixture
def central(tmp_path, capsys):
    """kiosk central ARGS on an SQLite file of its own: (status, stdout, stderr)."""
    db = str(tmp_path / "central.sqlite3")

    def invoke(*argv: str, lang: str = "zh", db_args: tuple = ("--db", db)):
        config = tmp_path / f"{lang}.toml"
        config.write_text(f'[kiosk]\nlanguage = "{lang}"\n', "utf-8")
        command, *rest = argv
        sub = [command, *rest[:1]] if command == "catalog" else [command]
        tail = rest[1:] if command == "catalog" else rest
        status = main(["--config", str(config), "central", *sub, *db_args, *tail])
        out = capsys.readouterr()
        return status, out.out, out.err

    invoke.db = db
    return invoke


def test_add_device_enrol_list_and_revoke(central):
    status, out, err = central("add-device", "--role", "kiosk", "--name", "大厅1号机")
    code = out.strip()
    assert status == 0 and len(code) == 19 and "kiosk enroll" in err and "7天内有效" in err
    from central.devices import enroll
    from central.schema import open_storage

    storage = open_storage(f"sqlite:///{central.db}")
    uid = str(uuid.uuid4())
    enroll(storage, **signed_enrolment(code, uid, "K1"))
    status, out, _ = central("devices", "--json")
    listed = json.loads(out)
    assert status == 0 and [(d["uid"], d["name"], d["role"], d["prefix"]) for d in listed] == [
        (uid, "大厅1号机", "kiosk", "K1")]
    assert central("revoke-device", uid)[:2] == (0, f"已停用设备 {uid}，它的令牌已失效\n")
    status, _, err = central("revoke-device", uid)
    assert status == 1 and "没有这个在用的设备" in err
    storage.close()


def test_messages_in_english(central):
    status, _, err = central("add-device", "--role", "clerk", lang="en")
    assert status == 0 and "Enrolment code (clerk, site main, valid 7 days, once)" in err
    assert central("devices", lang="en")[2] == "No devices enrolled yet\n"


def test_catalog_import_and_its_refusals(central, tmp_path):
    table = tmp_path / "fees.csv"
    table.write_bytes(demo_csv().encode("utf-8-sig"))  # as Excel writes it
    assert central("catalog", "import", str(table))[:2] == (0, "已导入收费目录第1版：167行\n")
    assert central("catalog", "import", str(table))[:2] == (0, "与第1版内容相同，未新建版本\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(demo_csv().replace(",检定,", ",检验,", 1), "utf-8")
    status, _, err = central("catalog", "import", str(bad))
    assert status == 1 and "收费目录文件有误，未导入任何内容" in err and "bad.csv:2" in err
    status, _, err = central("catalog", "import", str(tmp_path / "missing.csv"))
    assert status == 1 and "找不到文件" in err


def test_office_token_prints_a_new_token_each_time(central):
    first, second = central("office-token")[1].strip(), central("office-token")[1].strip()
    assert len(first) >= 43 and first != second


def test_a_missing_extra_is_named_with_how_to_install_it(central, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    status, _, err = central("serve")
    assert status == 1 and "uvicorn" in err and "pip install 'metrology-kiosk[central]'" in err


def test_an_unreachable_postgresql_is_said_plainly(central):
    status, _, err = central("devices", db_args=("--database-url", "postgresql://postgres@127.0.0.1:1/none"))
    assert status == 1 and "中心数据库无法使用" in err and "127.0.0.1" in err


def test_sqlite_refuses_several_workers(central):
    status, _, err = central("serve", "--workers", "2")
    assert status == 1 and "PostgreSQL" in err


def test_postgresql_through_database_url(central, pg_schema_url):
    assert central("add-device", "--role", "clerk", db_args=("--database-url", pg_schema_url))[0] == 0
    status, out, _ = central("devices", "--json", db_args=("--database-url", pg_schema_url))
    assert status == 0 and json.loads(out) == []


def test_help_and_a_lazy_import(capsys):
    with pytest.raises(SystemExit) as done:
        main(["central", "--help"])
    assert done.value.code == 0 and "add-device" in capsys.readouterr().out
    probe = "import sys, kiosk.cli; print(sorted(m for m in ('central', 'fastapi', 'uvicorn', 'psycopg') " \
            "if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
