"""The demo fee catalogue shipped in db/seed/demo_catalog.csv: it parses and covers the patterns."""

from __future__ import annotations

from importlib.resources import files

import pytest

from kiosk.domain.catalog import COLUMNS, FIELDS, SERVICES, UNITS, FeeRow, parse_csv, to_csv


def _text() -> str:
    return (files("db") / "seed" / "demo_catalog.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def text() -> str:
    return _text()


@pytest.fixture(scope="module")
def rows(text: str) -> list[FeeRow]:
    return parse_csv(text, filename="demo_catalog.csv")


def _named(rows: list[FeeRow], *needles: str) -> list[FeeRow]:
    return [r for r in rows if any(n in r.name_zh or n in r.aliases for n in needles)]


def test_plain_utf8_with_canonical_chinese_header(text: str) -> None:
    raw = (files("db") / "seed" / "demo_catalog.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    header = text.splitlines()[0].split(",")
    assert header == [zh for zh, _ in COLUMNS]


def test_parses(rows: list[FeeRow]) -> None:
    assert rows
    assert len({r.code for r in rows}) == len(rows)


def test_size(rows: list[FeeRow]) -> None:
    assert len({r.name_zh for r in rows}) >= 25
    assert sum(r.price_fen is not None for r in rows) >= 80


def test_fields(rows: list[FeeRow]) -> None:
    used = {r.field for r in rows}
    assert used <= set(FIELDS)
    assert len(used) >= 7
    assert {"C", "L", "Z", "R", "D", "Y", "F", "S"} <= used


def test_every_service_appears(rows: list[FeeRow]) -> None:
    assert {r.service for r in rows} == set(SERVICES)


def test_add_on_patterns_and_quotes(rows: list[FeeRow]) -> None:
    assert any(r.per_point_fen and r.points_included for r in rows)
    assert any(r.per_range_fen and r.ranges_included for r in rows)
    assert any(r.per_metre_fen and r.metres_included for r in rows)
    assert any(r.ac_dc_percent == 50 for r in rows)
    assert any(r.min_fen for r in rows)
    assert any(r.price_fen is None for r in rows)


def test_round_trip(rows: list[FeeRow]) -> None:
    assert parse_csv(to_csv(rows)) == rows


def test_file_is_in_canonical_form(text: str, rows: list[FeeRow]) -> None:
    # What the counter tools would write back is byte-for-byte the shipped file.
    assert to_csv(rows) == text


def test_every_row_is_complete(rows: list[FeeRow]) -> None:
    for r in rows:
        assert r.name_zh and r.name_en and r.unit in UNITS, r.code
        assert 5 <= r.turnaround_days <= 15, r.code
        if r.service != "repair":
            assert any(k in r.regulation for k in ("JJG ", "JJF ", "JJF(", "GB/T ")), r.code
            assert r.spec_zh and r.spec_en, r.code
        if r.service != "verification":
            assert r.cycle_months is None, r.code


def test_codes_group_items(rows: list[FeeRow]) -> None:
    # Rows of one item share the middle number; one middle number belongs to one item.
    groups: dict[str, set[str]] = {}
    for r in rows:
        groups.setdefault(r.code.rsplit("-", 1)[0], set()).add(r.name_zh)
    assert all(len(names) == 1 for names in groups.values()), groups


def test_compulsory_only_on_verification(rows: list[FeeRow]) -> None:
    assert all(r.service == "verification" for r in rows if r.compulsory_uses)
    # Compulsory verification is the V of the catalogue's supervision.
    assert all(r.supervision in ("V", "P+V") for r in rows if r.compulsory_uses)
    assert all(not r.supervision for r in rows if not r.compulsory_uses)


@pytest.mark.parametrize(
    "name, uses",
    [
        ("电子天平", {"trade", "medical"}), ("电子计价秤", {"trade"}), ("非自动衡器", {"trade"}),
        ("电子汽车衡", {"trade"}), ("一般压力表", {"safety"}), ("汞柱式血压计", {"medical"}),
        ("弹簧式血压表", {"medical"}), ("无创自动测量血压计", {"medical"}), ("出租汽车计价器", {"trade"}),
        ("燃油加油机", {"trade"}), ("水表", {"trade"}), ("膜式燃气表", {"trade"}), ("电能表", {"trade"}),
        ("声级计", {"environment"}), ("呼出气体酒精含量检测仪", {"safety"}),
    ],
)
def test_compulsory_for_the_uses_the_catalogue_names(rows: list[FeeRow], name: str, uses: set[str]) -> None:
    """《实施强制管理的计量器具目录》: the same instrument is compulsory for some uses only."""
    verification = [r for r in rows if r.name_zh == name and r.service == "verification"]
    assert verification and all(r.compulsory_uses == uses for r in verification), name


def test_repairs_mostly_quoted(rows: list[FeeRow]) -> None:
    repairs = [r for r in rows if r.service == "repair"]
    assert sum(r.price_fen is None for r in repairs) * 2 > len(repairs)


@pytest.mark.parametrize(
    "needles",
    [("压力表",), ("天平", "秤", "衡器"), ("血压",), ("计价器",), ("加油机",)],
    ids=["pressure gauge", "balance or scale", "sphygmomanometer", "taximeter", "fuel dispenser"],
)
def test_compulsory_verification_exists(rows: list[FeeRow], needles: tuple[str, ...]) -> None:
    hits = [r for r in rows if any(n in r.name_zh for n in needles)]
    assert any(r.compulsory_uses and r.service == "verification" and r.price_fen is not None for r in hits), (
        needles
    )


def test_pressure_gauges_by_class_and_range(rows: list[FeeRow]) -> None:
    general = [r for r in rows if r.name_zh == "一般压力表"]
    verification = [r for r in general if r.service == "verification"]
    assert {"1.0级", "1.6级", "2.5级"} <= {r.accuracy_class for r in verification}
    assert {"(0~6)MPa", "(6~60)MPa"} <= {r.spec_zh for r in verification}
    assert all(r.cycle_months == 6 and r.compulsory_uses == {"safety"} for r in verification)
    assert any(r.service == "calibration" for r in general)
    precision = [r for r in rows if r.name_zh == "精密压力表" and r.service == "verification"]
    assert {"0.25级", "0.4级"} <= {r.accuracy_class for r in precision}


def test_typical_cycles(rows: list[FeeRow]) -> None:
    def cycles(name: str) -> set[int | None]:
        return {r.cycle_months for r in rows if r.name_zh == name and r.service == "verification"}

    assert cycles("电子天平") == {12}
    assert cycles("电子计价秤") == {12}
    assert cycles("燃油加油机") == {6}
    assert cycles("玻璃液体温度计") == {12}
    assert cycles("汞柱式血压计") == {6}
    # Household meters: first verification only.
    household = [r for r in rows if r.code in ("D-001-001", "D-001-002", "F-004-001")]
    assert len(household) == 3 and all(r.cycle_months is None for r in household)


def test_aliases_reach_everyday_names(rows: list[FeeRow]) -> None:
    for everyday in (
        "压力计",
        "天平",
        "出租车计价器",
        "万用表",
        "卷尺",
        "电子血压计",
        "体温计",
        "电表",
        "加油机",
    ):
        assert _named(rows, everyday), everyday
