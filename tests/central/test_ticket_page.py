"""A page per ticket (issue 20 item 3): everything a clerk on the telephone is asked about, from
central's events; customers' data for clerks and directors only, each view in the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime

from central.catalog import import_catalog
from central.devices import revoke
from central.voiding import void
from kiosk.store.catalog import demo_csv

from .nodes import push
from .office_users import office
from .test_due_office import Counter, line


def _served(client, storage) -> tuple[Counter, str]:
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    number = counter.serve([line("L-001-001", "SN-77"), line("Z-001-001", "B7", refused=True)], date(2026, 1, 31),
                           organisation="示范燃气有限公司", phone="13812345678")
    return counter, number


def _uid(storage, number: str) -> str:
    with storage.read() as tx:
        return tx.one("SELECT uid FROM ticket WHERE number = ?", (number,))[0]


def test_the_page_tells_the_whole_story_of_a_ticket(client, storage):
    counter, number = _served(client, storage)
    poor = counter.kiosk.feedback(2, ticket=_uid(storage, number), number=number, comment="等了很久")
    assert push(client, counter.kiosk, poor).status_code == 200
    page = client.get(f"/office/tickets/{number}", headers=office(storage, "clerk"))
    assert page.status_code == 200
    text = page.text
    for shown in ("示范燃气有限公司", "13812345678", "李工", "L-001-001", "一般压力表", "SN-77", "未收 refused",
                  "已登记", "已收件", "待取件", "已取件", "王芳", "1号窗口", "JD-2026-001", "等了很久", "未办结 open",
                  "强制检定免费（安全防护）", "到窗口自取"):
        assert shown in text, shown
    assert text.index("已登记") < text.index("已收件 received</td>") < text.index("已取件 picked up</td>")
    data = client.get(f"/api/v1/office/tickets/{number}", headers=office(storage, "clerk")).json()
    assert data["status"] == "picked_up" and [s["status"] for s in data["steps"]] == [
        "registered", "received", "ready", "picked_up"]
    assert data["certificates"] == {"0": ["JD-2026-001"]}
    assert [(r["rating"], r["followup"]["closed"]) for r in data["ratings"]] == [(2, None)]


def test_a_voided_step_is_shown_struck_and_leaves_the_status(client, storage):
    counter, number = _served(client, storage)
    revoke(storage, counter.desk.uid)  # a stolen desk: every step it stated is withdrawn
    void(storage, counter.desk.uid, datetime(2000, 1, 1, tzinfo=UTC), "stolen")
    data = client.get(f"/api/v1/office/tickets/{number}", headers=office(storage)).json()
    assert data["status"] == "registered"
    assert [s["voided"] for s in data["steps"]] == [False, True, True, True]
    assert "已作废 voided" in client.get(f"/office/tickets/{number}", headers=office(storage)).text


def test_every_list_links_each_ticket_to_its_page(client, storage):
    _, number = _served(client, storage)
    Counter(client, storage).serve([line("L-001-001", "N1")], None)  # in the lab: the work list
    headers = office(storage)
    for path in ("/office", "/office/due?within=3660d", "/office/worklist"):
        page = client.get(path, headers=headers).text
        assert "href='/office/tickets/" in page, path
    assert f"href='/office/tickets/{number}'" in client.get("/office", headers=headers).text


def test_an_auditor_may_not_open_a_ticket_and_a_view_is_audited(client, storage):
    _, number = _served(client, storage)
    assert client.get(f"/api/v1/office/tickets/{number}", headers=office(storage, "auditor")).status_code == 403
    assert client.get(f"/office/tickets/{number}", headers=office(storage, "auditor")).status_code == 403
    client.get(f"/office/tickets/{number}", headers=office(storage, "clerk"))
    with storage.read() as tx:
        rows = tx.all("SELECT route, row_count FROM office_audit WHERE route LIKE ?", ("/office/tickets/%",))
    assert rows == [(f"/office/tickets/{number}", 1)]


def test_an_unknown_or_malformed_number_says_so(client, storage):
    headers = office(storage)
    missing = client.get("/office/tickets/K1A-261124-9999", headers=headers)
    assert missing.status_code == 404 and "K1A-261124-9999" in missing.text
    assert client.get("/api/v1/office/tickets/K1A-261124-9999", headers=headers).json()["error"] == "not_found"
    assert client.get("/office/tickets/<script>", headers=headers).status_code == 422
    assert client.get("/office/tickets/" + "9" * 40, headers=headers).status_code == 422


def test_times_are_the_institutes(client, storage):
    _, number = _served(client, storage)  # picked up at noon UTC on 2026-01-31: 20:00 in Shanghai
    data = client.get(f"/api/v1/office/tickets/{number}", headers=office(storage)).json()
    picked = next(s for s in data["steps"] if s["status"] == "picked_up")
    assert picked["at"] == "2026-01-31T12:00:00+00:00"  # the JSON, for tools: UTC
    page = client.get(f"/office/tickets/{number}", headers=office(storage)).text
    assert "2026-01-31 20:00:00" in page and "Asia/Shanghai" in page


def test_a_tickets_ratings_and_their_closes_are_found_by_index(storage):
    """However many ratings central holds, a ticket's page reads its own by the schema-12 indexes
    (the planner is told to avoid scans, as it would at scale; a small table is scanned otherwise)."""
    from central.ticket_page import ratings_sql

    closes = (f"SELECT e.uid FROM event e WHERE e.kind = 'followup.closed' AND e.void_id IS NULL AND "
              f"{storage.json_field('e.payload', 'followup')} = ?")
    with storage.transaction() as tx:
        if storage.postgres:
            tx.execute("SET LOCAL enable_seqscan = off")
            tx.execute("SET LOCAL enable_bitmapscan = off")
        for sql, index in ((ratings_sql(storage), "event_rating_ticket"), (closes, "event_close_followup")):
            explain = "EXPLAIN" if storage.postgres else "EXPLAIN QUERY PLAN"
            plan = " ".join(str(row) for row in tx.all(f"{explain} {sql}", ("0193aaaa-0000-7000-8000-000000000001",)))
            assert index in plan, plan
