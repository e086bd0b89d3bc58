"""Compulsory by instrument *and* use (issue 18, item 2): 《实施强制管理的计量器具目录》
(2019年第48号, adjusted 2020年第42号) names per item the uses that make its verification
compulsory, and so free (财税〔2017〕20号). A balance is free in trade, a pressure gauge in safety
protection, a blood-pressure meter in medical care; each is charged, with the reason said, for
any other use. The demo catalogue carries those uses; the upgrade keeps what stored rows meant."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from importlib.resources import files

import pytest

from kiosk.domain.catalog import parse_csv
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.domain.vocabulary import USES
from kiosk.i18n.estimate_text import format_estimate

DEMO = {row.code: row for row in parse_csv((files("db") / "seed" / "demo_catalog.csv").read_text("utf-8"))}
BALANCE, GAUGE, BP_METER = "Z-001-003", "L-001-001", "Y-001-001"  # 电子天平 ≤1kg II级, 一般压力表, 汞柱式血压计

# Where the catalogue makes each free, written out: a change to the demo rows shows up here.
FREE_FOR = {
    BALANCE: {"trade", "medical"},  # non-automatic weighing: trade settlement, and medical care
    GAUGE: {"safety"},  # pressure gauges: safety protection
    BP_METER: {"medical"},  # blood-pressure meters: medical care
}


def priced(code: str, use: str, quantity: int = 1):
    (line,) = estimate(EstimateRequest((LineRequest(code, quantity=quantity, use=use),)), DEMO,
                       default_policy()).lines
    return line


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize("code", list(FREE_FOR), ids=["balance", "pressure gauge", "blood-pressure meter"])
def test_each_instrument_under_each_use_is_free_exactly_where_the_catalogue_says(code, use):
    row = DEMO[code]
    assert row.service == "verification" and row.compulsory_uses == FREE_FOR[code]
    assert row.supervision == "P+V"
    line = priced(code, use, quantity=7)
    if use in FREE_FOR[code]:
        assert (line.amount_fen, line.waived_fen) == (0, 7 * row.price_fen)
        assert (line.free_reason, line.charge_reason) == ("compulsory_verification", None)
    else:
        assert (line.amount_fen, line.waived_fen) == (7 * row.price_fen, 0)
        assert (line.free_reason, line.charge_reason) == (None, "not_compulsory_for_use")


def test_the_seven_balances_of_the_issue_are_charged_for_safety():
    """安全防护 made seven electronic balances free (￥1,400 waived): no longer."""
    row = DEMO["Z-001-004"]
    assert priced(row.code, "safety", 7).amount_fen == 7 * row.price_fen > 0
    assert priced(row.code, "trade", 7).amount_fen == 0


def test_the_estimate_names_the_use_that_makes_it_free_and_why_another_is_charged():
    lines = (LineRequest(BALANCE, use="trade"), LineRequest(BALANCE, use="safety"), LineRequest(GAUGE, use="other"))
    est = estimate(EstimateRequest(lines), DEMO, default_policy())
    zh, en = format_estimate(est, "zh"), format_estimate(est, "en")
    assert "强制检定免费（贸易结算）" in zh and "Free: compulsory verification (trade settlement)" in en
    assert "用于安全防护不属强制检定，按收费标准收费" in zh
    assert "Not compulsory for this use (safety protection): charged" in en
    assert "用于其他不属强制检定" in zh and "Not compulsory for this use (other): charged" in en
    assert est.total_fen == DEMO[BALANCE].price_fen + DEMO[GAUGE].price_fen


def test_a_row_outside_the_catalogue_has_no_reason_to_give():
    caliper = DEMO["C-001-001"]  # 游标卡尺: verification, not in the compulsory catalogue
    assert not caliper.compulsory_uses and not caliper.supervision
    line = priced(caliper.code, "trade")
    assert line.amount_fen == caliper.price_fen and line.charge_reason is None and line.free_reason is None


# ---- the desk: a use corrected at intake is priced again by the same rule --------------------------


def test_a_balance_taken_in_as_safety_is_charged_and_free_once_corrected_to_trade(catalog):
    from db.models import IntakeLine
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import Intake, price_intake, receive, ticket_summary
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register

    device = ensure_device("K1")
    customer = CustomerDetails("示范超市有限公司", "", "贵阳市", "李工", "13812345678")
    registered = register(Registration(customer, (InstrumentLine(LineRequest(BALANCE, quantity=2, use="safety")),)),
                          catalog, default_policy(), device)
    price = catalog.by_code[BALANCE].price_fen
    assert registered.estimate.total_fen == 2 * price
    assert registered.estimate.lines[0].charge_reason == "not_compulsory_for_use"

    (line,) = ticket_summary(registered.id).lines
    assert price_intake(registered.id).total_fen == 2 * price  # as registered
    corrected = Intake((replace(line, use="trade"),))
    again = price_intake(registered.id, corrected)
    assert again.amounts == (0,) and again.total_fen == 0
    assert again.estimate.lines[0].free_reason == "compulsory_verification"
    assert again.estimate.lines[0].waived_fen == 2 * price

    receive(registered.id, add_clerk("wang", "王芳", "2468"), device, corrected)
    assert [(ln.use, ln.amount_fen) for ln in IntakeLine.select()] == [("trade", 0)]


# ---- the upgrade to schema 12 -------------------------------------------------------------------


def test_the_upgrade_makes_a_stored_compulsory_row_compulsory_for_all_four_uses(tmp_path):
    """Before schema 12 a row said only 是 or 否, and 是 made verification free for any of the four
    uses: the upgrade keeps exactly that (db/migrations/m0012_compulsory_uses.py), so no ticket
    re-priced at a desk changes price with the upgrade; the catalogue's words come with the next
    table imported."""
    from db.connection import open_database, schema_version
    from kiosk.store.catalog import load_catalog

    path = tmp_path / "old.sqlite3"
    open_database(path, target=11).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO catalog_version (id, source, sha256, row_count, imported_at) "
                     "VALUES (1, 'old.csv', 'x', 2, '2026-11-24T09:00:00.000000+00:00')")
        conn.execute("INSERT INTO fee_item (id, version_id, name_zh, name_en, aliases) "
                     "VALUES (1, 1, '电子天平', 'Electronic balance', '')")
        for position, (code, compulsory) in enumerate((("Z-001-001", 1), ("Z-001-005", 0))):
            conn.execute(
                "INSERT INTO priced_row (version_id, item_id, position, code, service, spec_zh, spec_en, "
                "accuracy_class, unit, price_fen, points_included, ranges_included, metres_included, regulation, "
                "compulsory, turnaround_days, urgent_allowed) "
                "VALUES (1, 1, ?, ?, 'verification', '', '', '', '台', 20000, 0, 0, 0, 'JJG 1036', ?, 10, 1)",
                (position, code, compulsory))
    conn.close()

    db = open_database(path)
    try:
        assert schema_version(db) >= 12
        columns = {row[1] for row in db.execute_sql("PRAGMA table_info(priced_row)").fetchall()}
        assert {"compulsory_uses", "supervision"} <= columns and "compulsory" not in columns
        flagged, plain = load_catalog(1).rows
        assert flagged.compulsory_uses == {"trade", "safety", "medical", "environment"}
        assert plain.compulsory_uses == frozenset()
        assert flagged.supervision == plain.supervision == ""
        stored = db.execute_sql("SELECT compulsory_uses FROM priced_row ORDER BY position").fetchall()
        assert stored == [("trade,safety,medical,environment",), ("",)]
        rows = {r.code: r for r in (flagged, plain)}
        request = EstimateRequest((LineRequest("Z-001-001", use="safety"),))
        assert estimate(request, rows, default_policy()).total_fen == 0  # what it meant before
    finally:
        db.close()
