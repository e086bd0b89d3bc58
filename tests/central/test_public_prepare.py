"""预约送检 on the public site (issue 22 items 2 and 3, central/public/prepare.py): the form a phone
posts (no script: everything typed travels in the body), instruments found as the kiosk finds them
or read from an uploaded ledger (bad rows named, good rows kept), the estimate by the kiosk's engine,
the QR codes that decode to the registration, the limits, nothing personal in a URL or a log, nothing
stored unless asked, and what is kept erased after 30 days by `kiosk central retention`."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central import prepared as kept_store
from central import retention
from central.app import create_app
from central.catalog import import_catalog
from central.public import guard, prepare
from central.public.guard import Buckets
from central.schema import open_storage
from kiosk.domain import ledger
from kiosk.domain.catalog import parse_csv
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.domain.prepared import decode

SEED = Path(__file__).parents[2] / "db" / "seed" / "demo_catalog.csv"
DATA = Path(__file__).parents[1] / "data"
ORG, CONTACT, PHONE = "贵州黔源燃气设备制造有限公司", "王建华", "13985012345"
CUSTOMER = {"organisation": ORG, "contact": CONTACT, "phone": PHONE}
HIDDEN = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")
T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    yield storage
    storage.close()


def _quiet(app) -> None:
    """One busy visitor: the per-address limit has its own test (tests/central/test_public_site.py)."""
    for middleware in app.user_middleware:
        if middleware.cls.__name__ == "PublicGuard":
            middleware.kwargs["buckets"] = Buckets(rate=60_000, burst=100_000)


@pytest.fixture
def site(store, monkeypatch):
    monkeypatch.setattr(prepare, "utc_now", lambda: T0)  # the injected clock: when a registration is kept
    app = create_app(store, serves="public")
    _quiet(app)
    with TestClient(app, headers={"accept-language": "zh-CN"}) as client:
        yield client


def post(client, fields: dict[str, str], upload: tuple[str, bytes] | None = None):
    """As the browser posts the form: multipart/form-data (the file input is always in it)."""
    files = {"ledger": upload or ("", b"", "application/octet-stream")}
    return client.post("/public/prepare", data=fields, files=files)


def carried(page: str) -> dict[str, str]:
    """The instruments the page carries in its hidden fields (what the next post sends back)."""
    return {name: value for name, value in HIDDEN.findall(page) if re.fullmatch(r"l\d+_\w+", name)}


def add(client, fields: dict[str, str], **line: str):
    return post(client, {**fields, "do": "add", **{f"a_{k}" if k != "pick" else k: v for k, v in line.items()}})


# ---- the form ---------------------------------------------------------------------------------------


def test_the_form_is_a_post_form_of_the_site_without_script(site):
    got = site.get("/public/prepare")
    assert got.status_code == 200 and "default-src 'none'" in got.headers["content-security-policy"]
    page = got.text
    assert "<script" not in page and " style=" not in page and "<style" not in page
    assert "method='post'" in page and "enctype='multipart/form-data'" in page
    assert re.search(r"<a href='/public/prepare'[^>]*aria-current='page'>预约送检</a>", page)  # in the menu
    css = site.get("/public/prepare/prepare.css")
    assert css.status_code == 200 and "@media print" in css.text and css.headers["cache-control"].startswith("public")
    english = site.get("/public/prepare?lang=en").text
    assert "Prepare a visit" in english and "Upload a ledger" in english
    assert "action='/public/prepare?lang=en'" in english  # an English reader's posts stay English, cookie or not


def test_an_english_reader_gets_the_ledgers_problems_in_english(site):
    files = {"ledger": ("l.csv", (DATA / "ledger_ecqs.csv").read_bytes())}
    page = site.post("/public/prepare?lang=en", data={"do": "upload"}, files=files).text
    assert "7 instruments added from the file." in page and "These 9 rows were not added" in page
    assert "Row 13, 器具名称 (Instrument): “温度计” could be several instruments of the fee schedule: " \
           "Liquid-in-glass thermometer; Digital thermometer; Bimetallic thermometer." in page.replace("&#34;", '"')


def test_an_instrument_found_added_with_its_ledger_fields_and_priced_by_the_kiosks_engine(site):
    found = post(site, {**CUSTOMER, "do": "search", "q": "ylb"}).text  # initials, as the kiosk's box
    assert "value='L-001-004'" in found and "一般压力表" in found
    page = add(site, CUSTOMER, pick="L-001-004", qty="３", use="safety", model="Y-100", range="0~1.6MPa",
               acc="1.6级", serial="ＹＢ２０２３-0417", maker="上海红旗仪表有限公司", place="1号锅炉房").text
    assert carried(page) == {"l0_code": "L-001-004", "l0_qty": "3", "l0_use": "safety", "l0_model": "Y-100",
                             "l0_range": "0~1.6MPa", "l0_acc": "1.6级", "l0_serial": "YB2023-0417",
                             "l0_maker": "上海红旗仪表有限公司", "l0_place": "1号锅炉房"}  # folded as the kiosk folds
    page = add(site, {**CUSTOMER, **carried(page)}, pick="Z-001-003", qty="2", use="other").text
    rows = {row.code: row for row in parse_csv(SEED.read_text("utf-8"))}
    expected = estimate(EstimateRequest((LineRequest("L-001-004", 3, "safety"), LineRequest("Z-001-003", 2, "other"))),
                        rows, default_policy(), 1)
    assert expected.total_fen > 0 and expected.lines[0].free_reason == "compulsory_verification"
    total = re.search(r"<tr class='total'><td>合计</td><td class='n'>([^<]*)</td>", page)
    assert total and total.group(1) == f"￥{expected.total_fen // 100:,}.{expected.total_fen % 100:02d}"
    assert "强制检定免费（安全防护）" in page  # the kiosk's own words for the free line
    removed = post(site, {**CUSTOMER, **carried(page), "do": "remove-0"}).text
    assert [v for k, v in carried(removed).items() if k.endswith("_code")] == ["Z-001-003"]


@pytest.mark.parametrize(("line", "field", "says"), [
    ({"qty": "0"}, "a_qty", "数量应为1到999之间的整数"),
    ({"serial": "A1😀"}, "a_serial", "不能使用表情符号"),
    ({"model": "Y\u202e100"}, "a_model", "控制字符"),
    ({"maker": "厂" * 61}, "a_maker", "最多60个字"),
    ({"points": "5"}, "a_points", "不按测量点数计费"),  # a gauge is not priced per point
    ({"use": "gift"}, "a_use", "无法识别"),
])
def test_what_is_added_is_checked_as_the_kiosk_checks_typing(site, line, field, says):
    page = add(site, CUSTOMER, pick="L-001-004", **line).text
    assert re.search(rf"<p class='err' id='e-{field}'>[^<]*{re.escape(says)}", page), page[-3000:]
    assert not carried(page)  # not added; what was typed stays in the add form
    assert "value='L-001-004' checked" in page


def test_the_hidden_list_is_untrusted_input_checked_on_every_post(site):
    fields = {**CUSTOMER, "do": "update", "l0_code": "L-001-004", "l0_qty": "2", "l0_use": "safety",
              "l1_code": "X-999-999", "l1_qty": "1", "l2_code": "L-001-004", "l2_qty": "100000",
              "l3_code": "L-001-004", "l3_serial": "<script>alert(1)</script>", "l4_code": "L-001-004", "l4_use": "x"}
    page = post(site, fields).text
    assert "第2项（X-999-999）已不在现行收费标准中，已移除。" in page
    assert "第3项内容无效，已移除。" in page and "第5项内容无效，已移除。" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # text, never markup
    assert [v for k, v in carried(page).items() if k.endswith("_code")] == ["L-001-004", "L-001-004"]


def test_more_than_a_registration_holds_is_cut_at_100_lines(site):
    fields = {**CUSTOMER, "do": "update"} | {f"l{n}_code": "L-001-004" for n in range(130)}
    page = post(site, fields).text
    assert len([k for k in carried(page) if k.endswith("_code")]) == prepare.MAX_LINES
    assert "清单最多100项" in page


# ---- uploads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ledger_ecqs.xlsx", "ledger_ecqs.csv"])
def test_an_uploaded_ledger_adds_its_good_rows_and_lists_each_bad_one(site, name):
    page = post(site, {**CUSTOMER, "do": "upload"}, (name, (DATA / name).read_bytes())).text
    codes = [v for k, v in carried(page).items() if k.endswith("_code")]
    assert codes == ["L-001-004", "L-001-004", "L-001-008", "Z-002-001", "Y-001-001", "F-004-001", "A-001-002"]
    assert "从文件中加入了7台器具。" in page and "以下9行没有加入" in page
    problems = re.findall(r"<li>(第\d+行[^<]*)</li>", page)
    assert [int(re.match(r"第(\d+)行", p).group(1)) for p in problems] == [9, 12, 13, 14, 15, 16, 17, 18, 20]
    assert "第13行「器具名称」：「温度计」对应收费标准中的几种器具" in problems[2]
    assert "送检方式：现场检定" in page  # the e-CQS row verified on site says so to the counter
    again = post(site, {**CUSTOMER, **carried(page), "do": "upload"}, (name, (DATA / name).read_bytes())).text
    assert "7行已在清单中，未重复加入。" in again  # the file uploaded twice adds nothing twice
    assert len([k for k in carried(again) if k.endswith("_code")]) == 7


def test_the_template_downloads_and_reads_back(site):
    for suffix, kind in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
        got = site.get(f"/public/prepare/template.{suffix}")
        assert got.status_code == 200 and kind in got.headers["content-type"]
        assert got.headers["content-disposition"].startswith("attachment")
        page = post(site, {"do": "upload"}, (f"t.{suffix}", got.content)).text
        assert [v for k, v in carried(page).items() if k.endswith("_code")] == ["L-001-004"]


def test_upload_limits_file_rows_and_body(site, store):
    big = b"x" * (ledger.MAX_BYTES + 1)
    page = post(site, {"do": "upload"}, ("big.csv", big)).text
    assert "文件超过1024 KB" in page
    rows = [["器具名称", "测量范围", "准确度等级", "出厂编号", "器具用途"]] + [
        ["压力表", "(0~1.6)MPa", "1.6级", f"N{i}", "安全防护"] for i in range(ledger.MAX_ROWS + 5)]
    data = "\n".join(",".join(r) for r in rows).encode("utf-8")
    page = post(site, {"do": "upload"}, ("many.csv", data)).text
    assert len([k for k in carried(page) if k.endswith("_code")]) == prepare.MAX_LINES
    assert "每个文件最多500行器具" in page and "清单最多100项" in page
    body = b"--b\r\nContent-Disposition: form-data; name=\"do\"\r\n\r\nupload\r\n--b\r\n" + b"x" * prepare.MAX_BODY
    refused = site.post("/public/prepare", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert refused.status_code == 413 and guard.LARGER_BODIES["/public/prepare"] == prepare.MAX_BODY
    assert site.post("/public/progress", content=b"x" * (guard.MAX_BODY + 1),
                     headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413  # others' stay


@pytest.mark.parametrize(("body", "kind"), [
    (b"do=search&q=ylb", "application/x-www-form-urlencoded"),  # also accepted
    (b"garbage", "multipart/form-data"), (b"garbage", "multipart/form-data; boundary=zz"),
    (b"--zz\r\nno headers", "multipart/form-data; boundary=zz"), (b"\xff\xfe", "application/x-www-form-urlencoded"),
    (b"{}", "application/json"), (b"", ""),
])
def test_any_body_is_a_page(site, body, kind):
    got = site.post("/public/prepare", content=body, headers={"content-type": kind} if kind else {})
    assert got.status_code in (200, 400) and got.headers["content-type"].startswith("text/html")
    assert "Traceback" not in got.text


# ---- the QR codes -----------------------------------------------------------------------------------


def svg_codes(page: str) -> list[str]:
    """Each QR of the page as an independent decoder reads it off the SVG drawn (zxing-cpp)."""
    import zxingcpp
    from PIL import Image, ImageDraw

    texts = []
    for view, path in re.findall(r"<svg [^>]*viewBox=\"0 0 (\d+) \d+\"[^>]*><path d=\"([^\"]*)\"", page):
        size, scale = int(view), 4
        image = Image.new("L", (size * scale, size * scale), 255)
        draw = ImageDraw.Draw(image)
        for x, y in re.findall(r"M(\d+),(\d+)H", path):
            draw.rectangle([int(x) * scale, int(y) * scale, (int(x) + 1) * scale - 1, (int(y) + 1) * scale - 1], 0)
        texts += [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    return texts


def finish(site, fields: dict[str, str], **extra: str):
    return post(site, {**fields, "do": "finish", **extra})


def test_finishing_gives_qr_codes_that_decode_to_the_registration(site, store):
    page = post(site, {"do": "upload"}, ("l.xlsx", (DATA / "ledger_ecqs.xlsx").read_bytes())).text
    got = finish(site, {**CUSTOMER, **carried(page), "urgent": "72h"})
    assert got.status_code == 200 and "<svg class='qr'" in got.text
    # A page with personal data: not stored by the browser or a proxy, sent nowhere, framed by nobody.
    assert got.headers["cache-control"] == "no-store" and got.headers["referrer-policy"] == "no-referrer"
    policy = got.headers["content-security-policy"]
    assert got.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in policy
    assert "set-cookie" not in got.headers
    reg = decode(svg_codes(got.text))
    assert (reg.organisation, reg.contact, reg.phone, reg.urgent) == (ORG, CONTACT, PHONE, "72h")
    assert [(i.code, i.quantity, i.use, i.serial_number) for i in reg.instruments][:3] == [
        ("L-001-004", 1, "safety", "YB2023-0417"), ("L-001-004", 1, "safety", "YB2023-0418"),
        ("L-001-008", 1, "safety", "20210335")]
    assert reg.instruments[0].manufacturer == "上海红旗仪表有限公司" and reg.instruments[0].location == "1号锅炉房"
    assert reg.catalog_version == 1 and reg.prepared_on is not None
    assert "139****2345" in got.text and f">{PHONE}<" not in got.text  # shown masked (the code carries it)
    assert kept_store.count(store) == 0  # nothing stored: the code is the registration
    back = post(site, {**dict(HIDDEN.findall(got.text)), "do": "edit"}).text  # "change it" keeps everything
    assert f"value='{ORG}'" in back and len([k for k in carried(back) if k.endswith("_code")]) == 7


def test_finishing_needs_the_customer_and_an_instrument(site):
    got = finish(site, {"organisation": "", "contact": CONTACT, "phone": "12345"})
    assert got.status_code == 422
    assert "请先改正标出的内容。" in got.text and "请输入正确的手机号或座机号" in got.text
    assert "<p class='err' id='e-organisation'>必填</p>" in got.text and "请至少加入一台器具。" in got.text
    assert f"value='{CONTACT}'" in got.text  # what was typed stays


def test_ten_instruments_fit_one_qr_code_and_fifty_are_split(site):
    lines = {}
    for n in range(10):
        lines |= {f"l{n}_code": "L-001-004", f"l{n}_use": "safety", f"l{n}_model": "Y-100",
                  f"l{n}_range": "(0~1.6)MPa", f"l{n}_acc": "1.6级", f"l{n}_serial": f"YB2023-04{n:02d}",
                  f"l{n}_maker": "上海红旗仪表有限公司", f"l{n}_place": "1号锅炉房"}
    got = finish(site, {**CUSTOMER, **lines}).text
    versions = [int(v) for v in re.findall(r"data-version='(\d+)'", got)]
    assert len(versions) == 1 and versions[0] <= 20, versions
    assert len(decode(svg_codes(got)).instruments) == 10
    many = {f"l{n}_{k}": v for n in range(50) for k, v in (
        ("code", "L-001-004"), ("use", "safety"), ("model", f"Y-{60 + n}"), ("range", "(0~1.6)MPa"),
        ("serial", hashlib.sha1(str(n).encode()).hexdigest()[:10].upper()), ("maker", "上海红旗仪表有限公司"),
        ("place", f"{n}号泵房"))}  # serials as unlike as real ones: 50 such lines take two codes
    split = finish(site, {**CUSTOMER, **many}).text
    assert split.count("<svg class='qr'") > 1 and "请依次扫描" in split
    assert len(decode(svg_codes(split)).instruments) == 50


# ---- keeping, and erasing -----------------------------------------------------------------------------


def test_kept_only_when_asked_fetched_by_a_link_without_personal_data_and_erased_after_30_days(site, store):
    page = add(site, CUSTOMER, pick="L-001-004", qty="2", use="safety", serial="YB-1").text
    got = finish(site, {**CUSTOMER, **carried(page), "keep": "1"}).text
    assert kept_store.count(store) == 1
    link = re.search(r"href='(/public/prepare/kept/([A-Za-z0-9_-]+))'", got)
    assert link and "保存到2027-01-06" in got  # 30 days from T0, on the institute's clock
    token = link.group(2)
    for personal in (ORG, CONTACT, PHONE, "YB-1", "2345"):
        assert personal not in link.group(1)
    with store.read() as tx:  # the link's token is not stored: its hash is
        assert tx.one("SELECT COUNT(*) FROM prepared_kept WHERE token_hash = ?", (token,))[0] == 0
    again = site.get(link.group(1))
    assert again.status_code == 200 and decode(svg_codes(again.text)).organisation == ORG
    # Retention runs nightly; 29 days on, it is kept; 30 days on, it is gone (the link says so).
    assert retention.run(store, T0 + timedelta(days=29), years=3).prepared == 0
    assert kept_store.fetch(store, token, T0 + timedelta(days=29)) is not None
    done = retention.run(store, T0 + timedelta(days=30, seconds=1), years=3)
    assert done.prepared == 1 and kept_store.count(store) == 0
    gone = site.get(link.group(1))
    assert gone.status_code == 404 and "没有找到" in gone.text


def test_a_kept_registration_is_past_its_time_even_before_retention_runs(store):
    token = kept_store.keep(store, ["YYAAAA"], T0)
    assert kept_store.fetch(store, token, T0 + timedelta(days=30) - timedelta(seconds=1)) is not None
    assert kept_store.fetch(store, token, T0 + timedelta(days=30)) is None
    assert retention.run(store, T0 + timedelta(days=10), years=3, dry_run=True).prepared == 0
    assert retention.run(store, T0 + timedelta(days=31), years=3, dry_run=True).prepared == 1
    assert kept_store.count(store) == 1  # a dry run erases nothing


def test_the_customer_erases_it_at_once(site, store):
    page = add(site, CUSTOMER, pick="L-001-004").text
    got = finish(site, {**CUSTOMER, **carried(page), "keep": "1"}).text
    token = re.search(r"/public/prepare/kept/([A-Za-z0-9_-]+)/erase", got).group(1)
    erased = site.post(f"/public/prepare/kept/{token}/erase", data={"lang": "zh"})
    assert erased.status_code == 200 and "已删除。" in erased.text and kept_store.count(store) == 0
    assert site.post(f"/public/prepare/kept/{token}/erase").status_code == 404
    assert site.get("/public/prepare/kept/short").status_code == 404
    assert site.get("/public/prepare/kept/" + "A" * 22).status_code == 404


def test_kept_on_both_databases(storage):
    token = kept_store.keep(storage, ["YYAB", "YYCD"], T0)
    found = kept_store.fetch(storage, token, T0 + timedelta(days=1))
    assert found is not None and found[0] == ["YYAB", "YYCD"] and found[1] == T0 + timedelta(days=30)
    assert kept_store.erase_due(storage, T0 + timedelta(days=29)) == 0
    assert kept_store.erase_due(storage, T0 + timedelta(days=30)) == 1 and kept_store.count(storage) == 0


# ---- nothing personal in URLs or logs -------------------------------------------------------------


def test_nothing_personal_in_a_url_a_header_or_a_log(site, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    site.event_hooks["request"] = [lambda request: seen.append(str(request.url))]
    site.event_hooks["response"] = [lambda response: seen.extend(f"{k}: {v}" for k, v in response.headers.items())]
    page = post(site, {**CUSTOMER, "do": "search", "q": "压力表"}).text
    page = add(site, CUSTOMER, pick="L-001-004", serial="YB-777").text
    page = post(site, {**CUSTOMER, **carried(page), "do": "upload"},
                ("l.csv", (DATA / "ledger_ecqs.csv").read_bytes())).text
    done = finish(site, {**CUSTOMER, **carried(page), "keep": "1"}).text
    site.get(re.search(r"href='(/public/prepare/kept/[^']+)'", done).group(1))
    pages = [page, done]
    personal = (ORG, CONTACT, PHONE, "YB-777", "YB2023-0417")
    links = [u for p in pages for u in re.findall(r"(?:href|action|src)='([^']*)'", p)]
    for text in [*seen, *links, caplog.text]:
        for value in personal:
            assert value not in text, (value, text[:200])


# ---- an unfriendly visitor ------------------------------------------------------------------------

MARKUP = "<b id=x>"
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["", MARKUP, "L-001-004", "Z-001-003", "３", "0" * 300,
                                                        "\u202e", "1e309", "-1", "999999999", "remove-0",
                                                        "remove-99999999999999999999", "safety", "72h"]))
NAMES = st.sampled_from(["do", "q", "pick", "organisation", "contact", "phone", "credit_code", "urgent", "keep",
                         "a_qty", "a_use", "a_points", "a_ranges", "a_metres", "a_serial", "l0_code", "l0_qty",
                         "l0_use", "l0_metres", "l0_points", "l1_code", "l999_code", "l1_range", "lang", "x"])
DOS = st.sampled_from(["search", "add", "upload", "update", "finish", "edit", "remove-0", "remove-1", "", "x"])


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    storage = open_storage(f"sqlite:///{tmp_path_factory.mktemp('prep') / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    app = create_app(storage, serves="public")
    _quiet(app)
    with TestClient(app) as client:
        yield client
    storage.close()


@pytest.mark.reliability  # fuzzing: its lane (pyproject.toml markers)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(NAMES, TEXT, max_size=12), action=DOS,
       upload=st.none() | st.binary(max_size=400) | st.sampled_from([b"PK\x03\x04", "器具名称,用途\n表,x".encode()]))
def test_any_form_posted_is_a_page_and_never_markup(fuzzed, fields, action, upload):
    fields = {**fields, "do": action}
    got = post(fuzzed, fields, ("f.csv", upload) if upload is not None else None)
    assert got.status_code in (200, 400, 422), (got.status_code, got.text[:300])
    assert got.headers["content-security-policy"].startswith("default-src 'none'")
    assert got.headers["content-type"].startswith("text/html")
    assert MARKUP not in got.text and "Traceback" not in got.text
    if got.status_code == 200 and "<svg class='qr'" in got.text:  # a registration made of such input
        assert decode(svg_codes(got.text)).organisation
