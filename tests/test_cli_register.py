"""`kiosk register`: a phone or batch order on stdin becomes a stored, printed, signed ticket, priced
as `kiosk estimate` prices it; a bad order is refused, naming the field, and nothing is stored."""

import json
import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.escpos_stream import parse, qr_stores, text_runs

# The phone as a Chinese IME types it: full-width digits and dashes, folded as the kiosk folds them.
CUSTOMER = {"organisation": "示范燃气有限公司", "contact": "李工", "phone": "１３８-１２３４-５６７８"}


@pytest.fixture
def kiosk(tmp_path):
    """The real command in its own process, on a database in tmp_path (the data directory is the
    tests' own: conftest.isolated_dirs); (exit status, stdout, stderr)."""

    def invoke(*argv: str, stdin) -> tuple[int, str, str]:
        text = stdin if isinstance(stdin, str) else json.dumps(stdin, ensure_ascii=False)
        done = subprocess.run([sys.executable, "-m", "kiosk", "--db", str(tmp_path / "k.sqlite3"), *argv],
                              input=text, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)
        return done.returncode, done.stdout, done.stderr

    return invoke


@pytest.fixture
def rows(tmp_path):
    """Fee rows of the node's first-start catalogue: one priced by points, one free under some use."""
    from db.connection import open_database
    from kiosk.domain.fees import USES, is_free
    from kiosk.store.catalog import ensure_catalog, load_catalog

    db = open_database(tmp_path / "k.sqlite3")
    ensure_catalog()
    catalog = load_catalog()
    db.close()
    by_points = next(r for r in catalog.rows if r.per_point_fen is not None and r.price_fen is not None)
    free = next((r, use) for r in catalog.rows for use in USES if is_free(r, r.service, use))
    return by_points, free


def order(rows, **fields) -> dict:
    by_points, (free, use) = rows
    return {"lines": [{"item": "L-001-001", "quantity": 2, "serial_number": "A-1"},
                      {"item": by_points.code, "points": by_points.points_included + 3},
                      {"item": free.code, "use": use}],
            "urgent": "24h", "customer": CUSTOMER, **fields}


def tickets(tmp_path) -> list[tuple]:
    path = tmp_path / "k.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT number, total_fen, code FROM ticket").fetchall()


def test_an_order_is_stored_printed_and_signed_at_the_estimates_total(kiosk, rows, tmp_path):
    from db.connection import open_database
    from kiosk.domain.ticketcode import decode
    from kiosk.store.keys import keys_for

    the_order = order(rows)
    status, out, err = kiosk("register", stdin=the_order)
    assert status == 0, err
    ticket = json.loads(out)
    request = {"lines": [_without(line, "serial_number") for line in the_order["lines"]], "urgent": "24h"}
    status, out, err = kiosk("estimate", stdin=request)  # the request without what only a ticket keeps
    assert status == 0, err
    estimated = json.loads(out)
    assert ticket["total_fen"] == estimated["total_fen"] > 0
    assert [ln["amount_fen"] for ln in ticket["estimate"]["lines"]] == [ln["amount_fen"] for ln in estimated["lines"]]
    assert ticket["estimate"]["lines"][2]["free_reason"] and ticket["estimate"]["lines"][1]["addons"]

    # In the database: the ticket, its customer as the kiosk cleans it, its line texts, one outbox event.
    with sqlite3.connect(tmp_path / "k.sqlite3") as conn:
        assert tickets(tmp_path) == [(ticket["number"], ticket["total_fen"], ticket["code"])]
        assert conn.execute("SELECT organisation, contact, phone FROM customer").fetchall() == [
            ("示范燃气有限公司", "李工", "13812345678")]
        assert conn.execute("SELECT serial_number FROM ticket_line ORDER BY position").fetchall()[0] == ("A-1",)
        assert conn.execute("SELECT kind FROM outbox_event").fetchall() == [("ticket.registered",)]
        assert conn.execute("SELECT state FROM print_job").fetchall() == [("printed",)]

    # The code verifies with this device's key and carries the same ticket and total.
    db = open_database(tmp_path / "k.sqlite3")
    try:
        record = decode(ticket["code"], keys_for)
    finally:
        db.close()
    assert (record.number, record.ticket_uid, record.total_fen) == (ticket["number"], ticket["uid"],
                                                                     ticket["total_fen"])

    # The receipt went to the configured printer (the default preview://receipts): ESC/POS bytes
    # with the number and, in its QR, the code.
    receipt = parse((tmp_path / "data" / "receipts" / f"{ticket['number']}-{ticket['print_job']}.bin").read_bytes())
    assert any(ticket["number"].encode() in run for run in text_runs(receipt))
    assert qr_stores(receipt) == [ticket["code"].encode("ascii")]
    assert ticket["printed"] is True


def test_a_dead_printer_keeps_the_job_and_says_so_but_the_ticket_is_stored(kiosk, rows, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[printer]\nuri = 'tcp://127.0.0.1:{port}?timeout=1'\n", "utf-8")
    status, out, err = kiosk("--config", str(config), "register", "--lang", "en", stdin=order(rows))
    assert status == 0
    ticket = json.loads(out)
    assert ticket["printed"] is False
    assert f"Registered {ticket['number']}, but its receipt did not print" in err and "kiosk will retry" in err
    assert [number for number, *_ in tickets(tmp_path)] == [ticket["number"]]
    with sqlite3.connect(tmp_path / "k.sqlite3") as conn:
        assert conn.execute("SELECT state FROM print_job").fetchall() == [("failed",)]  # the kiosk retries it


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


@pytest.mark.parametrize("change, zh, en", [
    (lambda o: "{not json", "不是有效的 JSON", "Not valid JSON"),
    (lambda o: _without(o, "customer"), "customer: 必填", "customer: Required"),
    (lambda o: {**o, "customer": {**CUSTOMER, "organisation": "　 "}},
     "customer.organisation (送检单位): 必填", "customer.organisation (Organisation): Required"),
    (lambda o: {**o, "customer": {**CUSTOMER, "phone": "12345"}},
     "customer.phone (联系电话): 请输入正确的手机号或座机号", "customer.phone (Phone): Enter a valid mobile"),
    (lambda o: {**o, "customer": {**CUSTOMER, "email": "x@y"}}, "customer: 不认识的字段：email",
     "customer: unknown field(s): email"),
    (lambda o: {**o, "lines": [{"item": "L-001-001", "model": 3}]}, "lines[0].model: 应为文字",
     "lines[0].model: must be text"),
    (lambda o: {**o, "lines": [{"item": "X-404-404"}]}, "lines[0].item: unknown fee-standard number",
     "lines[0].item"),
    (lambda o: {**o, "lines": [{"item": "L-001-001", "quantity": "０"}]}, "lines[0].quantity", "lines[0].quantity"),
    (lambda o: {**o, "lines": [{"item": "L-001-001", "serial_number": "\u202eA"}]}, "lines[0].serial_number",
     "lines[0].serial_number"),
    (lambda o: {**o, "certificate_name": "院" * 101}, "certificate_name (证书单位名称): 最多100个字",
     "certificate_name (Name on certificate): At most 100"),
    (lambda o: {**o, "pickup": "post"}, "customer.address (邮寄地址): 必填", "customer.address (Address): Required"),
])
def test_a_bad_order_names_the_field_and_stores_nothing(kiosk, rows, tmp_path, change, zh, en):
    for lang, says, headline in (("zh", zh, "未登记"), ("en", en, "nothing was stored")):
        status, out, err = kiosk("register", "--lang", lang, stdin=change(order(rows)))
        assert status == 1 and out == ""
        assert says in err and (headline in err or "JSON" in says), err
    assert tickets(tmp_path) == []
    assert not (tmp_path / "data" / "receipts").exists()
