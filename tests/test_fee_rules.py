"""Fee rules seen in published tables, as policy and catalogue data: data the regulation does not
require (+20 %), storage past the pickup period (2 % a day after 30 days, 4 % after 60), and
verification and calibration of one instrument priced by separate rows. Every figure is computed
by hand from the rule's words (kiosk/domain/fees.py: integer fen, percentages half up)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.catalog import FeeRow, parse_csv
from kiosk.domain.fees import (
    EstimateError,
    PolicyError,
    StorageCharge,
    default_policy,
    estimate,
    percent_of,
    policy_from_dict,
    request_from_dict,
    storage_charge,
)
from kiosk.i18n.estimate_text import format_estimate, storage_rows

BASE = {"id": "rules", "urgent_percent": {"72h": 30, "24h": 100, "8h": 150}}
POLICY = policy_from_dict({**BASE, "extra_data_percent": 20,
                           "storage": {"tiers": [{"after_days": 30, "percent_per_day": 2},
                                                 {"after_days": 60, "percent_per_day": 4}]}})
WITHOUT = policy_from_dict(BASE)  # offers no extra data, charges no storage
BATCH = policy_from_dict({**BASE, "extra_data_percent": 20, "discounts": [
    {"id": "batch-10", "name_zh": "批量九折", "name_en": "Batch 10% off", "percent": 10, "min_quantity": 10}]})

BLOCK = FeeRow("C001", "量块", "Gauge block", "verification", "块", 1_200, min_fen=10_000)  # 12元/块, 最低100元
THERMO = FeeRow("R-001-001", "温度计", "Thermometer", "calibration", "支", 10_000, per_point_fen=1_500,
                points_included=5)
SCALE = FeeRow("Z-002-001", "电子计价秤", "Price-computing scale", "verification", "台", 10_000,
               compulsory_uses=frozenset({"trade"}))
QUOTED = FeeRow("H-001-001", "流量计", "Flow meter", "calibration", "台", None)
TINY = FeeRow("Z-001-001", "砝码", "Weight", "calibration", "个", 33)
ROWS = {r.code: r for r in (BLOCK, THERMO, SCALE, QUOTED, TINY)}


def priced(lines, urgent=None, policy=POLICY):
    data = {"lines": lines} | ({"urgent": urgent} if urgent else {})
    return estimate(request_from_dict(data), ROWS, policy)


# ---- data the regulation does not require ---------------------------------------------------------


def test_extra_data_is_taken_on_the_line_after_the_minimum():
    # 3 blocks x 12 = 36, raised to the minimum 100; +20 % = 20: the line is 120
    est = priced([{"item": "C001", "quantity": 3, "extra_data": True}])
    (ln,) = est.lines
    assert ln.minimum_fen == 6_400 and ln.unit_amount_fen == 1_200
    assert [(a.kind, a.percent, a.amount_fen) for a in ln.addons] == [("extra_data", 20, 2_000)]
    assert ln.amount_fen == 12_000 and est.total_fen == 12_000


def test_extra_data_after_per_instrument_add_ons():
    # (100 + 3 extra points x 15) x 2 = 290; +20 % = 58: 348
    est = priced([{"item": "R-001-001", "quantity": 2, "points": 8, "extra_data": True}])
    (ln,) = est.lines
    assert [a.kind for a in ln.addons] == ["extra_points", "extra_data"]
    assert ln.unit_amount_fen == 14_500 and ln.addons[1].amount_fen == 5_800 and ln.amount_fen == 34_800


def test_extra_data_comes_before_urgent_and_discounts():
    # urgent 24h (+100 %) on 120: 120; total 240
    est = priced([{"item": "C001", "quantity": 3, "extra_data": True}], urgent="24h")
    assert (est.lines[0].amount_fen, est.lines[0].urgent_fen, est.total_fen) == (12_000, 12_000, 24_000)
    # 10 blocks = 120 (over the minimum), +20 % = 24: 144; batch 10 % off 144 = 14.40: 129.60
    est = estimate(request_from_dict({"lines": [{"item": "C001", "quantity": 10, "extra_data": True}]}), ROWS, BATCH)
    assert est.lines[0].amount_fen == 14_400 and est.discounts[0].amount_fen == -1_440 and est.total_fen == 12_960


def test_extra_data_rounds_half_up():
    # 0.33 x 20 % = 6.6 fen: 7
    assert priced([{"item": "Z-001-001", "extra_data": True}]).lines[0].addons[0].amount_fen == 7


def test_extra_data_is_not_charged_on_free_compulsory_verification_but_is_listed():
    est = priced([{"item": "Z-002-001", "use": "trade", "extra_data": True}])
    (ln,) = est.lines
    assert ln.free_reason == "compulsory_verification" and ln.amount_fen == 0 and ln.waived_fen == 10_000
    assert [(a.kind, a.amount_fen) for a in ln.addons] == [("extra_data", 0)]
    # the same scale in a lab is charged: 100 + 20
    assert priced([{"item": "Z-002-001", "use": "other", "extra_data": True}]).total_fen == 12_000


def test_extra_data_on_a_quoted_line_is_the_percentage_of_the_counters_quote():
    (ln,) = priced([{"item": "H-001-001", "extra_data": True}]).lines
    assert ln.quoted and ln.amount_fen is None
    assert [(a.kind, a.percent, a.amount_fen) for a in ln.addons] == [("extra_data", 20, None)]


def test_extra_data_not_asked_changes_nothing():
    assert priced([{"item": "C001", "quantity": 3}]).total_fen == 10_000
    assert priced([{"item": "C001", "quantity": 3, "extra_data": False}]).lines[0].addons == ()


@pytest.mark.parametrize("value", ["yes", 1, 0, None, "true", [True]], ids=repr)
def test_extra_data_must_be_true_or_false(value):
    with pytest.raises(EstimateError) as refused:
        request_from_dict({"lines": [{"item": "C001", "extra_data": value}]})
    assert refused.value.where == "lines[0].extra_data"


def test_extra_data_not_offered_by_the_policy_is_refused_naming_the_line():
    with pytest.raises(EstimateError) as refused:
        priced([{"item": "C001"}, {"item": "C001", "extra_data": True}], policy=WITHOUT)
    assert refused.value.where == "lines[1].extra_data"


@pytest.mark.parametrize("lang, shown", [
    ("zh", "出具规程未要求的数据加收20% ￥20.00"),
    ("en", "Data the regulation does not require +20% ￥20.00"),
])
def test_the_estimate_shows_extra_data_as_its_own_line(lang, shown):
    text = format_estimate(priced([{"item": "C001", "quantity": 3, "extra_data": True}]), lang)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == shown)
    minimum = next(i for i, line in enumerate(lines) if ("按最低收费" if lang == "zh" else "minimum charge") in line)
    assert minimum < at  # in the order it is taken: the minimum first
    assert "￥120.00" in text


@pytest.mark.parametrize("lang, shown", [
    ("zh", "出具规程未要求的数据：强制检定免费，不加收"),
    ("en", "Data the regulation does not require: free verification, no surcharge"),
])
def test_the_estimate_says_why_a_free_line_has_no_extra_data_surcharge(lang, shown):
    text = format_estimate(priced([{"item": "Z-002-001", "use": "trade", "extra_data": True}]), lang)
    assert any(line.strip() == shown for line in text.splitlines())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(ROWS)), st.integers(1, 60), st.sampled_from(["trade", "other"])),
                min_size=1, max_size=5),
       st.integers(1, 100), st.none() | st.sampled_from(["72h", "24h", "8h"]))
def test_property_extra_data_adds_its_percentage_of_each_charged_line(lines, percent, urgent):
    policy = policy_from_dict({**BASE, "extra_data_percent": percent})
    plain = [{"item": code, "quantity": qty, "use": use} for code, qty, use in lines]
    without = priced(plain, urgent, policy)
    with_data = priced([{**ln, "extra_data": True} for ln in plain], urgent, policy)
    for a, b in zip(without.lines, with_data.lines):
        extra = b.addons[-1]
        assert extra.kind == "extra_data" and extra.percent == percent
        if a.amount_fen is None:
            assert b.amount_fen is None and extra.amount_fen is None
        else:
            assert extra.amount_fen == (0 if a.free_reason else percent_of(a.amount_fen, percent))
            assert b.amount_fen == a.amount_fen + extra.amount_fen and b.waived_fen == a.waived_fen
    assert with_data.total_fen >= without.total_fen
    assert with_data.total_fen == (with_data.subtotal_fen + with_data.urgent_fen + with_data.discount_fen)


# ---- the policy's words ------------------------------------------------------------------------------


def test_the_demo_policy_has_the_published_rules():
    p = default_policy()
    assert p.extra_data_percent == 20
    assert p.storage is not None and p.storage.free_days == 30
    assert [(t.after_days, t.percent_per_day) for t in p.storage.tiers] == [(30, 2), (60, 4)]


def test_a_policy_without_the_rules_offers_neither():
    assert (WITHOUT.extra_data_percent, WITHOUT.storage) == (0, None)


@pytest.mark.parametrize("change, says", [
    ({"extra_data_percent": 101}, "extra_data_percent must be a whole number 0–100"),
    ({"extra_data_percent": -1}, "extra_data_percent must be a whole number 0–100"),
    ({"extra_data_percent": "20"}, "extra_data_percent must be a whole number 0–100, not '20'"),
    ({"extra_data_percent": True}, "extra_data_percent"),
    ({"extra_data_percent": 20.0}, "extra_data_percent"),
    ({"storage": 30}, 'storage must be {"tiers": [...]}'),
    ({"storage": {"tiers": [], "free_days": 30}}, 'storage must be {"tiers": [...]}'),
    ({"storage": {"tiers": []}}, "storage.tiers must be a non-empty list"),
    ({"storage": {"tiers": {"after_days": 30}}}, "storage.tiers must be a non-empty list"),
    ({"storage": {"tiers": [{"after_days": 30}]}}, "storage.tiers[0] must be"),
    ({"storage": {"tiers": [{"after_days": 30, "percent_per_day": 2, "cap": 1}]}}, "storage.tiers[0] must be"),
    ({"storage": {"tiers": ["30 days"]}}, "storage.tiers[0] must be"),
    ({"storage": {"tiers": [{"after_days": -1, "percent_per_day": 2}]}}, "storage.tiers[0].after_days"),
    ({"storage": {"tiers": [{"after_days": "30", "percent_per_day": 2}]}}, "storage.tiers[0].after_days"),
    ({"storage": {"tiers": [{"after_days": 30, "percent_per_day": 0}]}}, "storage.tiers[0].percent_per_day"),
    ({"storage": {"tiers": [{"after_days": 30, "percent_per_day": 1.5}]}}, "storage.tiers[0].percent_per_day"),
    ({"storage": {"tiers": [{"after_days": 30, "percent_per_day": 2}, {"after_days": 30, "percent_per_day": 4}]}},
     "storage.tiers[1].after_days must be more than 30"),
    ({"storage": {"tiers": [{"after_days": 60, "percent_per_day": 4}, {"after_days": 30, "percent_per_day": 2}]}},
     "storage.tiers[1].after_days must be more than 60"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_malformed_rule_is_refused_naming_it(change, says):
    with pytest.raises(PolicyError) as refused:
        policy_from_dict({**BASE, **change})
    assert says in str(refused.value) and str(refused.value).startswith("pricing policy: ")


# ---- storage past the pickup period ---------------------------------------------------------------

READY = date(2026, 1, 1)


@pytest.mark.parametrize("picked_up, days, tiers, fen", [
    (READY, 0, [], 0),
    (date(2026, 1, 31), 30, [], 0),  # the 30th day is still free
    (date(2026, 2, 1), 31, [(30, 2, 1, 1_352)], 1_352),  # day 31: 2 % of 676.00 = 13.52
    (date(2026, 3, 2), 60, [(30, 2, 30, 40_560)], 40_560),  # days 31-60: 60 % = 405.60
    (date(2026, 3, 3), 61, [(30, 2, 30, 40_560), (60, 4, 1, 2_704)], 43_264),  # day 61: 4 % = 27.04
    (date(2026, 3, 7), 65, [(30, 2, 30, 40_560), (60, 4, 5, 13_520)], 54_080),  # 60 % + 20 % = 540.80
])
def test_storage_is_counted_per_tier(picked_up, days, tiers, fen):
    charge = storage_charge(POLICY.storage, 67_600, READY, picked_up)
    assert (charge.days, charge.free_days, charge.base_fen) == (days, 30, 67_600)
    assert [(t.after_days, t.percent_per_day, t.days, t.amount_fen) for t in charge.tiers] == tiers
    assert charge.amount_fen == fen


def test_storage_rounds_each_tier_once_half_up():
    # 0.33 a day at 2 %: 0.66 fen -> 1; two days 1.32 fen -> 1 (not 1 + 1)
    assert storage_charge(POLICY.storage, 33, READY, READY + timedelta(days=31)).amount_fen == 1
    assert storage_charge(POLICY.storage, 33, READY, READY + timedelta(days=32)).amount_fen == 1


def test_storage_is_nothing_when_the_clock_is_behind_the_ready_day():
    charge = storage_charge(POLICY.storage, 67_600, READY, READY - timedelta(days=3))
    assert (charge.days, charge.tiers, charge.amount_fen) == (0, (), 0)


def test_a_storage_charge_survives_its_json_round_trip():
    import json

    charge = storage_charge(POLICY.storage, 67_600, READY, date(2026, 3, 7))
    assert StorageCharge.from_dict(json.loads(json.dumps(charge.to_dict()))) == charge


storage_policies = st.lists(st.tuples(st.integers(1, 200), st.integers(1, 100)), min_size=1, max_size=4).map(
    lambda gaps: policy_from_dict({**BASE, "storage": {"tiers": [
        {"after_days": sum(g for g, _ in gaps[:i + 1]), "percent_per_day": p} for i, (_, p) in enumerate(gaps)]}}))


@settings(max_examples=300, deadline=None)
@given(storage_policies, st.integers(0, 10**9), st.integers(-5, 2_000), st.integers(0, 400))
def test_property_storage_grows_with_the_days_and_is_free_in_the_pickup_period(policy, base, days, more):
    storage = policy.storage
    first = storage_charge(storage, base, READY, READY + timedelta(days=days))
    later = storage_charge(storage, base, READY, READY + timedelta(days=days + more))
    for charge in (first, later):
        assert isinstance(charge.amount_fen, int) and charge.amount_fen >= 0
        assert charge.amount_fen == sum(t.amount_fen for t in charge.tiers)
        assert sum(t.days for t in charge.tiers) == max(0, charge.days - storage.free_days)
    assert first.amount_fen <= later.amount_fen
    if days <= storage.free_days:
        assert first.amount_fen == 0 and first.tiers == ()
    # never more than the dearest rate for every day past the free period (+1 fen of rounding a tier)
    dearest = max(t.percent_per_day for t in storage.tiers)
    assert later.amount_fen <= percent_of(base, dearest * max(0, later.days - storage.free_days)) + len(storage.tiers)


@pytest.mark.parametrize("lang, expected", [
    ("zh", [("保管费：通知取件后65天领取，免费保管30天", "￥540.80"),
            ("  第31天起每天2%，30天", "￥405.60"),
            ("  第61天起每天4%，5天", "￥135.20"),
            ("取件应付（含保管费）", "￥1,216.80")]),
    ("en", [("Storage: collected 65 days after ready, 30 days free", "￥540.80"),
            ("  from day 31, 2% a day, 30 days", "￥405.60"),
            ("  from day 61, 4% a day, 5 days", "￥135.20"),
            ("Due at pickup (storage included)", "￥1,216.80")]),
])
def test_storage_is_shown_as_its_own_line_with_its_days(lang, expected):
    assert storage_rows(storage_charge(POLICY.storage, 67_600, READY, date(2026, 3, 7)), lang) == expected
    assert storage_rows(storage_charge(POLICY.storage, 67_600, READY, date(2026, 1, 31)), lang) == []


# ---- verification and calibration of one instrument, priced separately --------------------------

ZJ = Path(__file__).parent / "data" / "published_fees_zj.csv"  # sources in tests/data/README.md


def test_one_instrument_two_services_imports_as_two_rows_of_one_number():
    rows = parse_csv(ZJ.read_text("utf-8"), ZJ.name)
    assert [(r.code, r.standard, r.name_zh, r.service, r.price_fen) for r in rows] == [
        ("C-005-001", "C-005-001", "通用卡尺", "verification", 2_000),
        ("C-005-001.2", "C-005-001", "通用卡尺", "calibration", 10_000),
        ("C-005-006", "C-005-006", "钢卷尺", "verification", 2_000),
        ("C-005-006.2", "C-005-006", "钢卷尺", "calibration", 10_000),
    ]


@pytest.mark.parametrize("line, yuan", [
    ({"item": "C-005-001"}, 20),  # 通用卡尺 检定 20
    ({"item": "C-005-001.2"}, 100),  # 校准 100
    ({"item": "C-005-001.2", "service": "校准"}, 100),  # the service as the table words it
    ({"item": "C-005-006", "metres": 5}, 20),  # 钢卷尺 检定 20, 超出5米每米加5
    ({"item": "C-005-006", "metres": "12.3"}, 20 + 8 * 5),  # 7.3 m over 5: 8 started metres
    ({"item": "C-005-006", "metres": 200}, 20 + 195 * 5),
    ({"item": "C-005-006.2", "metres": 10}, 100),  # 校准 100, 超出10米每米加10
    ({"item": "C-005-006.2", "metres": "12.3"}, 100 + 3 * 10),  # 2.3 m over 10: 3 started metres
    ({"item": "C-005-006.2", "metres": "12.3", "extra_data": True}, 130 + 26),  # +20 % of 130
])
def test_each_service_is_priced_by_its_own_row(db, line, yuan):
    from kiosk.store.catalog import import_csv, load_catalog

    catalog = load_catalog(import_csv(ZJ.read_text("utf-8"), ZJ.name))
    est = estimate(request_from_dict({"lines": [line]}), catalog.by_code, POLICY, catalog.version)
    assert est.total_fen == yuan * 100


def test_a_service_the_row_does_not_price_is_refused():
    rows = {r.code: r for r in parse_csv(ZJ.read_text("utf-8"), ZJ.name)}
    with pytest.raises(EstimateError) as refused:
        estimate(request_from_dict({"lines": [{"item": "C-005-006", "service": "calibration"}]}), rows, POLICY)
    assert refused.value.where == "lines[0].service"


# ---- at the kiosk -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language, label, shown", [
    ("zh", "另出规程未要求的数据 +20%", "出具规程未要求的数据加收20%"),
    ("en", "Data beyond the regulation +20%", "Data the regulation does not require +20%"),
])
async def test_the_customer_asks_for_extra_data_in_the_line_dialog_at_80x24(language, label, shown):
    import json

    from textual.widgets import Checkbox

    from db.models import OutboxEvent, Ticket, TicketLine
    from screens.estimate import EstimateScreen
    from screens.line_editor import LineEditor
    from tests.kiosk_pilot import click_in_view, make_app, screen_text, settle, to_instruments

    app = make_app(language)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_instruments(pilot)
        await pilot.press(*"ylb", "enter", "enter")  # a pressure gauge, 30.00
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LineEditor)
        box = dialog.query_one("#extra_data", Checkbox)
        assert str(box.label) == label and box.value is False
        await click_in_view(pilot, "#extra_data")  # scrolled into sight, as a finger swipes
        await pilot.pause()
        assert box.value is True
        await pilot.click("#save")
        await pilot.pause()
        assert [ln.extra_data for ln in app.draft.lines] == [True]
        await pilot.click("#next")
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen)
        (ln,) = app.screen.estimate.lines
        assert ln.amount_fen == 3_000 + 600  # 30.00 (use: other) + 20 %
        assert f"{shown} ￥6.00" in screen_text(app)
        app.screen.action_confirm()
        await settle(pilot)
        ticket = Ticket.get()
        assert [line.extra_data for line in ticket.lines.order_by(TicketLine.position)] == [True]
        assert ticket.total_fen == 3_600
        (event,) = OutboxEvent.select().where(OutboxEvent.kind == "ticket.registered")
        assert json.loads(event.payload)["lines"][0]["extra_data"] is True


async def test_the_dialog_offers_no_extra_data_when_the_policy_does_not():
    from screens.line_editor import LineEditor
    from tests.kiosk_pilot import make_app, settle, to_instruments

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.policy = WITHOUT
        await to_instruments(pilot)
        await pilot.press(*"ylb", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LineEditor) and not app.screen.query("#extra_data")


async def test_the_customer_picks_the_service_and_is_priced_by_its_row():
    """Verification and calibration of one steel tape, two published rows: the search lists both,
    each with its service and price; the one picked prices the line (12.3 m: 20 + 8 x 5 or 100 + 3 x 10)."""
    from kiosk.store.catalog import import_csv
    from screens.estimate import EstimateScreen
    from screens.line_editor import LineEditor
    from tests.kiosk_pilot import add_line, make_app, screen_text, settle, to_instruments

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        new = await app.in_db_thread(lambda: import_csv(ZJ.read_text("utf-8"), ZJ.name))
        app.catalog_arrived([new])
        await settle(pilot)
        assert app.catalog.version == new
        await to_instruments(pilot)
        await pilot.press(*"钢卷尺")
        await pilot.pause()
        hits = app.screen.hits
        assert [(r.code, r.service) for r in hits] == [("C-005-006", "verification"), ("C-005-006.2", "calibration")]
        shown = screen_text(app)
        assert "检定" in shown and "校准" in shown and "￥20.00" in shown and "￥100.00" in shown
        await pilot.press(*["backspace"] * 3)
        await add_line(pilot, "钢卷尺", pick=1, metres="12.3")
        await add_line(pilot, "钢卷尺", pick=0, metres="12.3")
        assert [(ln.code, ln.metres) for ln in app.draft.lines] == [("C-005-006.2", Decimal("12.3")),
                                                                     ("C-005-006", Decimal("12.3"))]
        await pilot.click("#next")
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen) and not isinstance(app.screen, LineEditor)
        est = app.screen.estimate
        assert [(ln.code, ln.service, ln.amount_fen) for ln in est.lines] == [
            ("C-005-006.2", "calibration", 13_000), ("C-005-006", "verification", 6_000)]
        assert est.total_fen == 19_000
        text = screen_text(app)
        assert text.count("C-005-006") >= 2 and "C-005-006.2" not in text  # the number as published


# ---- at the dispatch counter ------------------------------------------------------------------------
# The sample ticket (tests/test_registration.py): 3 pressure gauges for safety (free) and a 7.5 m
# steel tape, 10 + 3 started metres x 2 = 16.00: the charged total storage is taken on.


@pytest.fixture
def ready_ticket(catalog):
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    received = receive(ticket.id, clerk, device, now=datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    assert received.total_fen == 1_600
    # 17:00 UTC on 1 January is 01:00 on 2 January in Beijing: the ready day is the 2nd
    mark_ready(ticket.id, clerk, device, now=datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    return ticket, clerk, device


def test_storage_days_are_counted_on_the_institutes_clock(ready_ticket):
    from kiosk.store.desk import storage_due

    ticket, _, _ = ready_ticket
    # 15:00 UTC on 3 March is 23:00 in Beijing: 2 Jan -> 3 Mar is 60 days (61 on UTC dates)
    charge = storage_due(ticket.id, datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    assert (charge.days, charge.base_fen, charge.amount_fen) == (60, 1_600, 960)  # 30 days x 2 % = 60 %
    # 16:00 UTC is midnight in Beijing: day 61, at 4 %
    charge = storage_due(ticket.id, datetime(2026, 3, 3, 16, 0, tzinfo=UTC))
    assert (charge.days, charge.amount_fen) == (61, 960 + 64)
    assert storage_due(ticket.id, datetime(2026, 1, 31, 15, 0, tzinfo=UTC)).tiers == ()  # 29 days: free
    assert storage_due(ticket.id, datetime(2026, 3, 3, 15, 0, tzinfo=UTC), WITHOUT) is None


def test_a_late_pickup_keeps_its_storage_line_with_the_step_and_prints_it(ready_ticket):
    import json

    import msgspec

    from db.models import OutboxEvent, TicketEvent
    from kiosk.domain import events
    from kiosk.printing.receipts import job_document
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import pick_up
    from printer.document import Row

    ticket, clerk, device = ready_ticket
    pick_up(ticket.id, clerk, device, now=datetime(2026, 2, 11, 2, 0, tzinfo=UTC))  # 40 days: 10 at 2 %
    step = TicketEvent.get((TicketEvent.ticket == ticket.id) & (TicketEvent.kind == "picked_up"))
    kept = StorageCharge.from_dict(json.loads(step.payload)["storage"])
    assert (kept.days, kept.amount_fen, [(t.days, t.amount_fen) for t in kept.tiers]) == (40, 320, [(10, 320)])
    outbox = OutboxEvent.get(OutboxEvent.kind == "ticket.picked_up")
    pushed = msgspec.json.decode(outbox.payload, type=events.strict(events.PickedUp))  # as central checks it
    assert StorageCharge.from_dict(pushed.storage) == kept
    for lang, expected in (
        ("zh", [("保管费：通知取件后40天领取，免费保管30天", "￥3.20"), ("第31天起每天2%，10天", "￥3.20"),
                ("取件应付（含保管费）", "￥19.20")]),
        ("en", [("Storage: collected 40 days after ready, 30 days free", "￥3.20"),
                ("from day 31, 2% a day, 10 days", "￥3.20"), ("Due at pickup (storage included)", "￥19.20")]),
    ):
        slip = job_document("pickup_slip", ticket.id, load_institute(None), lang)
        rows = [(b.key.strip(), b.value) for b in slip.blocks if isinstance(b, Row)]
        at = rows.index(expected[0])
        assert rows[at:at + 3] == expected


def test_a_pickup_within_the_free_period_has_no_storage_line(ready_ticket):
    import json

    from db.models import TicketEvent
    from kiosk.printing.receipts import job_document
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import pick_up

    ticket, clerk, device = ready_ticket
    pick_up(ticket.id, clerk, device, now=datetime(2026, 1, 20, 2, 0, tzinfo=UTC))
    step = TicketEvent.get((TicketEvent.ticket == ticket.id) & (TicketEvent.kind == "picked_up"))
    assert "storage" not in json.loads(step.payload)
    slip = job_document("pickup_slip", ticket.id, load_institute(None), "zh")
    assert not any("保管费" in str(getattr(b, "key", "")) for b in slip.blocks)


@pytest.mark.parametrize("language, line, due", [
    ("zh", "保管费：通知取件后40天领取，免费保管30天  ￥3.20", "取件应付（含保管费）  ￥19.20"),
    ("en", "Storage: collected 40 days after ready, 30 days free  ￥3.20", "Due at pickup (storage included)  ￥19.20"),
])
async def test_the_dispatch_counter_shows_the_storage_due_then_hands_over(language, line, due):
    from datetime import timedelta

    from db.connection import open_database
    from db.models import Clerk, Device, PrintJob, Ticket
    from kiosk.domain.clock import utc_now
    from kiosk.store.desk import mark_ready, receive
    from screens.clerk.dispatch import DispatchScreen

    from .kiosk_pilot import screen_text, settle
    from .test_desk_app import make_desk, sign_in

    app, (number,) = make_desk(language)
    database = open_database(app.config.database)
    ticket, clerk, device = Ticket.get(Ticket.number == number), Clerk.get(), Device.get()
    receive(ticket.id, clerk, device, now=utc_now() - timedelta(days=45))
    mark_ready(ticket.id, clerk, device, now=utc_now() - timedelta(days=40))  # the same hour: 40 dates apart
    database.close()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)
        await pilot.press(*number.replace("-", " "), "enter")
        await settle(pilot)
        shown = screen_text(app)
        assert line in shown and due in shown
        await pilot.press("f7")
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "picked_up"
        assert PrintJob.select().where(PrintJob.kind == "pickup_slip").count() == 1
        assert line in screen_text(app)  # as kept with the step


def test_the_receipt_and_the_receiving_counter_price_extra_data_as_the_kiosk_did(catalog):
    from kiosk.domain.fees import LineRequest
    from kiosk.printing.receipts import ticket_document, ticket_facts
    from kiosk.settings.institute import load_institute
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import receive
    from kiosk.store.registration import InstrumentLine, ensure_device, register

    from .test_registration import sample

    # the 7.5 m tape (16.00) with data the regulation does not require: +3.20
    lines = (InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"), extra_data=True)),)
    ticket = register(sample(lines=lines), catalog, default_policy(), ensure_device("K1"))
    assert ticket.estimate.total_fen == 1_920
    document = ticket_document(ticket_facts(ticket.id), load_institute(None), "zh")  # the receipt: its own line
    assert "  出具规程未要求的数据加收20% ￥3.20" in [getattr(b, "text", "") for b in document.blocks]
    received = receive(ticket.id, add_clerk("wang", "王芳", "2468"), ensure_device("K1"))
    assert received.total_fen == 1_920
