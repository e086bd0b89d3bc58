"""The `kiosk` command: the estimate contract, and a clear message for every bad input."""

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from db.connection import LATEST
from kiosk.cli import main


def request(**fields) -> str:
    return json.dumps({"lines": [{"item": "L-001-001", "quantity": 2, "use": "other"}], **fields})


def test_estimate_prints_the_itemized_json(run):
    status, out, _ = run("estimate", stdin=request(urgent="72h"))
    assert status == 0
    data = json.loads(out)
    line = data["lines"][0]
    assert (line["code"], line["quantity"], line["unit_price_fen"], line["amount_fen"]) == ("L-001-001", 2, 3000, 6000)
    assert line["free_reason"] is None and line["regulation"].startswith("JJG 52")
    assert line["urgent_fen"] == 1800 and data["total_fen"] == 7800
    assert data["catalog_version"] == 1 and data["policy_id"] == "demo-2026"


def test_estimate_shows_free_compulsory_verification(run):
    _, out, _ = run("estimate", stdin=request().replace('"other"', '"safety"'))
    line = json.loads(out)["lines"][0]
    assert (line["amount_fen"], line["waived_fen"], line["free_reason"]) == (0, 6000, "compulsory_verification")
    # A pressure gauge is compulsory in safety protection, not in trade: charged, and why.
    _, out, _ = run("estimate", stdin=request().replace('"other"', '"trade"'))
    line = json.loads(out)["lines"][0]
    assert (line["amount_fen"], line["free_reason"], line["charge_reason"]) == (6000, None, "not_compulsory_for_use")
    _, out, _ = run("estimate", "--table", stdin=request().replace('"other"', '"trade"'))
    assert "用于贸易结算不属强制检定，按收费标准收费" in out


def test_estimate_table_in_both_languages(run):
    status, out, _ = run("estimate", "--table", stdin=request())
    assert status == 0 and "一般压力表" in out and "合计" in out and "￥60.00" in out and "以窗口确认为准" in out
    status, out, _ = run("estimate", "--table", "--lang", "en", stdin=request())
    assert "General pressure gauge" in out and "Total" in out and "counter confirms" in out


@pytest.mark.parametrize(
    "stdin, says",
    [
        ("{not json", "不是有效的 JSON"),
        ("", "不是有效的 JSON"),
        ("[]", "request: must be a JSON object"),
        ('{"lines": []}', "lines: must be a non-empty list"),
        (request().replace("L-001-001", "X-404-404"), "lines[0].item: unknown fee-standard number 'X-404-404'"),
        (request().replace('"quantity": 2', '"quantity": 0'), "lines[0].quantity: 0 is outside 1–999"),
        (request().replace('"quantity": 2', '"quantity": 100000'), "lines[0].quantity"),
        (request().replace('"other"', '"fun"'), "lines[0].use"),
        (request(urgent="1h"), "urgent: '1h' is not one of 72h, 24h, 8h"),
        (request().replace('"use"', '"colour": "red", "use"'), "unknown field(s): colour"),
    ],
)
def test_bad_estimate_requests_get_a_clear_message(run, stdin, says):
    status, out, err = run("estimate", stdin=stdin)
    assert status != 0 and out == ""
    assert says in err


def test_an_unknown_catalogue_version_is_named(run):
    status, _, err = run("estimate", "--version", "7", stdin=request())
    assert status == 1 and "there is no catalogue version 7 (latest: 1)" in err


def test_bad_json_writes_nothing(run, tmp_path):
    run("estimate", stdin="{oops")
    assert not (tmp_path / "k.sqlite3").exists()


def test_catalog_search_finds_by_pinyin_initials(run):
    status, out, _ = run("catalog", "search", "ylb")
    assert status == 0 and "一般压力表" in out and "L-001-001" in out
    status, out, err = run("catalog", "search", "zzzzqqq")
    assert status == 1 and "没有找到" in err


@pytest.mark.parametrize(
    "config, says",
    [
        ("[kiosk]\nlanguage = 'fr'\n", "kiosk.language must be one of zh, en"),
        ("[kiosk]\nlangauge = 'zh'\n", "unknown key kiosk.langauge"),
        ("[printr]\nuri = 'x'\n", "unknown section [printr]"),
        ("[printer]\nprofile = '57mm'\n", "printer.profile must be one of 58mm, 80mm"),
        ("[database]\npath = 5\n", "database.path must be a str"),
        ("[kiosk\nlanguage = 'zh'\n", "not valid TOML"),
        ("[kiosk]\ndevice_prefix = 'K-1'\n", "device_prefix must be 1–4 letters or digits"),
        ("[kiosk]\npickup_days = 0\n", "kiosk.pickup_days must be 1–365 days, not 0"),
        ("[kiosk]\ncorrection_days = 0\n", "kiosk.correction_days must be 1–30 working days, not 0"),
        # the built-in policy charges storage after 30 days: a pickup period of 20 would disagree
        ("[kiosk]\npickup_days = 20\n", "kiosk.pickup_days is 20 but the pricing policy charges storage after 30"),
    ],
)
def test_bad_config_file_gets_a_clear_message(tmp_path, capsys, config, says):
    path = tmp_path / "kiosk.toml"
    path.write_text(config, encoding="utf-8")
    assert main(["--config", str(path), "db", "status"]) == 1
    err = capsys.readouterr().err
    assert says in err and str(path) in err and "配置文件有误" in err
    assert not (tmp_path / "data").exists(), "nothing may be written on a bad config"


def test_the_pickup_period_is_the_one_the_policy_charges_storage_after(tmp_path):
    from kiosk.settings.config import load_config

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"id": "p", "urgent_percent": {"72h": 30, "24h": 100, "8h": 150},
                                  "storage": {"tiers": [{"after_days": 14, "percent_per_day": 1}]}}), "utf-8")
    path = tmp_path / "kiosk.toml"
    path.write_text("[pricing]\npolicy = 'policy.json'\n", encoding="utf-8")
    assert load_config(path).pickup_days == 14  # overdue on the work list the day storage starts


def test_config_file_sets_database_and_language(tmp_path, capsys, monkeypatch):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nlanguage = 'en'\ndevice_prefix = 'b7'\n[database]\npath = 'site.sqlite3'\n")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert main(["db", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["database"] == str(tmp_path / "site.sqlite3")
    assert status["device"]["prefix"] == "B7" and status["schema_version"] == LATEST


def test_a_database_from_a_newer_kiosk_is_refused(run, tmp_path):
    conn = sqlite3.connect(tmp_path / "k.sqlite3")
    conn.execute(f"PRAGMA user_version = {LATEST + 3}")
    conn.close()
    status, _, err = run("db", "status")
    assert status == 1 and "数据库无法使用" in err and "newer version" in err


def test_python_dash_m_kiosk_works(tmp_path):
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "kiosk", "estimate"], input=request(), capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_fen"] == 6000


@pytest.mark.parametrize("text, says", [
    ("[name]\nzh = '院'\n", "[name]: needs both zh and en text"),
    ("[name\n", "not valid TOML"),
])
def test_a_broken_institute_file_is_named_before_the_kiosk_starts(tmp_path, capsys, text, says):
    info = tmp_path / "institute.toml"
    info.write_text(text, encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[kiosk]\ninfo_file = '{info}'\n", encoding="utf-8")
    assert main(["--config", str(config), "run"]) == 1
    err = capsys.readouterr().err
    assert says in err and str(info) in err


def _register_one(tmp_path) -> str:
    from db.connection import open_database
    from kiosk.domain.fees import LineRequest, default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import (
        CustomerDetails,
        InstrumentLine,
        Registration,
        ensure_device,
        register,
    )

    db = open_database(tmp_path / "k.sqlite3")
    ensure_catalog()
    reg = Registration(CustomerDetails("示范燃气有限公司", "", "", "李工", "13812345678"),
                       (InstrumentLine(LineRequest("L-001-001", use="safety")),))
    number = register(reg, load_catalog(), default_policy(), ensure_device("K1")).number
    db.close()
    return number


def test_reprint_prints_a_stored_ticket_again(run, tmp_path):
    number = _register_one(tmp_path)
    status, out, _ = run("reprint", number.lower())  # its receipt had not printed: that job, now
    assert status == 0 and f"已打印受理单 {number}：用的是还没打印出来的打印任务 1" in out
    status, out, _ = run("reprint", number.lower())  # it has: a copy (tests/test_reprint.py)
    assert status == 0 and f"已补打受理单 {number}" in out
    receipts = tmp_path / "data" / "receipts"
    assert number in (receipts / f"{number}-2.txt").read_text("utf-8")


def test_reprint_of_an_unknown_ticket_or_on_a_dead_printer_says_so(run, tmp_path):
    import socket

    number = _register_one(tmp_path)
    status, _, err = run("reprint", "K9-000000-0000")
    assert status == 1 and "没有这个受理号" in err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[printer]\nuri = 'tcp://127.0.0.1:{port}?timeout=1'\n", "utf-8")
    status, _, err = run("--config", str(config), "reprint", number, "--lang", "en")
    assert status == 1 and "The printer is off or not connected" in err and "the kiosk will retry" in err
    jobs = sqlite3.connect(tmp_path / "k.sqlite3").execute("SELECT state, lang FROM print_job ORDER BY id").fetchall()
    assert jobs == [("failed", "en")]  # the receipt's own job, in the language asked: kept for the kiosk to retry
