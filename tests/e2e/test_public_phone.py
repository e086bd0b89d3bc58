"""The public site as a customer's phone uses it: Debian's Chromium in mobile emulation (360 x 740,
touch, WeChat's built-in browser's user agent, zh-CN), on the site's own port (uvicorn), tapping
through the pages with no script: the schedule searched in pinyin, an instrument added to an
estimate, its quantity and use changed, a second one found and added, and a ticket followed with
its number and four digits. Every page is screenshotted (the paths are printed; look at them), is
drawn in Chinese (CJK glyphs, not boxes), fits 360 px (nothing scrolls sideways), and neither the
browser nor the policy refuses anything on it."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from central.app import create_app
from central.catalog import import_catalog
from central.public import progress
from central.schema import open_storage

from ..central.nodes import T0, enrol, push
from .phone import SEED, phone

# Where the screenshots go: $PUBLIC_PHONE_SHOTS (to keep them), else the test's own folder.
SHOTS_ENV = "PUBLIC_PHONE_SHOTS"


def _ticket(storage) -> str:
    main = TestClient(create_app(storage))
    kiosk, desk = enrol(main, storage, name="大厅1号机"), enrol(main, storage, "clerk", name="1号窗口")
    registered = kiosk.registered(at=T0, phone="13812345678", promise={"ready_on": "2026-12-01"})
    t = registered["payload"]["ticket"]
    assert push(main, kiosk, registered).status_code == 200
    lines = [{"code": "L-001-001", "quantity": 3, "use": "safety", "service": "verification", "ticket_line_id": 1}]
    assert push(main, desk, desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=1),
                                      lines=lines)).status_code == 200
    return t["number"]


def test_a_phone_finds_prices_and_follows_in_chromium(chromium, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "FLOOR", 0.05)
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    number = _ticket(storage)
    with phone(chromium, storage, shots) as (server, held):
        page, refused, taken, look = held.page, held.refused, held.taken, held.look
        page.goto(server.url + "/")  # the site's own port: its home page
        assert page.url == server.url + "/public/"
        assert "示范市计量检定测试院" in page.inner_text("header") and "服务承诺" in page.inner_text("main")
        # Chinese drawn with a CJK font, not tofu: a CJK glyph as wide as its font size, twice a Latin one's.
        widths = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
            c.font = getComputedStyle(document.body).fontSize + ' ' + getComputedStyle(document.body).fontFamily;
            return [c.measureText('检定').width, c.measureText('ab').width]; }""")
        assert widths[0] > widths[1] * 1.4, widths
        look("1-home")

        page.click("nav >> text=收费标准")
        page.fill("input[name=q]", "ylb")
        page.click("form >> button[type=submit]")
        main = page.inner_text("main")
        assert "一般压力表" in main and "强制检定，以下用途免费：安全防护" in main
        look("2-fees-ylb")

        page.click(".item >> nth=0 >> text=加入估算")
        assert "/public/estimate?code=L-001-001" in page.url
        page.fill("input[name=qty]", "３")  # a phone's full-width digit
        page.select_option("select[name=use]", "other")
        page.click("text=重新计算")
        main = page.inner_text("main")
        assert "用于其他不属强制检定，按收费标准收费" in main and "￥90.00" in main
        page.fill("input[name=q]", "tianping")
        page.click("button:has-text('查找')")
        page.click("ul.found li >> nth=0 >> button")
        page.select_option("select[name=use] >> nth=1", "trade")
        page.click("text=重新计算")
        main = page.inner_text("main")
        assert "电子天平" in main and "强制检定免费（贸易结算）" in main and "合计" in main
        look("3-estimate")

        page.click("nav >> text=进度查询")
        page.fill("input[name=number]", number)
        page.fill("input[name=tail]", "0000")
        page.click("button[type=submit]")
        assert "受理单号或手机号后四位不正确" in page.inner_text("main")
        look("4-progress-miss")
        page.fill("input[name=number]", number.lower())
        page.fill("input[name=tail]", "5678")
        page.click("button[type=submit]")
        main = page.inner_text("main")
        assert number in main and "检定中" in main and "一般压力表" in main and "13812345678" not in main
        assert "5678" not in page.url and number not in page.url  # posted, not in the address
        look("5-progress-found")

        page.click("header >> text=English")
        assert "Follow a ticket" in page.inner_text("main")
        look("6-progress-en")
    storage.close()
    print("\nscreenshots: " + " ".join(str(p) for p in sorted(shots.glob("*.png"))))
    assert not refused, refused
    assert all(re.match(re.escape(server.url) + r"/", url) for url in taken), taken  # nothing from elsewhere
