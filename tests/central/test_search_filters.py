"""Issue 20's filters by counter, clerk and lab field on the ticket list (ticket_facet, schema 12),
and the due list by site (due_item_site): real pushes through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs

import central.due
from central import readmodels
from central.catalog import import_catalog
from central.devices import revoke
from central.voiding import void
from kiosk.domain.clock import utc_now
from kiosk.store.catalog import demo_csv

from .nodes import T0, enrol, push
from .office_users import office
from .test_due_office import line, noon
from .test_search_office import listed


def test_the_list_filters_by_counter_clerk_and_field_alone_together_and_with_a_search(client, storage, monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,zunyi")
    kiosk = enrol(client, storage, name="大厅1号机")
    one, two = enrol(client, storage, "clerk", name="1号窗口"), enrol(client, storage, "clerk", name="2号窗口")

    def ticket(hours, desk, clerk, codes, organisation="贵阳燃气有限公司"):
        reg = kiosk.registered(at=T0 + timedelta(hours=hours), organisation=organisation)
        t = reg["payload"]["ticket"]  # its registration names one line, L-001-001 (力学)
        assert push(client, kiosk, reg).status_code == 200
        if desk is not None:
            step = desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=hours, minutes=30),
                             clerk=clerk, lines=[line(code) for code in codes])
            assert push(client, desk, step).status_code == 200
        return t["number"]

    mass = ticket(1, one, "wang", ["Z-001-001"])
    flow = ticket(2, two, "li", ["F-004-003", "Z-001-001"], organisation="遵义水务集团有限公司")
    waiting = ticket(3, None, None, [])  # not taken in yet: its registration's line only
    gauge = ticket(4, one, "li", ["L-001-001"])
    clerk = office(storage, "clerk")

    assert listed(client, clerk, counter=one.uid) == [gauge, mass]
    assert listed(client, clerk, counter=two.uid) == [flow]
    assert listed(client, clerk, clerk="li") == [gauge, flow]
    assert listed(client, clerk, clerk=" wang ") == [mass]
    assert listed(client, clerk, field="Z") == [flow, mass]
    assert listed(client, clerk, field="f") == [flow]  # a letter in either case
    assert listed(client, clerk, field="L") == [gauge, waiting, flow, mass]  # the registrations' lines count too
    assert listed(client, clerk, field="H") == []
    assert listed(client, clerk, counter=one.uid, clerk="li") == [gauge]
    assert listed(client, clerk, counter=one.uid, field="Z") == [mass]
    assert listed(client, clerk, clerk="li", field="Z", counter=two.uid) == [flow]
    assert listed(client, clerk, q="燃气", field="Z") == [mass]
    assert listed(client, clerk, q="燃气", counter=one.uid, clerk="li") == [gauge]
    assert listed(client, clerk, field="L", status="registered") == [waiting]
    assert listed(client, clerk, field="Z", **{"from": "2026-11-24", "to": "2026-11-24"}) == [flow, mass]
    assert listed(client, clerk, counter=enrol(client, storage, "clerk").uid) == []

    # Pages of a filtered list, both ways, their links keeping the filters.
    first = client.get("/api/v1/office/tickets", params={"field": "L", "size": 3}, headers=clerk).json()
    assert [i["number"] for i in first["items"]] == [gauge, waiting, flow] and first["previous"] is None
    second = client.get("/api/v1/office/tickets", params={"field": "L", "size": 3, "page": first["next"]},
                        headers=clerk).json()
    assert [i["number"] for i in second["items"]] == [mass] and second["next"] is None
    back = client.get("/api/v1/office/tickets", params={"field": "L", "size": 3, "page": second["previous"]},
                      headers=clerk).json()
    assert [i["number"] for i in back["items"]] == [gauge, waiting, flow]

    page = client.get("/office/tickets", params={"counter": one.uid, "clerk": "li", "field": "L", "size": 1,
                                                  "q": "燃气"}, headers=clerk)
    assert page.status_code == 200 and f"/office/tickets/{gauge}'" in page.text and mass not in page.text
    # The form shows the choices and what was chosen, in both languages.
    assert "受理窗口 Counter" in page.text and "受理人 Clerk" in page.text and "专业 Field" in page.text
    assert f"<option value='{one.uid}' selected>1号窗口" in page.text and "2号窗口" in page.text
    assert "<option value='L' selected>力学 Mechanics and pressure" in page.text
    assert "name='clerk' value='li'" in page.text
    none = client.get("/office/tickets", params={"counter": one.uid, "field": "L", "size": 1}, headers=clerk)
    after = parse_qs(re.search(r"rel='next' href='/office/tickets\?([^']+)'", none.text).group(1).replace("&amp;", "&"))
    assert after["counter"] == [one.uid] and after["field"] == ["L"] and after["size"] == ["1"]
    following = client.get("/office/tickets", params={k: v[0] for k, v in after.items()}, headers=clerk)
    assert f"/office/tickets/{mass}'" in following.text and f"/office/tickets/{gauge}'" not in following.text


def test_a_ticket_listed_earlier_by_a_late_registration_moves_in_every_filter(client, storage):
    """The intake arrives first; its registration, older, then moves the ticket down the list: the
    filters' rows move with it, and a build gives the same rows."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    newer = kiosk.registered(at=T0 + timedelta(hours=5))
    assert push(client, kiosk, newer).status_code == 200
    uid, number = "0193aaaa-0000-7000-8000-0000000000ab", f"{kiosk.prefix}-261124-0042"
    step = desk.step("received", uid, number, at=T0 + timedelta(hours=6), lines=[line("Z-001-001")])
    assert push(client, desk, step).status_code == 200
    clerk = office(storage, "clerk")
    assert listed(client, clerk, field="Z") == [number]
    assert listed(client, clerk, counter=desk.uid, field="L") == []  # no registration yet
    assert listed(client, clerk) == [number, newer["payload"]["ticket"]["number"]]
    assert push(client, kiosk, kiosk.registered(ticket=uid, number=number, at=T0 + timedelta(hours=1))
                ).status_code == 200
    assert listed(client, clerk) == [newer["payload"]["ticket"]["number"], number]
    assert listed(client, clerk, counter=desk.uid, field="L") == [number]  # a probe of the moved rows
    assert listed(client, clerk, field="Z", to="2026-11-24") == [number]
    got = client.get("/api/v1/office/tickets", params={"field": "L", "size": 1}, headers=clerk).json()
    older = client.get("/api/v1/office/tickets", params={"field": "L", "size": 1, "page": got["next"]},
                       headers=clerk).json()
    assert [i["number"] for i in older["items"]] == [number]
    pushed = readmodels.snapshot(storage)
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == pushed and len(pushed["ticket_facet"]) == 5


def test_a_voided_desks_intakes_leave_its_filter(client, storage):
    kiosk, desk, thief = enrol(client, storage), enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    reg = kiosk.registered(at=T0)
    t = reg["payload"]["ticket"]
    assert push(client, kiosk, reg).status_code == 200
    assert push(client, desk, desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=1),
                                        lines=[line("Z-001-001")])).status_code == 200
    since = utc_now()
    assert push(client, thief, thief.step("received", t["uid"], t["number"], at=T0 + timedelta(minutes=30),
                                          clerk="mallory", lines=[line("H-001-001")])).status_code == 200
    clerk = office(storage, "clerk")
    assert listed(client, clerk, counter=thief.uid) == [t["number"]] == listed(client, clerk, field="H")
    revoke(storage, thief.uid)
    void(storage, thief.uid, since)
    assert listed(client, clerk, counter=thief.uid) == [] == listed(client, clerk, clerk="mallory")
    assert listed(client, clerk, field="H") == []
    assert listed(client, clerk, field="Z", counter=desk.uid) == [t["number"]]


def test_bad_filters_are_said_plainly(client, storage):
    clerk = office(storage, "clerk")
    for query, says in (({"counter": "a b"}, "counter: a clerk desk"), ({"counter": "x" * 65}, "counter"),
                        ({"clerk": "a\x01b"}, "clerk: a clerk"), ({"clerk": "x" * 65}, "clerk"),
                        ({"field": "Q"}, "field: a lab field"), ({"field": "LZ"}, "field")):
        page = client.get("/office/tickets", params=query, headers=clerk)
        assert page.status_code == 422 and says in page.text, query
        got = client.get("/api/v1/office/tickets", params=query, headers=clerk)
        assert got.status_code == 422 and says in got.json()["detail"], query
    for path in ("/office/due", "/api/v1/office/due", "/office/due.csv"):
        got = client.get(path, params={"site": "a,b"}, headers=clerk)
        assert got.status_code == 422 and "site: a site" in got.text, path


def test_the_due_list_of_one_site(client, storage, monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,zunyi")
    monkeypatch.setattr(central.due, "institute_today", lambda: date(2026, 7, 1))
    import_catalog(storage, demo_csv(), "demo.csv")
    sites = {site: (enrol(client, storage, site=site), enrol(client, storage, "clerk", name=f"{site}窗口", site=site))
             for site in ("main", "zunyi")}

    def served(site, serial, picked_up):
        kiosk, desk = sites[site]
        reg = kiosk.registered(organisation=f"{site}单位")
        t = reg["payload"]["ticket"]
        assert push(client, kiosk, reg).status_code == 200
        assert push(client, desk, desk.step("received", t["uid"], t["number"], at=noon(picked_up - timedelta(days=5)),
                                            lines=[line("L-001-001", serial)]),
                    desk.step("picked_up", t["uid"], t["number"], at=noon(picked_up))).status_code == 200
        return t["number"]

    main = [served("main", f"M{n}", date(2026, 1, 5) + timedelta(weeks=n)) for n in range(3)]
    zunyi = [served("zunyi", f"Z{n}", date(2026, 1, 6) + timedelta(weeks=n)) for n in range(3)]
    clerk = office(storage, "clerk")

    def numbers(**query):
        got = client.get("/api/v1/office/due", params={"within": "60d", **query}, headers=clerk)
        assert got.status_code == 200, got.text
        return got.json()

    assert [i["number"] for i in numbers()["items"]] == [n for pair in zip(main, zunyi) for n in pair]
    only = numbers(site="zunyi")
    assert [i["number"] for i in only["items"]] == zunyi and only["site"] == "zunyi"
    assert only["total"] == {"n": 3, "more": False}
    assert numbers(site="elsewhere")["items"] == []
    first = numbers(site="main", size="2")
    assert [i["number"] for i in first["items"]] == main[:2]
    rest = numbers(site="main", size="2", **{"from": first["next"]})
    assert [i["number"] for i in rest["items"]] == main[2:] and rest["next"] is None
    assert [i["number"] for i in numbers(site="main", size="2", **{"from": rest["previous"]})["items"]] == main[:2]

    page = client.get("/office/due", params={"within": "60d", "site": "zunyi", "size": "2"}, headers=clerk)
    assert page.status_code == 200 and "共 3 项" in page.text and "<option value='zunyi' selected>" in page.text
    assert all(f"/office/tickets/{n}'" not in page.text for n in main)
    nxt = parse_qs(re.search(r"href='/office/due\?([^']+)' rel='next'", page.text).group(1).replace("&amp;", "&"))
    assert nxt["site"] == ["zunyi"] and nxt["size"] == ["2"]
    csv = client.get("/office/due.csv", params={"within": "60d", "site": "main"}, headers=clerk)
    assert csv.status_code == 200 and all(n in csv.text for n in main) and not any(n in csv.text for n in zunyi)


def test_tickets_of_one_moment_are_in_one_order_with_a_filter_or_without_and_across_pages(client, storage):
    """Schema 26: the list's ties of first_at are ordered by the ticket's id, in ticket_state's indexes and
    in ticket_facet's key alike, so a filtered list is the whole list's order, and a page boundary
    between tickets of one moment neither repeats nor skips one (their page links name the uid)."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    regs = [kiosk.registered(at=T0) for _ in range(5)]  # one moment: only the tie decides
    assert push(client, kiosk, *regs).status_code == 200
    assert push(client, desk, *(desk.step("received", r["payload"]["ticket"]["uid"], r["payload"]["ticket"]["number"],
                                          at=T0 + timedelta(hours=1), clerk="li", lines=[line("Z-001-001")])
                                for r in regs)).status_code == 200
    clerk = office(storage, "clerk")
    with storage.read() as tx:
        by_id = [n for (n,) in tx.all("SELECT number FROM ticket_state ORDER BY id DESC")]
    assert listed(client, clerk) == by_id  # newest first, ties by id, largest first
    for query in ({"counter": desk.uid}, {"clerk": "li"}, {"field": "Z"}, {"q": kiosk.prefix}, {"status": "received"}):
        assert listed(client, clerk, **query) == by_id, query
        seen, page = [], None
        while True:
            got = client.get("/api/v1/office/tickets", params={**query, "size": 2, **({"page": page} if page else {})},
                             headers=clerk).json()
            seen += [item["number"] for item in got["items"]]
            if not got["next"]:
                break
            page = got["next"]
        assert seen == by_id, query
        back = [item["number"] for item in got["items"]]  # the last page, then back to the first
        while got["previous"]:
            got = client.get("/api/v1/office/tickets", params={**query, "size": 2, "page": got["previous"]},
                             headers=clerk).json()
            back = [item["number"] for item in got["items"]] + back
        assert back == by_id, query
