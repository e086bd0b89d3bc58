"""The institute's list of customer organisations (central/organisations.py): each name a
registration brings is published once, to every device but the one that pushed it, as
`organisation.known`; the name only, never a contact, a phone or anything else a lobby kiosk
must not see; a name that may be a person's is not published at all."""

from __future__ import annotations

import json
import uuid

from central import schema
from central.schema import open_storage
from central.storage import Storage

from .nodes import enrol, pull_all, push


def names(changes) -> list[str]:
    return [name for c in changes if c["kind"] == "organisation.known" for name in c["data"]["names"]]


def test_a_new_name_is_published_once_to_every_device_but_its_pusher(client, storage):
    kiosk, other_kiosk, desk = enrol(client, storage), enrol(client, storage), enrol(client, storage, "clerk")
    assert push(client, kiosk, kiosk.registered(organisation="贵州示范燃气有限公司"),
                kiosk.registered(organisation="遵义市计量检测有限公司")).status_code == 200
    # The same names again, spelled another way (width, spaces, brackets), from another kiosk.
    assert push(client, other_kiosk, other_kiosk.registered(organisation="贵州 示范燃气有限公司"),
                other_kiosk.registered(organisation="ＡＢＣ仪表(集团)有限公司")).status_code == 200
    assert push(client, kiosk, kiosk.registered(organisation="abc仪表（集团）有限公司")).status_code == 200

    on_other, _ = pull_all(client, other_kiosk)
    assert names(on_other) == ["贵州示范燃气有限公司", "遵义市计量检测有限公司"]
    on_kiosk, _ = pull_all(client, kiosk)
    assert names(on_kiosk) == ["ＡＢＣ仪表(集团)有限公司"]
    on_desk, _ = pull_all(client, desk)
    assert names(on_desk) == ["贵州示范燃气有限公司", "遵义市计量检测有限公司", "ＡＢＣ仪表(集团)有限公司"]
    assert [c["data"] for c in on_desk if c["kind"] == "organisation.known"] == [
        {"names": ["贵州示范燃气有限公司", "遵义市计量检测有限公司"]}, {"names": ["ＡＢＣ仪表(集团)有限公司"]}]


def test_a_lobby_kiosk_gets_the_names_and_nothing_else_of_other_customers(client, storage):
    kiosk, lobby = enrol(client, storage), enrol(client, storage)
    reg = kiosk.registered(organisation="六盘水示范钢铁有限公司", phone="13987654321")
    reg["payload"]["customer"] |= {"contact": "欧阳娜娜", "address": "钟山区某路8号",
                                   "credit_code": "91520200MA6DKJ2X4U"}
    assert push(client, kiosk, reg).status_code == 200

    changes, _ = pull_all(client, lobby)
    assert names(changes) == ["六盘水示范钢铁有限公司"]
    everything = json.dumps(changes, ensure_ascii=False)
    # The phone's last four as a value of their own ("4321"): as a bare fragment, a device's random
    # uid in the same changes holds them now and then.
    for private in ("13987654321", '"4321"', "欧阳娜娜", "钟山区", "91520200MA6DKJ2X4U",
                    reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]):
        assert private not in everything
    assert {c["kind"] for c in changes} == {"device.key", "organisation.known"}


def test_a_name_that_may_be_a_person_or_a_phone_is_not_published(client, storage):
    kiosk, lobby = enrol(client, storage), enrol(client, storage)
    regs = [kiosk.registered(organisation=name) for name in ("张伟", "个人", "13812345678", "李工")]  # contact: 李工
    assert push(client, kiosk, *regs).status_code == 200
    changes, _ = pull_all(client, lobby)
    assert names(changes) == []
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM organisation_name")[0] == 0


def test_a_repeated_push_publishes_nothing_again(client, storage):
    kiosk, lobby = enrol(client, storage), enrol(client, storage)
    reg = kiosk.registered(organisation="安顺示范水务有限公司")
    assert push(client, kiosk, reg).status_code == 200
    assert push(client, kiosk, reg).status_code == 200  # a lost answer: the same event again
    assert names(pull_all(client, lobby)[0]) == ["安顺示范水务有限公司"]


def test_the_upgrade_to_schema_3_publishes_the_names_stored_before(database_url):
    from fastapi.testclient import TestClient

    from central.app import create_app

    storage = Storage(database_url)
    try:
        with storage.transaction() as tx:  # a database as schema 2 left it
            for statement in (*schema.TABLES, *schema.UPGRADES[2]):
                tx.execute(statement.format(**schema.TYPES[storage.dialect]))
            tx.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', '2')")
            tx.execute("INSERT INTO device (uid, name, role, prefix, public_key, enrolled_at) "
                       "VALUES (?, '', 'kiosk', 'OLDK', 'k', '2026-11-01T00:00:00+00:00')", (str(uuid.uuid4()),))
            stored = (("毕节示范电力有限公司", "李工"), ("毕节 示范电力有限公司", "王工"), ("王五", "王五"),
                      ("铜仁示范矿业有限公司", "赵工"))
            for i, (organisation, contact) in enumerate(stored):
                payload = json.dumps({"ticket": {"number": f"OLDK-261124-{i:04d}"},
                                      "customer": {"organisation": organisation, "contact": contact,
                                                   "phone": "13812345678"}}, ensure_ascii=False)
                tx.execute("INSERT INTO event (uid, kind, device_id, ticket, status, created_at, received_at, payload) "
                           "VALUES (?, 'ticket.registered', 1, ?, 0, '2026-11-20T00:00:00+00:00', "
                           "'2026-11-20T00:00:00+00:00', ?)", (f"e{i}", f"t{i}", payload))
    finally:
        storage.close()

    upgraded = open_storage(database_url)
    try:
        open_storage(database_url).close()  # a second start publishes nothing again
        with TestClient(create_app(upgraded)) as client:
            lobby = enrol(client, upgraded)
            changes, _ = pull_all(client, lobby)
            # Every device gets them, the kiosk that registered them too (its list may predate them).
            assert names(changes) == ["毕节示范电力有限公司", "铜仁示范矿业有限公司"]
            assert "13812345678" not in json.dumps(changes)
            kiosk = enrol(client, upgraded)
            push(client, kiosk, kiosk.registered(organisation="铜仁示范矿业有限公司"))
            assert names(pull_all(client, lobby)[0]) == ["毕节示范电力有限公司", "铜仁示范矿业有限公司"]
    finally:
        upgraded.close()
