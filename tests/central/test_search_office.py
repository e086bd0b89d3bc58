"""The back office's ticket list (/office/tickets, /api/v1/office/tickets): newest first, found by
number, organisation, phone or serial number, filtered by status, site, kiosk and day, in keyset
pages that neither repeat nor skip a ticket while new ones arrive; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs

from central import readmodels

from .nodes import T0, enrol, push
from .test_due_office import line
from .test_feedback_office import office


def listed(client, headers, **query) -> list[str]:
    got = client.get("/api/v1/office/tickets", params=query, headers=headers)
    assert got.status_code == 200, got.text
    return [item["number"] for item in got.json()["items"]]


def test_each_kind_of_search_finds_its_tickets_and_only_them(client, storage, monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,zunyi")
    lobby, zunyi = enrol(client, storage, name="大厅1号机"), enrol(client, storage, name="遵义1号机", site="zunyi")
    desks = {"main": enrol(client, storage, "clerk"), "zunyi": enrol(client, storage, "clerk", site="zunyi")}

    def ticket(kiosk, hours, organisation, phone, serial, *, picked_up=False, site="main"):
        reg = kiosk.registered(at=T0 + timedelta(hours=hours), organisation=organisation, phone=phone)
        t = reg["payload"]["ticket"]
        desk = desks[site]
        steps = [desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=hours, minutes=30),
                           lines=[line("L-001-001", serial)])]
        if picked_up:
            steps.append(desk.step("picked_up", t["uid"], t["number"], at=T0 + timedelta(days=3)))
        assert push(client, kiosk, reg).status_code == 200
        assert push(client, desk, *steps).status_code == 200
        return t["number"]

    gas = ticket(lobby, 1, "贵阳燃气有限公司", "0851-86543210", "SN-77001")
    water = ticket(lobby, 2, "遵义水务集团有限公司", "13812345678", "SN-77002")
    gas_zunyi = ticket(zunyi, 3, "贵阳燃气有限公司", "13900005678", "", picked_up=True, site="zunyi")
    person = ticket(zunyi, 26, "张三", "13700001111", "X 9", site="zunyi")  # a private person: never published
    clerk = office(storage, "clerk")

    assert listed(client, clerk) == [person, gas_zunyi, water, gas]  # newest first
    # The number: whole, or its start, any case, full-width folded.
    assert listed(client, clerk, q=gas) == [gas]
    assert listed(client, clerk, q=gas.lower()) == [gas]
    assert listed(client, clerk, q=f"{lobby.prefix}-261124".replace("P", "ｐ")) == [water, gas]
    assert listed(client, clerk, q=f"{lobby.prefix}-2611249") == []
    # The organisation: a part of its name; a private person's name typed in full.
    assert listed(client, clerk, q="燃气") == [gas_zunyi, gas]
    assert listed(client, clerk, q="遵义水务") == [water]
    assert listed(client, clerk, q="张三") == [person] and listed(client, clerk, q="张") == []
    # The phone: whole (as typed, full-width too) or its last 4 digits.
    assert listed(client, clerk, q="5678") == [gas_zunyi, water]
    assert listed(client, clerk, q="138 1234 5678") == [water]
    assert listed(client, clerk, q="１３８１２３４５６７８") == [water]
    assert listed(client, clerk, q="0851-86543210") == [gas]
    assert listed(client, clerk, q="1234") == []
    # The instrument's serial number, any case and spacing.
    assert listed(client, clerk, q="sn-77001") == [gas]
    assert listed(client, clerk, q="x9") == [person]
    # Filters, alone and with a search.
    assert listed(client, clerk, status="picked_up") == [gas_zunyi]
    assert listed(client, clerk, status="received") == [person, water, gas]
    assert listed(client, clerk, site="zunyi") == [person, gas_zunyi]
    assert listed(client, clerk, kiosk=lobby.uid) == [water, gas]
    assert listed(client, clerk, q="燃气", site="main") == [gas]
    assert listed(client, clerk, **{"from": "2026-11-25"}) == [person]  # T0 + 26 h is the 25th in Shanghai
    assert listed(client, clerk, to="2026-11-24") == [gas_zunyi, water, gas]

    items = client.get("/api/v1/office/tickets", params={"q": "0851-86543210"}, headers=clerk).json()["items"]
    assert items[0]["phone"] == "085******3210" and items[0]["page"] == f"/office/tickets/{gas}"
    assert (items[0]["kiosk"], items[0]["site"], items[0]["status"]) == ("大厅1号机", "main", "received")
    page = client.get("/office/tickets", params={"q": "燃气"}, headers=clerk)
    assert page.status_code == 200
    assert f"href='/office/tickets/{gas}'" in page.text and f"href='/office/tickets/{gas_zunyi}'" in page.text
    assert water not in page.text and "遵义1号机" in page.text and "13900005678" not in page.text
    assert client.get(f"/office/tickets/{gas}", headers=clerk).status_code == 200  # the link leads there
    assert "/office/tickets'" in client.get("/office", headers=clerk).text  # every page links the list


def test_the_rows_follow_what_later_pushes_change(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    step = desk.step("received", "0193aaaa-0000-7000-8000-0000000000aa", f"{kiosk.prefix}-261124-0042",
                     at=T0 + timedelta(hours=2), lines=[line("L-001-001", "LATE-1")])
    assert push(client, desk, step).status_code == 200  # the intake before its registration
    clerk = office(storage, "clerk")
    assert listed(client, clerk, q="LATE-1") == [f"{kiosk.prefix}-261124-0042"]
    assert listed(client, clerk, q="示范燃气") == []
    reg = kiosk.registered(ticket="0193aaaa-0000-7000-8000-0000000000aa", number=f"{kiosk.prefix}-261124-0042",
                           at=T0 + timedelta(hours=1))
    assert push(client, kiosk, reg).status_code == 200
    assert listed(client, clerk, q="示范燃气") == [f"{kiosk.prefix}-261124-0042"]
    built = readmodels.snapshot(storage)
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == built  # what the pushes kept is what a build makes


def test_pages_never_repeat_or_skip_a_ticket_while_new_ones_arrive(client, storage):
    kiosk = enrol(client, storage)
    clerk = office(storage, "clerk")
    # Two tickets of one moment: the id orders them (schema 26), so a page boundary between them holds.
    first = [kiosk.registered(at=T0 + timedelta(minutes=i // 2)) for i in range(11)]
    assert push(client, kiosk, *first).status_code == 200
    expected = listed(client, clerk, size=20)
    assert len(expected) == 11

    seen, query, arriving = [], {"size": 3}, 0
    while True:
        got = client.get("/api/v1/office/tickets", params=query, headers=clerk).json()
        seen += [item["number"] for item in got["items"]]
        arriving += 1  # a kiosk registers while the clerk reads
        assert push(client, kiosk, kiosk.registered(at=T0 + timedelta(days=1, minutes=arriving))).status_code == 200
        if not got["next"]:
            break
        query = {"size": 3, "page": got["next"]}
    assert seen == expected

    back = []
    while got["previous"]:  # and back to the newest, which now shows the arrivals
        got = client.get("/api/v1/office/tickets", params={"size": 3, "page": got["previous"]},
                         headers=clerk).json()
        back = [item["number"] for item in got["items"]] + back
    assert back[-(len(expected) - 2):] == expected[:-2] and len(back) == len(set(back)) == 9 + arriving

    page = client.get("/office/tickets", params={"size": 3}, headers=clerk).text
    after = parse_qs(re.search(r"rel='next' href='/office/tickets\?([^']+)'", page).group(1).replace("&amp;", "&"))
    assert after["size"] == ["3"] and "rel='prev'" not in page
    second = client.get("/office/tickets", params={"size": 3, "page": after["page"][0]}, headers=clerk).text
    assert "rel='prev'" in second and "rel='next'" in second


def test_only_clerks_and_directors_search_and_the_audit_log_keeps_no_phone(client, storage):
    kiosk = enrol(client, storage)
    reg = kiosk.registered(phone="13812345678")
    assert push(client, kiosk, reg).status_code == 200
    for path in ("/api/v1/office/tickets", "/office/tickets"):
        assert client.get(path, headers=office(storage, "auditor")).status_code == 403
        assert client.get(path, follow_redirects=False).status_code == (401 if "/api/" in path else 303)
    for role in ("clerk", "director"):
        assert listed(client, office(storage, role), q="138-1234-5678") != []
    clerk = office(storage, "clerk")
    client.get("/office/tickets", params={"q": "１３８１２３４５６７８", "status": "registered"}, headers=clerk)
    client.get("/office/tickets", params={"q": "示范 13812345678"}, headers=clerk)
    with storage.read() as tx:
        rows = tx.all("SELECT route, query, row_count FROM office_audit WHERE route LIKE ? ORDER BY id",
                      ("%/office/tickets",))
    assert len(rows) == 4 and all(count == 1 for _, _, count in rows[:3])
    for _, query, _ in rows:
        assert not re.search(r"[0-9]{5}", query) and "１３８" not in query, query
        assert "5678" in parse_qs(query)["q"][0] and "*******5678" in parse_qs(query)["q"][0]
    assert parse_qs(rows[2][1])["status"] == ["registered"]
    number = reg["payload"]["ticket"]["number"]  # its digits are no phone: kept, to say which ticket was looked up
    client.get("/api/v1/office/tickets", params={"q": number}, headers=clerk)
    with storage.read() as tx:
        assert parse_qs(tx.one("SELECT query FROM office_audit ORDER BY id DESC LIMIT 1")[0])["q"] == [number]


def test_bad_parameters_are_said_plainly(client, storage):
    clerk = office(storage, "clerk")
    for query, says in (({"size": "0"}, "size"), ({"size": "501"}, "size"), ({"size": "3.0"}, "size"),
                        ({"status": "lost"}, "status"), ({"from": "2026-13-01"}, "from"),
                        ({"from": "2026-11-25", "to": "2026-11-24"}, "from: after to"),
                        ({"page": "nonsense"}, "page"), ({"page": "n12.0193AAAA-0000-7000-8000-0000000000aa"}, "page"),
                        ({"q": "x" * 101}, "q"), ({"q": "a\x01b"}, "q")):
        page = client.get("/office/tickets", params=query, headers=clerk)
        assert page.status_code == 422 and says in page.text and "text/html" in page.headers["content-type"], query
        got = client.get("/api/v1/office/tickets", params=query, headers=clerk)
        assert got.status_code == 422 and got.json()["error"] == "invalid" and says in got.json()["detail"], query
    assert client.get("/office/tickets", params={"size": " 500 ", "q": " "}, headers=clerk).status_code == 200
