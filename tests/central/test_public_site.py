"""The public mobile site (issue 22 item 1, central/public/): what its own port serves and what it
does not, its headers, the institute's file, the fee schedule searched as the kiosk searches it, the
estimate by the kiosk's engine, and the progress look-up built to be probed (rate limit, lock-out,
one answer for a wrong number and wrong digits, nothing personal shown)."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.catalog import import_catalog
from central.public import guard, progress
from central.public.guard import Buckets
from central.schema import open_storage

from .nodes import T0, enrol, push

SEED = Path(__file__).parents[2] / "db" / "seed" / "demo_catalog.csv"
PHONE = "13812345678"


@pytest.fixture
def store(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    yield storage
    storage.close()


@pytest.fixture
def site(store, monkeypatch):
    """The public site on a port of its own, look-ups quick and many (the time floor and the limit
    per address have their own tests)."""
    monkeypatch.setattr(progress, "FLOOR", 0.0)
    app = create_app(store, serves="public")
    app.state.public_lookups = Buckets(rate=600, burst=1000)
    with TestClient(app, headers={"accept-language": "zh-CN"}) as client:
        yield client


@pytest.fixture
def ticket(store):
    """A ticket registered and taken in, pushed by a kiosk and a desk as they do it: its number."""
    main = TestClient(create_app(store))
    kiosk, desk = enrol(main, store, name="大厅1号机"), enrol(main, store, "clerk", name="1号窗口")
    registered = kiosk.registered(at=T0, phone=PHONE, organisation="示范燃气有限公司",
                                  promise={"ready_on": "2026-12-01"})
    t = registered["payload"]["ticket"]
    assert push(main, kiosk, registered).status_code == 200
    lines = [{"code": "L-001-001", "quantity": 3, "use": "safety", "service": "verification",
              "ticket_line_id": 1, "serial_number": "SN-998877"}]
    assert push(main, desk, desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=1),
                                      lines=lines)).status_code == 200
    return t["number"]


def look_up(client, number: str, tail: str, **headers):
    return client.post("/public/progress", data={"number": number, "tail": tail}, headers=headers)


# ---- where it is served -----------------------------------------------------------------------------


def test_its_own_port_serves_the_site_and_nothing_else(store):
    client = TestClient(create_app(store, serves="public"))
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/public/"
    for path in ("/public/", "/public/fees", "/public/estimate", "/public/progress", "/public/public.css"):
        assert client.get(path).status_code == 200, path
    for path in ("/office", "/office/login", "/api/v1/changes", "/api/v1/office/summary", "/api/v1/enroll",
                 "/openapi.json", "/docs", "/redoc", "/office/office.css"):
        got = client.get(path)
        assert got.status_code == 404 and "text/html" in got.headers["content-type"], path
        assert "页面不存在" in got.text, path
    assert client.post("/api/v1/events", json={"events": []}).status_code == 404
    assert client.post("/api/v1/enroll", json={}).status_code == 404


def test_the_main_port_sends_the_site_to_its_port_when_it_has_one(store):
    client = TestClient(create_app(store, serves="devices", office_port=8401, public_port=8402))
    got = client.get("/public/fees?q=ylb", follow_redirects=False)
    assert got.status_code == 307 and got.headers["location"] == "http://testserver:8402/public/fees?q=ylb"
    # Without a port of its own the site is beside the rest (one machine, the tests).
    assert TestClient(create_app(store)).get("/public/").status_code == 200


# ---- headers and the page itself ----------------------------------------------------------------------


def test_every_answer_carries_the_sites_headers(site, ticket):
    pages = [site.get(p) for p in ("/public/", "/public/fees?q=ylb", "/public/estimate?add=L-001-001",
                                   "/public/progress", "/public/nope")]
    pages.append(look_up(site, ticket, PHONE[-4:]))
    for got in pages:
        h = got.headers
        csp = h["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src" not in csp and "base-uri 'none'" in csp
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer" and h["cache-control"] == "no-store"
        assert "camera=()" in h["permissions-policy"] and h["cross-origin-opener-policy"] == "same-origin"
    css = site.get("/public/public.css")
    assert css.headers["cache-control"] == "public, max-age=86400"
    assert css.headers["content-type"].startswith("text/css")


def test_pages_run_no_script_load_nothing_from_elsewhere_and_fit_a_phone(site):
    for path in ("/public/", "/public/fees", "/public/fees?q=tianping&lang=en", "/public/estimate?q=ylb",
                 "/public/estimate?code=L-001-001&qty=2&use=safety", "/public/progress"):
        text = site.get(path).text
        assert "<script" not in text.lower() and " style=" not in text and "<style" not in text, path
        assert not re.search(r"""(src|href|action)=['"](https?:)?//""", text), path
        assert "width=device-width" in text and "/public/public.css" in text, path
        assert re.search(r"\son[a-z]+=", text) is None, path  # no event handlers either


def test_chinese_first_english_on_asking_and_kept_by_a_cookie(site):
    assert "收费标准" in site.get("/public/fees").text
    english = site.get("/public/fees?lang=en")
    assert "Fee schedule" in english.text and english.cookies.get("lang") == "en"
    assert "Fee schedule" in site.get("/public/fees").text  # the cookie keeps it
    assert "lang=en" in site.get("/public/").text  # links keep it even without the cookie
    assert "收费标准" in site.get("/public/fees?lang=zh").text


def test_413_and_429_before_a_page_sees_the_request(store):
    app = create_app(store, serves="public")
    now = [0.0]
    client = TestClient(app)
    big = client.post("/public/progress", content=b"number=" + b"A" * (guard.MAX_BODY + 1),
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413 and "过大" in big.text
    # The guard's bucket for every page, on a clock of the test's: a burst, then one a second.
    limited = TestClient(_with_buckets(create_app(store, serves="public"), Buckets(60, 5, clock=lambda: now[0])))
    codes = [limited.get("/public/").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429, 429]
    refused = limited.get("/public/")
    assert refused.headers["retry-after"] == "1" and "请求过于频繁" in refused.text
    assert "default-src 'none'" in refused.headers["content-security-policy"]
    now[0] += 1.0
    assert limited.get("/public/").status_code == 200


def _with_buckets(app, buckets):
    """The app's PublicGuard with `buckets` (made when the app first starts)."""
    for middleware in app.user_middleware:
        if middleware.cls is guard.PublicGuard:
            middleware.kwargs["buckets"] = buckets
    return app


# ---- the institute's file --------------------------------------------------------------------------------


def test_the_home_page_shows_the_institute_file_central_holds(site, store):
    from central import institute

    home = site.get("/public/").text
    assert "示范市计量检定测试院" in home and "1号收件窗口" in home and "周一至周五" in home
    text = (Path(__file__).parents[2] / "kiosk" / "data" / "institute.toml").read_text("utf-8")
    text = text.replace("示范市计量检定测试院", "黔中计量院").replace("1号收件窗口", "东楼收件窗口")
    text += '\n[[services]]\nzh = "压力、质量、电学计量器具检定校准"\nen = "Pressure, mass and electrical"\n'
    done = institute.load(store, text, "institute.toml")
    assert done.new and not institute.load(store, text, "again.toml").new
    home = site.get("/public/").text
    assert "黔中计量院" in home and "东楼收件窗口" in home and "压力、质量、电学计量器具检定校准" in home
    with pytest.raises(institute.InstituteFileError):
        institute.load(store, "[name]\nzh = \"只有中文\"\n", "bad.toml")
    from central import feed

    changes = feed.read(store, 0, 100, "kiosk", None).changes
    published = [c for c in changes if c["kind"] == "institute.info"]
    assert len(published) == 1 and published[0]["data"]["text"] == text


# ---- the fee schedule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["压力表", "yalibiao", "ylb", "Pressure gauge", "ＹＬＢ", "l001001"])
def test_the_schedule_is_searched_as_the_kiosk_searches_it(site, query):
    page = site.get("/public/fees", params={"q": query}).text
    assert "一般压力表" in page and "L-001-001" in page and "JJG 52-2013" in page
    assert "强制检定，以下用途免费：安全防护" in page


def test_each_row_says_its_number_regulation_and_the_uses_that_make_it_free(site):
    page = site.get("/public/fees", params={"q": "tianping", "lang": "en"}).text
    assert "Electronic balance" in page and "Z-001-001" in page and "JJG 1036-2022" in page
    assert "Compulsory verification, free when used for: trade settlement" in page
    assert "Not in the compulsory catalogue" in site.get("/public/fees", params={"q": "量块"}).text


def test_the_schedule_is_paginated(site):
    first = site.get("/public/fees").text
    count = int(re.search(r"共 (\d+) 项", first).group(1))
    pages = -(-count // 20)
    assert f"第 1/{pages} 页" in first and first.count("class='item'") == 20
    last = site.get("/public/fees", params={"page": 999}).text
    assert f"第 {pages}/{pages} 页" in last and last.count("class='item'") == count - 20 * (pages - 1)
    assert f"第 1/{pages} 页" in site.get("/public/fees", params={"page": "-3"}).text
    assert "fees?page=2" in first


# ---- the estimate --------------------------------------------------------------------------------------


def test_the_estimate_is_the_kiosks_engine_on_centrals_catalogue(site, store):
    from kiosk.domain.catalog import parse_csv
    from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
    from kiosk.i18n import money

    added = site.get("/public/estimate?add=L-001-001", follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/public/estimate?code=L-001-001&qty=1&use=other"
    query = "code=L-001-001&qty=3&use=safety&code=Z-001-001&qty=2&use=other&code=Z-001-001&qty=1&use=trade&urgent=24h"
    page = site.get("/public/estimate?" + query).text
    rows = {r.code: r for r in parse_csv(SEED.read_text("utf-8"))}
    expected = estimate(EstimateRequest((LineRequest("L-001-001", 3, "safety"), LineRequest("Z-001-001", 2, "other"),
                                         LineRequest("Z-001-001", 1, "trade")), "24h"), rows, default_policy(), 1)
    assert f"{money(expected.total_fen, 'zh')}" in page and expected.total_fen > 0
    assert "强制检定免费（安全防护）" in page and "强制检定免费（贸易结算）" in page
    assert "用于其他不属强制检定，按收费标准收费" in page
    dropped = site.get("/public/estimate?" + query + "&drop=0", follow_redirects=False)
    assert dropped.headers["location"].startswith("/public/estimate?code=Z-001-001&qty=2&use=other&code=Z-001-001")


def test_a_bad_list_is_corrected_line_by_line_and_said(site):
    page = site.get("/public/estimate", params=[("code", "NOPE-1"), ("qty", "1"), ("use", "other"),
                                                ("code", "L-001-001"), ("qty", "0"), ("use", "moon"),
                                                ("code", "l-001-002"), ("qty", "２"), ("use", "safety")]).text
    assert "NOPE-1 不在现行收费标准中" in page
    assert "第 2 行：数量应为 1～999 的整数" in page and "第 2 行：用途无效" in page
    assert page.count("class='item'") == 2 and "value='2'" in page  # the full-width ２ read as 2
    many = [pair for _ in range(60) for pair in (("code", "L-001-001"), ("qty", "1"), ("use", "other"))]
    assert "清单最多 40 行" in site.get("/public/estimate", params=many).text


# ---- progress -------------------------------------------------------------------------------------------


def test_a_ticket_is_followed_with_its_number_and_four_digits_and_nothing_personal_shows(site, ticket):
    got = look_up(site, ticket.lower(), "５６７８")  # as a phone's keyboard may type them
    assert got.status_code == 200
    page = got.text
    assert ticket in page and "已收件" in page and "检定中" in page and "一般压力表" in page and "× 3" in page
    assert "预计完成：2026年12月1日" in page
    for personal in ("示范燃气有限公司", "李工", PHONE, "5678", "SN-998877", "贵阳市观山湖区", "91520100MA6DKJ2X4U"):
        assert personal not in page, personal


def test_a_wrong_number_and_wrong_digits_get_one_answer(site, ticket):
    wrong_digits = look_up(site, ticket, "0000")
    wrong_number = look_up(site, ticket[:-1] + ("1" if ticket[-1] != "1" else "2"), "5678")
    assert wrong_digits.status_code == wrong_number.status_code == 200
    assert wrong_digits.content == wrong_number.content
    assert "受理单号或手机号后四位不正确" in wrong_digits.text
    assert dict(wrong_digits.headers).keys() == dict(wrong_number.headers).keys()


def test_every_look_up_takes_the_floor_and_a_miss_is_the_same_work_whatever_missed(store, ticket, monkeypatch):
    """Time: every answer after FLOOR at least (found or not). Work: a wrong number and wrong digits
    run the same statements in the same order (compared as statements, not as times: this machine's
    load would drown a difference of microseconds)."""
    from central.storage import Tx

    monkeypatch.setattr(progress, "LOOKUP_BURST", 100)
    client = TestClient(create_app(store, serves="public"))
    said: list[str] = []
    execute = Tx.execute
    monkeypatch.setattr(Tx, "execute", lambda tx, sql, params=(): said.append(sql) or execute(tx, sql, params))
    work: dict[str, list[str]] = {}
    for what, number, tail in (("digits", ticket, "0000"), ("number", "ZZZ-261124-9999", "5678"),
                               ("found", ticket, "5678")):
        said.clear()
        started = time.perf_counter()
        look_up(client, number, tail)
        assert time.perf_counter() - started >= progress.FLOOR, what
        work[what] = [sql for sql in said if "ticket_state" in sql or "public_lookup_miss" in sql]  # not caches
    assert work["digits"] == work["number"] and len(work["digits"]) >= 4
    assert any("INSERT INTO public_lookup_miss" in sql for sql in work["number"])


def test_five_misses_lock_a_number_for_fifteen_minutes_existing_or_not(site, ticket, monkeypatch):
    now = [T0 + timedelta(days=3)]
    monkeypatch.setattr(progress, "utc_now", lambda: now[0])
    for _ in range(progress.LOCK_AFTER):
        assert "不正确" in look_up(site, ticket, "0000").text
    locked = look_up(site, ticket, "5678")
    assert "输错次数过多" in locked.text and "检定中" not in locked.text  # the right digits, but locked
    for _ in range(progress.LOCK_AFTER):
        look_up(site, "NOT-000000-0000", "5678")
    assert look_up(site, "NOT-000000-0000", "5678").content == look_up(site, ticket, "5678").content  # says nothing
    now[0] += timedelta(minutes=progress.LOCK_MINUTES, seconds=1)
    found = look_up(site, ticket, "5678")
    assert "检定中" in found.text
    assert "不正确" in look_up(site, ticket, "0000").text  # a success cleared the misses: one miss is one


def test_look_ups_are_limited_per_address(store, ticket):
    app = create_app(store, serves="public")
    now = [0.0]
    app.state.public_lookups = Buckets(rate=1, burst=3, clock=lambda: now[0])
    client = TestClient(app)
    codes = [look_up(client, ticket, "0000").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = look_up(client, ticket, "5678")
    assert refused.status_code == 429 and "查询过于频繁" in refused.text and "检定中" not in refused.text
    assert refused.headers["retry-after"] == str(progress.LOOKUP_EVERY)
    now[0] += 60
    assert "检定中" in look_up(client, ticket, "5678").text


def test_nothing_of_a_look_up_goes_to_the_address_or_the_logs(site, ticket, caplog):
    form = site.get("/public/progress").text
    assert re.search(r"<form method='post'", form) and "autocomplete='off'" in form
    assert "检定中" not in site.get("/public/progress", params={"number": ticket, "tail": "5678"}).text
    with caplog.at_level(logging.DEBUG):
        look_up(site, ticket, "5678")
        look_up(site, ticket, "0000")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ticket not in logged and "5678" not in logged and PHONE not in logged
    with site.app.state.storage.read() as tx:  # the lock-out's rows: the number typed and when, never digits
        rows = tx.all("SELECT * FROM public_lookup_miss")
    assert rows and all(PHONE not in str(row) and "0000" not in str(row)[-30:] for row in rows)


@pytest.mark.parametrize("bad", [{"number": "", "tail": "5678"}, {"number": "<script>", "tail": "5678"},
                                 {"number": "K7Q-261124-0007", "tail": "12"}, {"number": "x" * 5000, "tail": "1"},
                                 {"tail": "5678"}])
def test_a_malformed_look_up_is_answered_as_a_form(site, bad):
    got = site.post("/public/progress", data=bad)
    assert got.status_code == 200 and "<form method='post'" in got.text and "<script>" not in got.text


def test_the_lock_out_holds_on_both_databases(storage, monkeypatch):
    """The misses in the database (sqlite and PostgreSQL): every worker and restart sees them."""
    monkeypatch.setattr(progress, "FLOOR", 0.0)
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    main = TestClient(create_app(storage))
    kiosk = enrol(main, storage)
    registered = kiosk.registered(phone="0851-8654 3210")
    assert push(main, kiosk, registered).status_code == 200
    number = registered["payload"]["ticket"]["number"]
    app = create_app(storage, serves="public")
    app.state.public_lookups = Buckets(rate=600, burst=1000)
    client = TestClient(app)
    assert "已登记" in look_up(client, number, "3210").text
    for _ in range(progress.LOCK_AFTER):
        look_up(client, number, "3211")
    again = TestClient(create_app(storage, serves="public"))  # another process, as far as it knows
    assert "输错次数过多" in look_up(again, number, "3210").text
