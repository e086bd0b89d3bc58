"""The fee estimate, as a customer at the window would check it.

Every expected amount below is computed by hand from the rules in `kiosk/domain/fees.py`
(integer fen, percentages half up) so that a change in pricing shows up here as a
number a person can re-check on paper. Rows are built inline: these tests do not
depend on the demo catalogue.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.catalog import COMPULSORY_USES, SERVICES, USES, FeeRow
from kiosk.domain.fees import (
    MAX_QUANTITY,
    URGENT_HOURS,
    URGENT_TIERS,
    Estimate,
    EstimateError,
    default_policy,
    estimate,
    percent_of,
    policy_from_dict,
    request_from_dict,
)

# The demo policy, written out here so the numbers in these tests are visible.
POLICY_DATA = {
    "id": "test-policy",
    "urgent_percent": {"72h": 30, "24h": 100, "8h": 150},
    "discounts": [
        {"id": "batch-10", "name_zh": "批量九折", "name_en": "Batch 10% off", "percent": 10,
         "min_quantity": 10},
        {"id": "calibration-batch-50", "name_zh": "校准批量八五折", "name_en": "Calibration batch 15% off",
         "percent": 15, "services": ["calibration"], "min_quantity": 50},
    ],
}
POLICY = policy_from_dict(POLICY_DATA)
NO_DISCOUNT_POLICY = policy_from_dict({**POLICY_DATA, "discounts": []})


def fee_row(code: str = "L-001-001", **kw) -> FeeRow:
    base = {"code": code, "name_zh": "一般压力表", "name_en": "Pressure gauge", "service": "verification",
            "unit": "块", "price_fen": 10_000}
    base.update(kw)
    return FeeRow(**base)


def run(rows, lines, urgent=None, policy=POLICY) -> Estimate:
    """Validate the request as the kiosk does, then price it."""
    if isinstance(rows, FeeRow):
        rows = [rows]
    data = {"lines": lines}
    if urgent is not None:
        data["urgent"] = urgent
    return estimate(request_from_dict(data), {r.code: r for r in rows}, policy)


def check_sums(e: Estimate) -> None:
    assert e.subtotal_fen == sum(ln.amount_fen or 0 for ln in e.lines)
    assert e.urgent_fen == sum(ln.urgent_fen or 0 for ln in e.lines)
    assert e.discount_fen == sum(d.amount_fen for d in e.discounts)
    assert e.total_fen == e.subtotal_fen + e.urgent_fen + e.discount_fen


# ---- 1. pricing patterns, one table ----------------------------------------------------------

PLAIN = fee_row("Z-001-001", name_zh="电子天平", name_en="Balance", unit="台", price_fen=4_500)
POINTS = fee_row("R-001-001", name_zh="温度计", name_en="Thermometer", unit="支", service="calibration",
                 price_fen=10_000, per_point_fen=1_500, points_included=5)
RANGES = fee_row("D-001-001", name_zh="数字多用表", name_en="Multimeter", unit="台", service="calibration",
                 price_fen=20_000, per_range_fen=5_000, ranges_included=1)
TAPE = fee_row("C-001-001", name_zh="钢卷尺", name_en="Steel tape", unit="把",
               price_fen=3_000, per_metre_fen=500, metres_included=5)
ACDC = fee_row("D-002-001", name_zh="电流表", name_en="Ammeter", unit="台",
               price_fen=1_001, per_range_fen=200, ranges_included=1, ac_dc_percent=50)
MINIMUM = fee_row("R-002-001", name_zh="热电偶", name_en="Thermocouple", unit="支", service="calibration",
                  price_fen=500, per_point_fen=100, points_included=0, min_fen=2_000)

# (row, line request, per-instrument amount, line amount, add-on kinds in order, minimum top-up)
PATTERNS = [
    pytest.param(PLAIN, {"quantity": 1}, 4_500, 4_500, [], None, id="plain-x1"),
    pytest.param(PLAIN, {"quantity": 3}, 4_500, 13_500, [], None, id="plain-x3"),
    pytest.param(POINTS, {"points": 8}, 14_500, 14_500, ["extra_points"], None, id="points-8-of-5-included"),
    pytest.param(POINTS, {"points": 5}, 10_000, 10_000, [], None, id="points-exactly-included"),
    pytest.param(POINTS, {"points": 3}, 10_000, 10_000, [], None, id="points-fewer-than-included"),
    pytest.param(POINTS, {}, 10_000, 10_000, [], None, id="points-not-given"),
    pytest.param(POINTS, {"points": 8, "quantity": 2}, 14_500, 29_000, ["extra_points"], None,
                 id="points-8-x2"),
    pytest.param(RANGES, {"ranges": 4}, 35_000, 35_000, ["extra_ranges"], None, id="ranges-4-of-1-included"),
    pytest.param(RANGES, {"ranges": 1}, 20_000, 20_000, [], None, id="ranges-exactly-included"),
    pytest.param(TAPE, {"metres": "7.2"}, 4_500, 4_500, ["extra_metres"], None,
                 id="metres-7.2-of-5-three-started"),
    pytest.param(TAPE, {"metres": 7.2}, 4_500, 4_500, ["extra_metres"], None, id="metres-json-number-7.2"),
    pytest.param(TAPE, {"metres": "7"}, 4_000, 4_000, ["extra_metres"], None, id="metres-7-two-whole"),
    pytest.param(TAPE, {"metres": "5"}, 3_000, 3_000, [], None, id="metres-exactly-included"),
    pytest.param(TAPE, {"metres": "5.00"}, 3_000, 3_000, [], None, id="metres-5.00-exactly-included"),
    pytest.param(TAPE, {"metres": "5.01"}, 3_500, 3_500, ["extra_metres"], None, id="metres-5.01-one-started"),
    pytest.param(TAPE, {"metres": "2"}, 3_000, 3_000, [], None, id="metres-shorter-than-included"),
    pytest.param(TAPE, {}, 3_000, 3_000, [], None, id="metres-not-given"),
    # 1001 + 1 extra range 200; AC+DC: 50 % of the base range's 1001 = 500.5 -> 501 (half up),
    # not of the extra range (交直流两用加收基本量限50%): 1001 + 200 + 501 = 1702
    pytest.param(ACDC, {"ranges": 2, "ac_dc": True}, 1_702, 1_702, ["extra_ranges", "ac_dc"], None,
                 id="acdc-50pc-on-base-range-only-half-up"),
    # 50 % of 1001 = 500.5 -> 501
    pytest.param(ACDC, {"ac_dc": True}, 1_502, 1_502, ["ac_dc"], None, id="acdc-50pc-on-odd-base-half-up"),
    pytest.param(ACDC, {"ranges": 2, "ac_dc": False}, 1_201, 1_201, ["extra_ranges"], None,
                 id="acdc-not-asked"),
    pytest.param(ACDC, {"ac_dc": True, "quantity": 3}, 1_502, 4_506, ["ac_dc"], None, id="acdc-x3"),
    # the minimum charge is per line (this item in one consignment): 500 -> 2000
    pytest.param(MINIMUM, {}, 500, 2_000, [], 1_500, id="minimum-lifts-low-amount"),
    pytest.param(MINIMUM, {"quantity": 3}, 500, 2_000, [], 500, id="minimum-lifts-line-of-3"),
    pytest.param(MINIMUM, {"quantity": 4}, 500, 2_000, [], None, id="minimum-exactly-reached-by-4"),
    pytest.param(MINIMUM, {"quantity": 5}, 500, 2_500, [], None, id="minimum-not-applied-above-x5"),
    # 500 + 30 points x 100 = 3500 > 2000: the minimum does not apply
    pytest.param(MINIMUM, {"points": 30}, 3_500, 3_500, ["extra_points"], None,
                 id="minimum-not-applied-above"),
    # 500 + 10 points x 100 = 1500 -> 2000
    pytest.param(MINIMUM, {"points": 10}, 1_500, 2_000, ["extra_points"], 500,
                 id="minimum-lifts-after-addons"),
]


@pytest.mark.parametrize(("row", "line", "unit_amount", "amount", "addon_kinds", "minimum"), PATTERNS)
def test_pricing_patterns(row, line, unit_amount, amount, addon_kinds, minimum):
    e = run(row, [{"item": row.code, **line}])
    (ln,) = e.lines
    assert ln.unit_price_fen == row.price_fen
    assert ln.unit_amount_fen == unit_amount
    assert ln.amount_fen == amount
    assert [a.kind for a in ln.addons] == addon_kinds
    assert ln.minimum_fen == minimum
    # every add-on and the minimum top-up is shown, and they add up to the line amount
    assert row.price_fen + sum(a.amount_fen for a in ln.addons) == unit_amount
    assert unit_amount * ln.quantity + (minimum or 0) == amount
    assert ln.quoted is False and ln.free_reason is None and ln.waived_fen == 0
    assert e.subtotal_fen == e.total_fen == amount
    assert e.quoted_lines == 0
    check_sums(e)


def test_addon_details_are_shown():
    (ln,) = run(TAPE, [{"item": TAPE.code, "metres": "7.2"}]).lines
    (addon,) = ln.addons
    assert (addon.kind, addon.count, addon.unit_fen, addon.percent, addon.amount_fen) == (
        "extra_metres", 3, 500, None, 1_500)
    (ln,) = run(ACDC, [{"item": ACDC.code, "ranges": 2, "ac_dc": True}]).lines
    assert [(a.kind, a.count, a.unit_fen, a.percent, a.amount_fen) for a in ln.addons] == [
        ("extra_ranges", 1, 200, None, 200), ("ac_dc", 0, None, 50, 501)]
    (ln,) = run(MINIMUM, [{"item": MINIMUM.code}]).lines
    assert ln.addons == () and ln.minimum_fen == 1_500 and ln.amount_fen == 2_000


# Same instrument name, several rows by accuracy class and range band, each its own price.
CLASS_ROWS = [
    fee_row("L-001-001", accuracy_class="0.25", spec_zh="(0~1)MPa", spec_en="0-1 MPa", price_fen=12_000),
    fee_row("L-001-002", accuracy_class="1.6", spec_zh="(0~1)MPa", spec_en="0-1 MPa", price_fen=3_000),
    fee_row("L-001-003", accuracy_class="1.6", spec_zh="(0~60)MPa", spec_en="0-60 MPa", price_fen=5_000),
]


@pytest.mark.parametrize(("code", "price", "spec_en"), [
    pytest.param("L-001-001", 12_000, "0-1 MPa", id="class-0.25-low-range"),
    pytest.param("L-001-002", 3_000, "0-1 MPa", id="class-1.6-low-range"),
    pytest.param("L-001-003", 5_000, "0-60 MPa", id="class-1.6-high-range"),
])
def test_accuracy_class_and_range_band_rows_are_priced_separately(code, price, spec_en):
    e = run(CLASS_ROWS, [{"item": code, "quantity": 2}])
    (ln,) = e.lines
    assert ln.code == code and ln.spec_en == spec_en
    assert ln.amount_fen == 2 * price == e.total_fen


def test_class_rows_together_add_up():
    e = run(CLASS_ROWS, [{"item": r.code} for r in CLASS_ROWS])
    assert [ln.amount_fen for ln in e.lines] == [12_000, 3_000, 5_000]
    assert e.total_fen == 20_000


# ---- quoted at the counter -------------------------------------------------------------------

QUOTED = fee_row("G-001-001", name_zh="分光光度计", name_en="Spectrophotometer", unit="台",
                 service="calibration", price_fen=None)


def test_quoted_row_is_left_out_of_the_total_and_counted():
    e = run([QUOTED, PLAIN], [{"item": QUOTED.code, "quantity": 2}, {"item": PLAIN.code}])
    q, p = e.lines
    assert q.amount_fen is None and q.unit_amount_fen is None and q.unit_price_fen is None
    assert q.quoted is True and q.addons == ()
    assert p.quoted is False
    assert e.quoted_lines == 1
    assert e.subtotal_fen == e.total_fen == 4_500
    check_sums(e)


def test_only_quoted_lines_total_zero():
    e = run(QUOTED, [{"item": QUOTED.code}, {"item": QUOTED.code}])
    assert e.quoted_lines == 2 and e.total_fen == 0


# ---- compulsory verification is free, for the uses the catalogue names ---------------------------

SCALE = fee_row("Z-002-001", name_zh="电子计价秤", name_en="Price-computing scale", unit="台",
                price_fen=6_000, compulsory_uses=frozenset({"trade"}), supervision="P+V", cycle_months=12,
                regulation="JJG 539")
SCALE_CAL = fee_row("Z-002-002", name_zh="电子计价秤", name_en="Price-computing scale", unit="台",
                    service="calibration", price_fen=8_000, compulsory_uses=frozenset({"trade"}))


@pytest.mark.parametrize("use", sorted(COMPULSORY_USES))
def test_compulsory_verification_is_free_for_its_use(use):
    row = replace(SCALE, compulsory_uses=frozenset({use}))
    e = run(row, [{"item": row.code, "use": use, "quantity": 2}])
    (ln,) = e.lines
    assert ln.amount_fen == 0
    assert ln.waived_fen == 12_000  # what it would have cost
    assert ln.free_reason == "compulsory_verification" and ln.charge_reason is None
    assert ln.quoted is False
    assert e.total_fen == 0 and e.waived_fen == 12_000
    check_sums(e)


def test_compulsory_uses_are_the_four_of_the_rule():
    assert COMPULSORY_USES == {"trade", "safety", "medical", "environment"}


@pytest.mark.parametrize("use", ["safety", "medical", "environment", "other"])
def test_compulsory_row_used_otherwise_is_charged_and_says_why(use):
    """The issue's seven balances: a scale compulsory in trade, taken in for safety, is charged."""
    (ln,) = run(SCALE, [{"item": SCALE.code, "use": use, "quantity": 2}]).lines
    assert ln.amount_fen == 12_000 and ln.waived_fen == 0 and ln.free_reason is None
    assert ln.charge_reason == "not_compulsory_for_use"


@settings(max_examples=200, deadline=None)
@given(uses=st.frozensets(st.sampled_from(sorted(COMPULSORY_USES))), use=st.sampled_from(USES),
       service=st.sampled_from(SERVICES))
def test_property_free_iff_verification_for_a_use_the_row_names(uses, use, service):
    row = fee_row("Z-009-001", service=service, compulsory_uses=uses)
    (ln,) = run(row, [{"item": row.code, "use": use}]).lines
    free = service == "verification" and use in uses
    assert (ln.amount_fen == 0) == free and (ln.free_reason == "compulsory_verification") == free
    assert ln.waived_fen == (row.price_fen if free else 0)
    assert (ln.charge_reason is not None) == (service == "verification" and bool(uses) and not free)


def test_an_estimate_stored_before_charge_reasons_still_loads():
    """Tickets keep the estimate the customer saw as JSON; one written before `charge_reason`
    has no such key, and reads as a line without a reason."""
    e = run(SCALE, [{"item": SCALE.code, "use": "safety"}])
    stored = json.loads(json.dumps(e.to_dict()))
    for line in stored["lines"]:
        del line["charge_reason"]
    old = Estimate.from_dict(stored)
    assert old.lines[0].charge_reason is None and old.total_fen == e.total_fen == 6_000
    assert Estimate.from_dict(json.loads(json.dumps(e.to_dict()))) == e


def test_a_row_compulsory_for_two_uses_is_free_for_both():
    balance = replace(SCALE, compulsory_uses=frozenset({"trade", "medical"}))
    e = run(balance, [{"item": balance.code, "use": use} for use in ("trade", "medical", "safety")])
    assert [ln.amount_fen for ln in e.lines] == [0, 0, 6_000] and e.total_fen == 6_000


def test_use_defaults_to_other_and_is_charged():
    (ln,) = run(SCALE, [{"item": SCALE.code}]).lines
    assert ln.use == "other" and ln.amount_fen == 6_000


@pytest.mark.parametrize("use", sorted(COMPULSORY_USES))
def test_compulsory_row_calibrated_is_charged(use):
    (ln,) = run(SCALE_CAL, [{"item": SCALE_CAL.code, "use": use}]).lines
    assert ln.amount_fen == 8_000 and ln.free_reason is None and ln.waived_fen == 0
    assert ln.charge_reason is None  # compulsory is about verification: nothing to explain


def test_non_compulsory_verification_for_trade_is_charged():
    (ln,) = run(PLAIN, [{"item": PLAIN.code, "use": "trade"}]).lines
    assert ln.amount_fen == 4_500 and ln.free_reason is None and ln.charge_reason is None


def test_free_line_waives_addons_and_minimum_too():
    row = fee_row("C-002-001", compulsory_uses=frozenset({"trade"}), price_fen=1_000, per_metre_fen=300,
                  metres_included=5,
                  min_fen=1_500)
    (ln,) = run(row, [{"item": row.code, "use": "trade", "metres": "6.5"}]).lines
    # 1000 + 2 started metres x 300 = 1600 (above the minimum)
    assert ln.unit_amount_fen == 1_600 and ln.amount_fen == 0 and ln.waived_fen == 1_600
    (ln,) = run(row, [{"item": row.code, "use": "trade"}]).lines
    # 1000 alone is lifted to the 1500 minimum: that is what is waived
    assert ln.minimum_fen == 500 and ln.amount_fen == 0 and ln.waived_fen == 1_500


# ---- urgent service ---------------------------------------------------------------------------

URGENT_ROW = fee_row("D-003-001", service="calibration", price_fen=10_001, turnaround_days=15)
NO_URGENT_ROW = fee_row("D-003-002", service="calibration", price_fen=2_000, urgent_allowed=False,
                        turnaround_days=20)


@pytest.mark.parametrize(("tier", "percent", "surcharge", "hours"), [
    pytest.param("72h", 30, 3_000, 72, id="72h-30pc-3000.3-rounds-down"),
    pytest.param("24h", 100, 10_001, 24, id="24h-100pc"),
    pytest.param("8h", 150, 15_002, 8, id="8h-150pc-15001.5-rounds-up"),
])
def test_urgent_tiers(tier, percent, surcharge, hours):
    e = run(URGENT_ROW, [{"item": URGENT_ROW.code}], urgent=tier)
    (ln,) = e.lines
    assert ln.amount_fen == 10_001  # the service itself is unchanged
    assert ln.urgent_percent == percent and ln.urgent_fen == surcharge and ln.urgent_note is None
    assert e.urgent == tier and e.urgent_hours == hours == URGENT_HOURS[tier]
    assert e.urgent_fen == surcharge and e.total_fen == 10_001 + surcharge
    check_sums(e)


def test_urgent_surcharge_is_on_the_line_amount_with_quantity():
    (ln,) = run(URGENT_ROW, [{"item": URGENT_ROW.code, "quantity": 3}], urgent="72h").lines
    # 30 % of 30003 = 9000.9 -> 9001 (on the line, not 3 x per instrument = 9000)
    assert ln.amount_fen == 30_003 and ln.urgent_fen == 9_001


@pytest.mark.parametrize("use", sorted(COMPULSORY_USES))
def test_urgent_never_on_free_verification(use):
    row = replace(SCALE, compulsory_uses=frozenset({use}))
    e = run(row, [{"item": row.code, "use": use}], urgent="8h")
    (ln,) = e.lines
    assert ln.urgent_fen is None and ln.urgent_percent is None
    assert ln.urgent_note == "urgent_not_for_free_verification"
    assert e.total_fen == 0 and e.urgent_hours is None
    assert e.turnaround_days == SCALE.turnaround_days


@pytest.mark.parametrize("use", ["safety", "other"])
def test_urgent_on_compulsory_row_used_otherwise_is_applied(use):
    (ln,) = run(SCALE, [{"item": SCALE.code, "use": use}], urgent="24h").lines
    assert ln.urgent_fen == 6_000 and ln.urgent_note is None


def test_urgent_not_offered_by_the_row():
    e = run(NO_URGENT_ROW, [{"item": NO_URGENT_ROW.code}], urgent="24h")
    (ln,) = e.lines
    assert ln.urgent_fen is None and ln.urgent_percent is None and ln.urgent_note == "urgent_not_offered"
    assert e.total_fen == 2_000 and e.urgent_fen == 0
    assert e.urgent_hours is None and e.turnaround_days == 20


def test_mixed_urgent_and_not_offered():
    e = run([URGENT_ROW, NO_URGENT_ROW], [{"item": URGENT_ROW.code}, {"item": NO_URGENT_ROW.code}],
            urgent="24h")
    assert [ln.urgent_fen for ln in e.lines] == [10_001, None]
    assert e.urgent_hours == 24  # for the line that got it
    assert e.turnaround_days == 20  # the line that did not still takes its normal time
    assert e.total_fen == 10_001 * 2 + 2_000


def test_urgent_on_quoted_row_has_no_amount():
    e = run(QUOTED, [{"item": QUOTED.code}], urgent="72h")
    (ln,) = e.lines
    assert ln.urgent_percent == 30 and ln.urgent_fen is None and ln.amount_fen is None
    assert e.total_fen == 0 and e.urgent_fen == 0


def test_no_urgent_asked_leaves_no_note():
    e = run([URGENT_ROW, SCALE], [{"item": URGENT_ROW.code}, {"item": SCALE.code, "use": "trade"}])
    assert all(ln.urgent_fen is None and ln.urgent_note is None and ln.urgent_percent is None
               for ln in e.lines)
    assert e.urgent is None and e.urgent_hours is None and e.urgent_fen == 0


def test_turnaround_is_the_longest_promise():
    rows = [fee_row("A-001-001", turnaround_days=10), fee_row("A-001-002", turnaround_days=15)]
    e = run(rows, [{"item": "A-001-001"}, {"item": "A-001-002"}])
    assert e.turnaround_days == 15 and e.urgent_hours is None


def test_all_lines_urgent_turnaround_zero_and_hours_given():
    e = run(URGENT_ROW, [{"item": URGENT_ROW.code}], urgent="8h")
    assert e.urgent_hours == 8 and e.turnaround_days == 0


# ---- discounts ---------------------------------------------------------------------------------

BATCH = fee_row("Y-001-001", name_zh="血压计", name_en="Sphygmomanometer", unit="台", price_fen=1_000)
BATCH_CAL = fee_row("Y-001-002", name_zh="血压计", name_en="Sphygmomanometer", unit="台",
                    service="calibration", price_fen=1_000)


@pytest.mark.parametrize(("row", "quantity", "discount_id", "discount_fen"), [
    pytest.param(BATCH, 9, None, 0, id="verification-9-no-discount"),
    pytest.param(BATCH, 10, "batch-10", -1_000, id="verification-10-batch-10pc"),
    pytest.param(BATCH, 50, "batch-10", -5_000, id="verification-50-still-10pc"),
    pytest.param(BATCH_CAL, 9, None, 0, id="calibration-9-no-discount"),
    pytest.param(BATCH_CAL, 10, "batch-10", -1_000, id="calibration-10-batch-10pc"),
    pytest.param(BATCH_CAL, 49, "batch-10", -4_900, id="calibration-49-10pc"),
    pytest.param(BATCH_CAL, 50, "calibration-batch-50", -7_500, id="calibration-50-15pc-not-stacked"),
])
def test_batch_discounts(row, quantity, discount_id, discount_fen):
    e = run(row, [{"item": row.code, "quantity": quantity}])
    amount = 1_000 * quantity
    assert e.lines[0].amount_fen == amount  # the line itself is not reduced
    if discount_id is None:
        assert e.discounts == ()
    else:
        (d,) = e.discounts  # one discount line, never two on the same line
        assert d.id == discount_id and d.lines == (0,) and d.base_fen == amount
        assert d.amount_fen == discount_fen < 0
    assert e.subtotal_fen == amount
    assert e.discount_fen == discount_fen
    assert e.total_fen == amount + discount_fen
    check_sums(e)


def test_discount_rounds_half_up():
    row = fee_row("Y-002-001", price_fen=1_001, unit="台")
    e = run(row, [{"item": row.code, "quantity": 15}])
    (d,) = e.discounts
    # base 15015, 10 % = 1501.5 -> 1502
    assert d.base_fen == 15_015 and d.amount_fen == -1_502 and e.total_fen == 13_513


def test_discount_base_excludes_urgent_surcharge():
    e = run(BATCH_CAL, [{"item": BATCH_CAL.code, "quantity": 10}], urgent="24h")
    (ln,) = e.lines
    (d,) = e.discounts
    assert ln.amount_fen == 10_000 and ln.urgent_fen == 10_000
    assert d.base_fen == 10_000 and d.amount_fen == -1_000
    assert e.total_fen == 10_000 + 10_000 - 1_000


def test_discount_not_on_free_or_quoted_lines():
    quoted = fee_row("G-002-001", price_fen=None, unit="台")
    e = run([SCALE, quoted], [{"item": SCALE.code, "use": "trade", "quantity": 20},
                              {"item": quoted.code, "quantity": 20}])
    assert e.discounts == () and e.discount_fen == 0 and e.total_fen == 0


def test_one_discount_line_covers_every_qualifying_line():
    e = run([BATCH, BATCH_CAL, PLAIN], [
        {"item": BATCH.code, "quantity": 10},
        {"item": PLAIN.code, "quantity": 2},
        {"item": BATCH_CAL.code, "quantity": 12},
        {"item": BATCH_CAL.code, "quantity": 60},
    ])
    by_id = {d.id: d for d in e.discounts}
    assert set(by_id) == {"batch-10", "calibration-batch-50"}
    # The two calibration lines are one batch of 72 of the same item: both take 15 %.
    assert by_id["batch-10"].lines == (0,)
    assert by_id["batch-10"].base_fen == 10_000 and by_id["batch-10"].amount_fen == -1_000
    assert by_id["calibration-batch-50"].lines == (2, 3)
    assert by_id["calibration-batch-50"].base_fen == 72_000 and by_id["calibration-batch-50"].amount_fen == -10_800
    assert e.total_fen == 10_000 + 9_000 + 12_000 + 60_000 - 1_000 - 10_800
    check_sums(e)


def test_best_discount_wins_whatever_its_place_in_the_policy():
    reversed_policy = policy_from_dict({**POLICY_DATA, "discounts": POLICY_DATA["discounts"][::-1]})
    e = run(BATCH_CAL, [{"item": BATCH_CAL.code, "quantity": 50}], policy=reversed_policy)
    (d,) = e.discounts
    assert d.id == "calibration-batch-50" and d.amount_fen == -7_500


def test_equal_discounts_first_in_policy_wins():
    tie = policy_from_dict({**POLICY_DATA, "discounts": [
        {"id": "a", "name_zh": "甲", "name_en": "A", "percent": 10, "min_quantity": 5},
        {"id": "b", "name_zh": "乙", "name_en": "B", "percent": 10, "min_quantity": 2},
    ]})
    e = run(BATCH, [{"item": BATCH.code, "quantity": 5}], policy=tie)
    assert [d.id for d in e.discounts] == ["a"]


def test_default_policy_has_the_published_numbers():
    p = default_policy()
    assert dict(p.urgent_percent) == {"72h": 30, "24h": 100, "8h": 150}
    assert {(d.percent, d.min_quantity) for d in p.discounts} == {(10, 10), (15, 50)}


# ---- 2. request validation ---------------------------------------------------------------------

ROWS = {r.code: r for r in (PLAIN, POINTS, RANGES, TAPE, ACDC, SCALE, QUOTED)}


def where_of(data, rows=ROWS) -> str:
    with pytest.raises(EstimateError) as info:
        estimate(request_from_dict(data), rows, POLICY)
    assert info.value.where in str(info.value)
    return info.value.where


def one(**line) -> dict:
    return {"lines": [{"item": PLAIN.code, **line}]}


@pytest.mark.parametrize(("data", "where"), [
    # the request itself
    pytest.param([], "request", id="not-a-dict-list"),
    pytest.param("lines", "request", id="not-a-dict-str"),
    pytest.param(None, "request", id="not-a-dict-none"),
    pytest.param({"lines": [{"item": PLAIN.code}], "customer": "x"}, "request", id="unknown-top-field"),
    pytest.param({}, "lines", id="lines-missing"),
    pytest.param({"lines": []}, "lines", id="lines-empty"),
    pytest.param({"lines": {"item": PLAIN.code}}, "lines", id="lines-not-a-list"),
    pytest.param({"lines": [{"item": PLAIN.code}] * 101}, "lines", id="lines-over-100"),
    pytest.param({"lines": ["Z-001-001"]}, "lines[0]", id="line-not-a-dict"),
    pytest.param(one(price=1), "lines[0]", id="unknown-line-field"),
    # urgent
    pytest.param({**one(), "urgent": "12h"}, "urgent", id="urgent-12h"),
    pytest.param({**one(), "urgent": ""}, "urgent", id="urgent-empty"),
    pytest.param({**one(), "urgent": 24}, "urgent", id="urgent-number"),
    # item
    pytest.param({"lines": [{"item": "Z-999-999"}]}, "lines[0].item", id="item-unknown"),
    pytest.param({"lines": [{"quantity": 1}]}, "lines[0].item", id="item-missing"),
    pytest.param({"lines": [{"item": ""}]}, "lines[0].item", id="item-empty"),
    pytest.param({"lines": [{"item": "　"}]}, "lines[0].item", id="item-full-width-space"),
    pytest.param({"lines": [{"item": 1001}]}, "lines[0].item", id="item-number"),
    # quantity
    pytest.param(one(quantity=0), "lines[0].quantity", id="quantity-0"),
    pytest.param(one(quantity=-1), "lines[0].quantity", id="quantity-negative"),
    pytest.param(one(quantity=MAX_QUANTITY + 1), "lines[0].quantity", id="quantity-1000"),
    pytest.param(one(quantity="1000"), "lines[0].quantity", id="quantity-str-1000"),
    pytest.param(one(quantity="abc"), "lines[0].quantity", id="quantity-abc"),
    pytest.param(one(quantity=1.5), "lines[0].quantity", id="quantity-1.5"),
    pytest.param(one(quantity=2.0), "lines[0].quantity", id="quantity-float-2.0"),
    pytest.param(one(quantity="1.5"), "lines[0].quantity", id="quantity-str-1.5"),
    pytest.param(one(quantity=True), "lines[0].quantity", id="quantity-true"),
    pytest.param(one(quantity=""), "lines[0].quantity", id="quantity-empty-str"),
    pytest.param(one(quantity="-1"), "lines[0].quantity", id="quantity-str-negative"),
    pytest.param(one(quantity=None), "lines[0].quantity", id="quantity-null"),
    pytest.param(one(quantity=[1]), "lines[0].quantity", id="quantity-list"),
    # use / service
    pytest.param(one(use="lab"), "lines[0].use", id="use-unknown"),
    pytest.param(one(use=None), "lines[0].use", id="use-null"),
    pytest.param(one(service="inspection"), "lines[0].service", id="service-unknown"),
    pytest.param(one(service="calibration"), "lines[0].service", id="service-not-the-rows"),
    # add-ons the row is not priced by
    pytest.param(one(points=3), "lines[0].points", id="points-on-plain-row"),
    pytest.param(one(ranges=2), "lines[0].ranges", id="ranges-on-plain-row"),
    pytest.param(one(metres="7"), "lines[0].metres", id="metres-on-plain-row"),
    pytest.param(one(ac_dc=True), "lines[0].ac_dc", id="acdc-on-plain-row"),
    pytest.param({"lines": [{"item": TAPE.code, "points": 3}]}, "lines[0].points", id="points-on-tape"),
    pytest.param({"lines": [{"item": QUOTED.code, "ranges": 2}]}, "lines[0].ranges", id="ranges-on-quoted"),
    # add-on values
    pytest.param({"lines": [{"item": POINTS.code, "points": 0}]}, "lines[0].points", id="points-0"),
    pytest.param({"lines": [{"item": POINTS.code, "points": 1001}]}, "lines[0].points", id="points-1001"),
    pytest.param({"lines": [{"item": POINTS.code, "points": "x"}]}, "lines[0].points", id="points-x"),
    pytest.param({"lines": [{"item": RANGES.code, "ranges": 0}]}, "lines[0].ranges", id="ranges-0"),
    pytest.param({"lines": [{"item": RANGES.code, "ranges": 101}]}, "lines[0].ranges", id="ranges-101"),
    pytest.param({"lines": [{"item": RANGES.code, "ranges": 1.5}]}, "lines[0].ranges", id="ranges-1.5"),
    pytest.param({"lines": [{"item": ACDC.code, "ac_dc": "yes"}]}, "lines[0].ac_dc", id="acdc-str"),
    pytest.param({"lines": [{"item": ACDC.code, "ac_dc": 1}]}, "lines[0].ac_dc", id="acdc-1"),
    # the error names the line it is on
    pytest.param({"lines": [{"item": PLAIN.code}, {"item": PLAIN.code, "quantity": 0}]},
                 "lines[1].quantity", id="second-line-quantity"),
    pytest.param({"lines": [{"item": PLAIN.code}, {"item": "X-1"}]}, "lines[1].item",
                 id="second-line-item"),
])
def test_bad_requests_name_the_field(data, where):
    assert where_of(data) == where


@pytest.mark.parametrize("metres", [
    0, "0", "0.0", "-0", -1, "-7.2", "x", "", " ", "7,2", "7.2m", "NaN", "nan", "-NaN", "sNaN",
    "Infinity", "inf", "-Infinity", float("nan"), float("inf"), True, False, "10000.01", 10_001, "1e5",
    [7], {"m": 7},
], ids=repr)
def test_bad_metres(metres):
    assert where_of({"lines": [{"item": TAPE.code, "metres": metres}]}) == "lines[0].metres"


def test_error_is_a_value_error_with_where():
    with pytest.raises(ValueError) as info:
        request_from_dict(one(quantity=0))
    assert isinstance(info.value, EstimateError) and info.value.where == "lines[0].quantity"


# What an IME or a hurried hand types, and what it must mean.
@pytest.mark.parametrize(("line", "field", "value"), [
    pytest.param({"quantity": "１２"}, "quantity", 12, id="quantity-full-width-12"),
    pytest.param({"quantity": "12"}, "quantity", 12, id="quantity-str-12"),
    pytest.param({"quantity": " 3 "}, "quantity", 3, id="quantity-padded"),
    pytest.param({"quantity": "999"}, "quantity", 999, id="quantity-max"),
    pytest.param({}, "quantity", 1, id="quantity-default-1"),
    pytest.param({"item": "z-001-001"}, "item", "Z-001-001", id="item-lower-case"),
    pytest.param({"item": "Ｚ－００１－００１"}, "item", "Z-001-001", id="item-full-width"),
    pytest.param({"item": "ｚ-００１-００１"}, "item", "Z-001-001", id="item-full-width-lower"),
    pytest.param({"item": "  Z-001-001 "}, "item", "Z-001-001", id="item-padded"),
    pytest.param({"use": "ＴＲＡＤＥ"}, "use", "trade", id="use-full-width-upper"),
    pytest.param({"use": "Medical"}, "use", "medical", id="use-capitalised"),
    pytest.param({"service": "Verification"}, "service", "verification", id="service-capitalised"),
    pytest.param({"service": None}, "service", None, id="service-null-means-any"),
])
def test_normalised_input(line, field, value):
    data = {"lines": [{"item": PLAIN.code, **line}]}
    req = request_from_dict(data)
    assert getattr(req.lines[0], field) == value
    e = estimate(req, ROWS, POLICY)
    assert e.lines[0].code == PLAIN.code


def test_full_width_quantity_prices_twelve():
    e = run(PLAIN, [{"item": PLAIN.code, "quantity": "１２"}], policy=NO_DISCOUNT_POLICY)
    assert e.lines[0].quantity == 12 and e.total_fen == 12 * 4_500


@pytest.mark.parametrize(("metres", "charged"), [
    pytest.param("７.２", 3, id="full-width-7.2"),
    pytest.param(" 7.2 ", 3, id="padded"),
    pytest.param(7, 2, id="int-7"),
    pytest.param("5.001", 1, id="just-over"),
    pytest.param("10000", 9_995, id="max-length"),
])
def test_metres_accepted(metres, charged):
    (ln,) = run(TAPE, [{"item": TAPE.code, "metres": metres}]).lines
    assert ln.unit_amount_fen == 3_000 + 500 * charged


@pytest.mark.parametrize("urgent", ["24H", "２４ｈ", " 8h "])
def test_urgent_tier_normalised(urgent):
    req = request_from_dict({**one(), "urgent": urgent})
    assert req.urgent in URGENT_TIERS


def test_urgent_null_means_none():
    assert request_from_dict({**one(), "urgent": None}).urgent is None


# Digits that str.isdigit() accepts but int() rejects, and digit strings past int()'s own
# limit, must still be refused with the field named.
@pytest.mark.parametrize("quantity", ["፩", "𐩀"], ids=["ethiopic-digit-one", "kharosthi-digit-one"])
def test_non_decimal_digit_quantity_names_the_field(quantity):
    assert where_of(one(quantity=quantity)) == "lines[0].quantity"


def test_huge_digit_string_quantity_names_the_field():
    assert where_of(one(quantity="1" * 5000)) == "lines[0].quantity"


def test_lengths_finer_than_a_millimetre_are_refused():
    # 29 significant digits would round in Decimal's 28-digit context and lose a started metre.
    row = fee_row("C-003-001", price_fen=1_000, per_metre_fen=100, metres_included=0)
    with pytest.raises(EstimateError) as refused:
        run(row, [{"item": row.code, "metres": "7.0000000000000000000000000001"}])
    assert refused.value.where == "lines[0].metres"
    (ln,) = run(row, [{"item": row.code, "metres": "7.001"}]).lines
    assert ln.addons[0].count == 8


def test_batch_discount_counts_the_item_across_lines():
    # 同一项目同批: 6 for trade use and 6 for other use are one batch of 12 of the same item.
    lines = [{"item": PLAIN.code, "quantity": 6, "use": "trade"}, {"item": PLAIN.code, "quantity": 6}]
    e = run(PLAIN, lines)
    assert [d.id for d in e.discounts] == ["batch-10"] and e.discounts[0].lines == (0, 1)


def test_service_may_be_given_in_chinese():
    assert request_from_dict(one(service="检定")).lines[0].service == "verification"


# ---- 3. properties ------------------------------------------------------------------------------

FIELD_LETTERS = "CLZRDYFSGHA"
UNIT_WORDS = ["台", "块", "支", "套", "米", "个", "把"]
money = st.integers(min_value=0, max_value=2_000_000)
maybe_money = st.none() | money


@st.composite
def fee_rows(draw, code: str) -> FeeRow:
    price = draw(maybe_money)
    priced = price is not None
    add = (lambda s: draw(st.none() | s)) if priced else (lambda s: None)
    return FeeRow(
        code=code, name_zh="仪器", name_en="Instrument",
        service=draw(st.sampled_from(SERVICES)), unit=draw(st.sampled_from(UNIT_WORDS)),
        price_fen=price,
        min_fen=add(money),
        per_point_fen=add(money), points_included=draw(st.integers(0, 20)),
        per_range_fen=add(money), ranges_included=draw(st.integers(0, 5)),
        per_metre_fen=add(money), metres_included=draw(st.integers(0, 50)),
        ac_dc_percent=add(st.integers(0, 200)),
        compulsory_uses=draw(st.frozensets(st.sampled_from(sorted(COMPULSORY_USES)))),
        supervision=draw(st.sampled_from(("", "P", "V", "P+V"))),
        turnaround_days=draw(st.integers(1, 60)),
        urgent_allowed=draw(st.booleans()),
    )


metres_text = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10000), places=2).map(str)


@st.composite
def line_dicts(draw, row: FeeRow) -> dict:
    line: dict = {"item": row.code, "quantity": draw(st.integers(1, MAX_QUANTITY // 2)),
                  "use": draw(st.sampled_from(USES))}
    if draw(st.booleans()):
        line["service"] = row.service
    if row.per_point_fen is not None and draw(st.booleans()):
        line["points"] = draw(st.integers(1, 1000))
    if row.per_range_fen is not None and draw(st.booleans()):
        line["ranges"] = draw(st.integers(1, 100))
    if row.per_metre_fen is not None and draw(st.booleans()):
        line["metres"] = draw(metres_text)
    if row.ac_dc_percent is not None:
        line["ac_dc"] = draw(st.booleans())
    return line


@st.composite
def scenarios(draw):
    """A catalogue of random rows and a valid request against it."""
    n = draw(st.integers(1, 6))
    codes = [f"{FIELD_LETTERS[i % len(FIELD_LETTERS)]}-{i:03d}-001" for i in range(n)]
    rows = [draw(fee_rows(code)) for code in codes]
    k = draw(st.integers(1, 8))
    lines = [draw(line_dicts(draw(st.sampled_from(rows)))) for _ in range(k)]
    data = {"lines": lines}
    urgent = draw(st.none() | st.sampled_from(URGENT_TIERS))
    if urgent is not None:
        data["urgent"] = urgent
    return {r.code: r for r in rows}, data


@st.composite
def policies(draw):
    discounts = [
        {"id": f"d{i}", "name_zh": "优惠", "name_en": "Discount", "percent": draw(st.integers(1, 100)),
         "services": draw(st.lists(st.sampled_from(SERVICES), min_size=1, unique=True)),
         "min_quantity": draw(st.integers(1, 60))}
        for i in range(draw(st.integers(0, 4)))
    ]
    return policy_from_dict({"id": "random", "discounts": discounts,
                             "urgent_percent": {t: draw(st.integers(0, 300)) for t in URGENT_TIERS}})


PROPS = settings(max_examples=300, deadline=None)


def _walk(value, path="e"):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, value


def check_invariants(e: Estimate, rows, policy) -> None:
    # money is integer fen, never float (and never a bool posing as an int)
    for path, value in _walk(e.to_dict()):
        assert not isinstance(value, float), path
        if path.endswith("_fen"):
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)), path
    check_sums(e)
    assert e.total_fen == (sum(ln.amount_fen or 0 for ln in e.lines)
                           + sum(ln.urgent_fen or 0 for ln in e.lines)
                           + sum(d.amount_fen for d in e.discounts))
    assert e.total_fen >= 0
    assert e.quoted_lines == sum(ln.amount_fen is None for ln in e.lines)
    assert e.waived_fen == sum(ln.waived_fen for ln in e.lines)
    discounted: list[int] = []
    for d in e.discounts:
        assert d.amount_fen <= 0 and -d.amount_fen <= d.base_fen
        assert d.base_fen == sum(e.lines[i].amount_fen for i in d.lines)
        assert d.amount_fen == -percent_of(d.base_fen, d.percent)
        discounted.extend(d.lines)
    assert len(discounted) == len(set(discounted))  # no stacking
    taken = {i: d.percent for d in e.discounts for i in d.lines}
    batch = {code: sum(x.quantity for x in e.lines if x.code == code) for code in {x.code for x in e.lines}}
    for ln in e.lines:  # each charged line takes its best discount; the item's whole batch qualifies
        qualifying = [d.percent for d in policy.discounts
                      if ln.amount_fen and ln.service in d.services and batch[ln.code] >= d.min_quantity]
        assert taken.get(ln.index) == max(qualifying, default=None)
    for ln in e.lines:
        row = rows[ln.code]
        # Free exactly when verified for a use the row's catalogue entry names; a row of the
        # catalogue verified for another use says why it is charged.
        compulsory = row.service == "verification" and ln.use in row.compulsory_uses
        assert (ln.free_reason is not None) == compulsory
        assert (ln.charge_reason == "not_compulsory_for_use") == (
            row.service == "verification" and bool(row.compulsory_uses) and not compulsory)
        assert ln.charge_reason in (None, "not_compulsory_for_use")
        if ln.free_reason is not None:
            assert ln.free_reason == "compulsory_verification"
            assert ln.amount_fen == 0 and ln.urgent_fen is None and ln.urgent_percent is None
            assert ln.index not in discounted
            if e.urgent:
                assert ln.urgent_note == "urgent_not_for_free_verification"
        else:
            assert ln.waived_fen == 0
        if ln.unit_amount_fen is not None:
            assert ln.unit_amount_fen == ln.unit_price_fen + sum(a.amount_fen for a in ln.addons)
            plain = ln.unit_amount_fen * ln.quantity
            charged = plain if row.min_fen is None else max(plain, row.min_fen)
            assert ln.minimum_fen == (charged - plain or None)
            assert (ln.waived_fen if ln.free_reason else ln.amount_fen) == charged
        else:
            assert ln.minimum_fen is None
        if ln.quoted:
            assert ln.amount_fen is None and ln.index not in discounted
        if ln.urgent_fen is not None:
            assert ln.urgent_fen == percent_of(ln.amount_fen, policy.urgent_percent[e.urgent])
        if not e.urgent:
            assert ln.urgent_percent is None and ln.urgent_note is None
    urgent_lines = [ln for ln in e.lines if ln.urgent_percent is not None]
    assert (e.urgent_hours is not None) == bool(urgent_lines)
    json.dumps(e.to_dict(), allow_nan=False)


@PROPS
@given(scenarios())
def test_property_invariants(scenario):
    rows, data = scenario
    check_invariants(estimate(request_from_dict(data), rows, POLICY), rows, POLICY)


@PROPS
@given(scenarios(), policies())
def test_property_invariants_any_policy(scenario, policy):
    rows, data = scenario
    check_invariants(estimate(request_from_dict(data), rows, policy), rows, policy)


@PROPS
@given(scenarios())
def test_property_urgent_at_most_150_percent(scenario):
    rows, data = scenario
    e = estimate(request_from_dict(data), rows, POLICY)
    for ln in e.lines:
        if ln.urgent_fen is not None:
            assert 0 <= ln.urgent_fen * 100 <= ln.amount_fen * 150 + 100  # <= 150 % + 1 fen


@PROPS
@given(scenarios())
def test_property_deterministic_and_json(scenario):
    rows, data = scenario
    first = estimate(request_from_dict(data), rows, POLICY)
    again = estimate(request_from_dict(json.loads(json.dumps(data))), dict(reversed(rows.items())), POLICY)
    assert first == again
    assert json.loads(json.dumps(first.to_dict())) == json.loads(json.dumps(again.to_dict()))
    # a stored ticket's estimate comes back exactly (receipts and reprints never re-price)
    assert Estimate.from_dict(json.loads(json.dumps(first.to_dict()))) == first


@PROPS
@given(scenarios(), st.randoms(use_true_random=False), policies())
def test_property_line_order_does_not_change_totals(scenario, rnd, policy):
    rows, data = scenario
    shuffled = list(data["lines"])
    rnd.shuffle(shuffled)
    a = estimate(request_from_dict(data), rows, policy)
    b = estimate(request_from_dict({**data, "lines": shuffled}), rows, policy)
    assert (a.total_fen, a.subtotal_fen, a.urgent_fen, a.discount_fen, a.waived_fen, a.quoted_lines) == (
        b.total_fen, b.subtotal_fen, b.urgent_fen, b.discount_fen, b.waived_fen, b.quoted_lines)
    assert (a.turnaround_days, a.urgent_hours) == (b.turnaround_days, b.urgent_hours)


@PROPS
@given(scenarios(), st.data())
def test_property_doubling_quantity_never_lowers_the_line(scenario, data):
    rows, req = scenario
    i = data.draw(st.integers(0, len(req["lines"]) - 1))
    lines = [dict(ln) for ln in req["lines"]]
    lines[i]["quantity"] *= 2
    before = estimate(request_from_dict(req), rows, POLICY).lines[i]
    after = estimate(request_from_dict({**req, "lines": lines}), rows, POLICY).lines[i]
    if before.amount_fen is None:
        assert after.amount_fen is None
    else:
        assert after.amount_fen >= before.amount_fen
        assert after.waived_fen >= before.waived_fen
        if before.urgent_fen is not None:
            assert after.urgent_fen >= before.urgent_fen


@PROPS
@given(st.integers(0, 10**15), st.integers(0, 1000))
def test_property_percent_of_is_half_up(amount, percent):
    expected = (Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    result = percent_of(amount, percent)
    assert isinstance(result, int) and result == int(expected)
