"""The customer organisations' names the customer screen completes (kiosk/store/organisations.py):
after two characters, names that start with the text, then names that contain it, by how often
this kiosk registered them and how recently; typed widths and spaces do not matter; only names
that may be a private person's, a phone or a contact's own name are never offered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.models import Organisation, Ticket
from kiosk.domain.organisations import search_key, shareable
from kiosk.store.organisations import count_seen, learn, matching, remember

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def test_nothing_is_offered_before_two_characters(db):
    learn(["贵州省计量测试院", "贵阳市燃气有限公司"], T0)
    assert matching("") == [] and matching("贵") == [] and matching("贵 ") == [] and matching("ｇ") == []
    assert matching("贵州") == ["贵州省计量测试院"]


def test_names_that_start_with_the_text_come_before_names_that_contain_it(db):
    learn(["遵义市燃气有限公司", "燃气设备检测中心", "贵阳燃气集团有限公司", "燃气表厂有限公司"], T0)
    shown = matching("燃气")
    assert set(shown[:2]) == {"燃气设备检测中心", "燃气表厂有限公司"}
    assert set(shown[2:]) == {"遵义市燃气有限公司", "贵阳燃气集团有限公司"}
    assert matching("燃气", limit=1) in (["燃气设备检测中心"], ["燃气表厂有限公司"])
    assert matching("检测中心") == ["燃气设备检测中心"]


def test_names_registered_here_more_often_and_more_recently_come_first(db):
    learn(["贵州甲有限公司", "贵州乙有限公司", "贵州丙有限公司", "贵州丁有限公司", "贵州戊有限公司"], T0)
    remember("贵州丙有限公司", "李工", T0 + timedelta(days=1))
    remember("贵州丙有限公司", "李工", T0 + timedelta(days=2))
    remember("贵州乙有限公司", "王工", T0 + timedelta(days=3))  # once, but most recently
    remember("贵州丁有限公司", "张工", T0 + timedelta(days=1))
    assert matching("贵州") == ["贵州丙有限公司", "贵州乙有限公司", "贵州丁有限公司", "贵州戊有限公司"]
    row = Organisation.get(Organisation.key == search_key("贵州丙有限公司"))
    assert (row.seen, row.last_seen) == (2, T0 + timedelta(days=2))


@pytest.mark.parametrize("typed", ["ＡＢＣ计量", "abc 计量", "A B C　计量", "abc计量（", "ABC计量("])
def test_widths_case_spaces_and_brackets_are_the_same_text(db, typed):
    learn(["ABC计量(集团)有限公司"], T0)
    assert matching(typed) == ["ABC计量(集团)有限公司"]


def test_a_name_known_in_another_spelling_is_one_name_the_latest_spelling_shown(db):
    learn(["ABC 计量（集团）有限公司"], T0)
    remember("abc计量(集团)有限公司", "李工", T0 + timedelta(days=1))
    assert learn(["ＡＢＣ计量（集团）有限公司"], T0) == 0
    assert Organisation.select().count() == 1
    assert matching("abc") == ["abc计量(集团)有限公司"]


@pytest.mark.parametrize(("organisation", "contact"), [
    ("张伟", "张伟"),  # a person registering for themselves (the field's hint asks for the name)
    ("欧阳明", ""),  # short: a person's name
    ("个人", "李四"),
    ("王建国个人送检", "王建国个人送检"),  # the contact's own name, however long
    ("13812345678", "李工"),  # a phone typed into the wrong field
    ("0851-85551234 贵阳", "李工"),
    ("91520100MA6DKJ2X4U", "李工"),  # a credit code typed into the wrong field
])
def test_names_that_may_be_a_person_or_a_phone_are_never_offered(db, organisation, contact):
    assert not shareable(organisation, contact)
    remember(organisation, contact, T0)
    if not shareable(organisation):  # central leaves out a contact's own name (it knows the contact)
        assert learn([organisation], T0) == 0
    assert Organisation.select().count() == 0


def test_names_that_are_an_organisations_are_offered():
    for name in ("贵州省计量测试院", "3M中国有限公司", "第一人民医院", "ACME Ltd"):
        assert shareable(name, "李工")


def test_a_published_name_this_node_refuses_is_skipped_and_the_rest_kept(db):
    assert learn(["坏\u202e名字有限公司", "贵州好名字有限公司", "x" * 101], T0) == 1
    assert matching("贵州") == ["贵州好名字有限公司"]


def test_a_registration_remembers_its_organisation_in_its_own_transaction(db, catalog, monkeypatch):
    from kiosk.domain.fees import LineRequest, default_policy
    from kiosk.store import registration
    from kiosk.store.registration import InstrumentLine, Registration, ensure_device, register
    from kiosk.store.tickets import CustomerDetails

    device = ensure_device("K1")
    code = catalog.rows[0].code

    def registered(organisation: str, contact: str = "李工"):
        customer = CustomerDetails(organisation=organisation, credit_code="", address="", contact=contact,
                                   phone="13812345678")
        return register(Registration(customer, (InstrumentLine(LineRequest(code)),)), catalog, default_policy(),
                        device, now=T0)

    registered("贵州示范燃气有限公司")
    registered("贵州示范燃气有限公司")
    registered("赵六", "赵六")
    assert matching("贵州") == ["贵州示范燃气有限公司"] and matching("赵六") == []
    assert Organisation.get().seen == 2

    def counted_then_failed(*args):
        count_seen(*args)
        raise OSError("disk full")

    monkeypatch.setattr(registration, "count_seen", counted_then_failed)
    with pytest.raises(OSError):
        registered("遵义另一家有限公司")
    assert matching("遵义") == [] and Ticket.select().count() == 3  # neither the ticket nor the name


def test_matching_at_fifty_thousand_names_reads_the_indexes_not_the_table(db):
    """How fast is bench/organisations.py's to measure; here, that both queries walk an index
    (a range of the key's b-tree; the rank index, covering) and never read the table row by row,
    whose cost would grow with every name central sends."""
    from db.models import database_proxy
    from kiosk.store.organisations import _CONTAINING, _HIGHEST, _STARTING

    places = ["贵州", "贵阳", "遵义", "六盘水", "安顺", "毕节", "铜仁", "凯里", "都匀", "兴义"]
    trades = ["燃气", "电力", "水务", "化工", "制药", "机械", "建材", "食品", "酿酒", "仪表"]
    names = [f"{place}{trade}第{i}有限公司" for i in range(500) for place in places for trade in trades]
    with db.atomic():  # as a pulled page is applied
        learn(names, T0)
    assert Organisation.select().count() == 50_000

    def plan(sql: str, *args) -> list[str]:
        return [row[3] for row in database_proxy.execute_sql("EXPLAIN QUERY PLAN " + sql, args)]

    key = search_key("贵州")
    assert "SEARCH organisation USING PRIMARY KEY (key>? AND key<?)" in plan(_STARTING, key, key + _HIGHEST, 4)
    containing = plan(_CONTAINING, search_key("燃气"), 4)
    assert "SCAN organisation USING COVERING INDEX organisation_rank" in containing
    assert not [step for step in containing if step.startswith("SCAN organisation") and "INDEX" not in step]
    assert len(matching("贵州")) == 4 and all(n.startswith("贵州") for n in matching("贵州"))
    assert len(matching("燃气第4")) == 4 and matching("没有的名字") == []


def test_the_upgrade_fills_in_the_names_of_the_tickets_stored_before_with_the_same_key_and_rule(tmp_path):
    """Schema 10 computes the key and the rule in SQL (db/migrations/m0010_organisations.py): for
    every name as the kiosk stored it, the same as kiosk/domain/organisations.py."""
    from db.connection import open_database
    from db.models import CatalogVersion, Customer, database_proxy
    from kiosk.store.registration import ensure_device

    path = tmp_path / "old.sqlite3"
    old = open_database(path, target=9)
    # an empty catalogue version: the fee rows' table of schema 9 is not today's (schema 12)
    version = CatalogVersion.create(source="demo", sha256="", row_count=0, imported_at=T0).id
    device = ensure_device("K1")
    stored = [  # (organisation, contact) as clean_organisation / clean_person left them
        ("ABC 计量(集团)有限公司", "李工"), ("abc计量（集团）有限公司", "王工"), ("Acme Ltd", "Jo"),
        ("贵州省计量测试院", "张三"), ("张伟", "张伟"), ("王建国个人送检", "王建国个人送检"),
        ("13812345678", "李工"), ("贵阳 0851-85551234", "李工"), ("", ""),
    ]
    with database_proxy.atomic():
        for i, (organisation, contact) in enumerate(stored):
            customer = Customer.create(organisation=organisation, credit_code="", address="", contact=contact,
                                       phone="", created_at=T0)
            Ticket.create(uid=f"u{i}", number=f"K1-261124-{i:04d}", device=device.id, customer=customer.id,
                          version=version, policy_id="p", status="registered", pickup="in_person", certificates=1,
                          certificate_name="", total_fen=0, quoted_lines=0, estimate_json="{}",
                          created_at=T0 + timedelta(days=i))
    old.close()

    db = open_database(path)
    try:
        rows = {row.key: (row.name, row.seen, row.last_seen) for row in Organisation.select()}
        expected = {search_key(o) for o, c in stored if shareable(o, c)}
        assert set(rows) == expected == {"abc计量（集团）有限公司", "acmeltd", "贵州省计量测试院"}
        name, seen, last_seen = rows["abc计量（集团）有限公司"]
        assert seen == 2 and last_seen == T0 + timedelta(days=1) and search_key(name) == "abc计量（集团）有限公司"
        assert matching("ＡＢＣ 计量") == [name]
    finally:
        db.close()
