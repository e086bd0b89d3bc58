"""The back office's due list (周检到期): from the desks' pushed intake and pickups and the
latest catalogue's cycles, computed with the kiosk's own rule (kiosk/domain/due.py due_list)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from central.catalog import import_catalog
from central.due import due_report
from kiosk.domain.clock import today as institute_today
from kiosk.domain.workdays import add_months
from kiosk.store.catalog import demo_csv

from .nodes import enrol, push
from .test_feedback_office import office


def noon(day: date) -> datetime:
    """12:00 UTC: the same local day from UTC-11 to UTC+11, wherever the tests run."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def line(code: str, serial: str = "", *, service: str = "verification", refused: bool = False, quantity: int = 2):
    return {"ticket_line_id": 1, "code": code, "quantity": quantity, "service": service, "use": "trade",
            "condition": "", "accessories": "", "serial_number": serial, "refused": refused}


class Counter:
    """A kiosk that registers and a desk that takes in and hands back."""

    def __init__(self, client, storage):
        self.client = client
        self.kiosk = enrol(client, storage, name="大厅1号机")
        self.desk = enrol(client, storage, "clerk", name="1号窗口")

    def serve(self, lines: list[dict], picked_up: date | None, *, organisation="示范燃气有限公司",
              phone="13812345678", registered: bool = True) -> str:
        reg = self.kiosk.registered(organisation=organisation, phone=phone)
        t = reg["payload"]["ticket"]
        if registered:
            assert push(self.client, self.kiosk, reg).status_code == 200
        day = picked_up or date(2026, 1, 5)
        steps = [self.desk.step("received", t["uid"], t["number"], at=noon(day - timedelta(days=10)), lines=lines)]
        if picked_up:
            steps += [self.desk.step("ready", t["uid"], t["number"], at=noon(day - timedelta(days=1))),
                      self.desk.step("picked_up", t["uid"], t["number"], at=noon(day))]
        assert push(self.client, self.desk, *steps).status_code == 200
        return t["number"]


def test_instruments_fall_due_one_cycle_after_pickup(client, storage):
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    a = counter.serve([line("L-001-001", "A1"), line("Z-001-001", "B7"), line("F-004-003", "W9"),
                       line("L-001-012", "C1", service="calibration"),  # calibration: no cycle
                       line("F-004-001", "W1")], date(2026, 1, 31))  # first verification only: no cycle
    counter.serve([line("L-001-001", "R1", refused=True)], date(2026, 1, 31))  # refused: not verified
    counter.serve([line("L-001-001", "N1")], None)  # taken in, not picked up yet
    counter.serve([line("X-999-999", "Q1")], date(2026, 1, 31))  # not in the catalogue: no cycle known
    report = due_report(storage, 3660, today=date(2026, 2, 1))
    assert report.catalog_version == 1
    assert [(i.code, i.serial_number, i.due_on) for i in report.items] == [
        ("L-001-001", "A1", date(2026, 7, 31)),  # 6 months
        ("Z-001-001", "B7", date(2027, 1, 31)),  # 12 months
        ("F-004-003", "W9", date(2028, 1, 31)),  # 24 months
    ]
    item = report.items[0]
    assert (item.number, item.organisation, item.contact, item.phone, item.quantity) == (
        a, "示范燃气有限公司", "李工", "13812345678", 2)
    assert (item.name_zh, item.name_en, item.picked_up_on, item.cycle_months) == (
        "一般压力表", "General pressure gauge", date(2026, 1, 31), 6)


def test_the_window_overdue_and_the_latest_pickup_per_instrument(client, storage):
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    counter.serve([line("L-001-001", "A1"), line("L-001-001", "")], date(2026, 1, 15))
    again = counter.serve([line("L-001-001", "a1"), line("L-001-001", "")], date(2026, 7, 10))
    counter.serve([line("Z-001-001", "B7")], date(2026, 3, 2), registered=False)  # its registration not here yet

    listed = due_report(storage, 3660, today=date(2026, 1, 16)).items
    assert [(i.serial_number, i.due_on) for i in listed] == [  # a ticket's lines in intake order
        ("", date(2026, 7, 15)), ("a1", date(2027, 1, 10)), ("", date(2027, 1, 10)), ("B7", date(2027, 3, 2))]
    assert listed[1].number == again
    assert (listed[3].organisation, listed[3].phone) == ("", "")
    assert due_report(storage, 30, today=date(2026, 6, 14)).items == []
    assert [i.due_on for i in due_report(storage, 30, today=date(2026, 6, 15)).items] == [date(2026, 7, 15)]
    # overdue ones first (the earliest date), and only when asked for
    overdue = due_report(storage, 60, today=date(2026, 12, 20)).items
    assert [i.due_on for i in overdue] == [date(2026, 7, 15), date(2027, 1, 10), date(2027, 1, 10)]
    assert [i.due_on for i in due_report(storage, 60, today=date(2026, 12, 20), overdue=False).items] == [
        date(2027, 1, 10), date(2027, 1, 10)]


def test_no_catalogue_no_cycles(client, storage):
    Counter(client, storage).serve([line("L-001-001", "A1")], date(2026, 1, 31))
    report = due_report(storage, 3660, today=date(2026, 2, 1))
    assert (report.catalog_version, report.items) == (None, [])
    page = client.get("/office/due", headers=office(storage))
    assert page.status_code == 200 and "尚未导入收费目录" in page.text


def test_the_pages_mark_overdue_mask_phones_in_html_and_not_in_the_csv(client, storage):
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    today = institute_today()
    soon_pickup = today - timedelta(days=170)  # 6 months: due in ~10-14 days
    soon = counter.serve([line("L-001-001", "S1")], soon_pickup, organisation="近期单位", phone="13800001111")
    late = counter.serve([line("L-001-001", "O1")], today - timedelta(days=400), organisation="过期单位",
                         phone="0851-85551234")
    far = counter.serve([line("Z-001-001", "F1")], today - timedelta(days=10), organisation="远期单位")
    soon_due = add_months(soon_pickup, 6)
    late_due = add_months(today - timedelta(days=400), 6)
    headers = office(storage)

    got = client.get("/api/v1/office/due", params={"within": "30d"}, headers=headers).json()
    assert got["within_days"] == 30 and got["overdue_included"] is True and got["catalog_version"] == 1
    assert [(i["number"], i["due_on"], i["overdue"]) for i in got["items"]] == [
        (late, late_due.isoformat(), True), (soon, soon_due.isoformat(), False)]
    assert got["items"][1]["phone"] == "138****1111"
    assert [i["number"] for i in client.get("/api/v1/office/due", params={"within": "30", "overdue": "false"},
                                            headers=headers).json()["items"]] == [soon]
    assert [i["number"] for i in client.get("/api/v1/office/due", params={"within": "60w"},
                                            headers=headers).json()["items"]] == [late, soon, far]

    page = client.get("/office/due", params={"within": "30d"}, headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.index(late) < html.index(soon) and far not in html
    assert "已过期 overdue" in html and "class='overdue'" in html
    assert "13800001111" not in html and "138****1111" in html and "85551234" not in html
    assert "一般压力表" in html and "/office/due.csv?" in html

    got = client.get("/office/due.csv", params={"within": "30d"}, headers=headers)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["到期日", "受理单号", "送检单位", "联系人", "电话", "仪器", "收费标准号", "出厂编号", "数量"]
    assert rows[1:] == [[late_due.isoformat(), late, "过期单位", "李工", "0851-85551234", "一般压力表", "L-001-001",
                         "O1", "2"],
                        [soon_due.isoformat(), soon, "近期单位", "李工", "13800001111", "一般压力表", "L-001-001",
                         "S1", "2"]]
    english = client.get("/office/due.csv", params={"within": "30d", "lang": "en", "overdue": "0"}, headers=headers)
    assert list(csv.reader(io.StringIO(english.text)))[1][5] == "General pressure gauge"
    assert len(english.text.splitlines()) == 2


def test_bad_spans_are_refused(client, storage):
    headers = office(storage)
    for within in ("0d", "x", "3661", "30y", "523w", "030d"):
        assert client.get("/api/v1/office/due", params={"within": within}, headers=headers).status_code == 422
        assert client.get("/office/due.csv", params={"within": within}, headers=headers).status_code == 422
    # blank is the default, as in the page's form (the description's pattern says so)
    assert client.get("/api/v1/office/due", params={"within": " "}, headers=headers).json()["within_days"] == 30
    for params in ({"within": "30y"}, {"within": "0"}, {"overdue": "maybe"}):
        page = client.get("/office/due", params=params, headers=headers)
        assert page.status_code == 422 and ("within" in page.text or "overdue" in page.text)
    assert client.get("/office/due.csv", params={"lang": "fr"}, headers=headers).status_code == 422
