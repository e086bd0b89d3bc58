"""预约送检 as a customer's phone does it (issue 22 items 2 and 4): Debian's Chromium in mobile
emulation (360 x 740, touch, WeChat's user agent, zh-CN, no script), on the public site's own port
(uvicorn): the organisation, contact and phone typed, an instrument found in pinyin and added with
its ledger fields, a second one with full-width digits, an e-CQS ledger with bad rows uploaded (the
bad rows named, the good ones added), the estimate seen, the QR code made; the QR page screenshotted
(the paths are printed: look at them) and its code read back off the screenshot by zxing-cpp into the
registration the kiosk will decode (kiosk/domain/prepared.py); the printout drawn without the site's
header, menu or buttons. Nothing personal in any address the browser asked for."""

from __future__ import annotations

import os
import re
from pathlib import Path

from central.catalog import import_catalog
from central.schema import open_storage
from kiosk.domain.prepared import decode

from .phone import SEED, phone

LEDGER = Path(__file__).parents[1] / "data" / "ledger_ecqs.xlsx"
SHOTS_ENV = "PREPARE_PHONE_SHOTS"  # where the screenshots go (to keep them), else the test's folder
ORG, CONTACT, PHONE = "贵州黔源燃气设备制造有限公司", "王建华", "13985012345"


def qr_texts(png: Path) -> list[str]:
    """The QR codes an independent decoder reads off a screenshot."""
    import zxingcpp
    from PIL import Image

    with Image.open(png) as image:
        return [r.text for r in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]


def test_a_phone_prepares_a_registration_and_gets_a_qr_code_that_decodes(chromium, tmp_path):
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    with phone(chromium, storage, shots) as (server, held):
        page, refused, taken, look = held.page, held.refused, held.taken, held.look
        page.goto(server.url + "/public/prepare")
        assert "预约送检" in page.inner_text("h1")
        page.fill("input[name=organisation]", ORG)
        page.fill("input[name=contact]", CONTACT)
        page.fill("input[name=phone]", "139 8501 2345")  # as people type it
        look("1-form")

        page.fill("input[name=q]", "ylb")
        page.press("input[name=q]", "Enter")  # Enter searches: the form's first button
        page.check("input[name=pick][value='L-001-004']")
        page.fill("input[name=a_qty]", "２")
        page.select_option("select[name=a_use]", "safety")
        page.fill("input[name=a_model]", "Y-100")
        page.fill("input[name=a_range]", "(0~1.6)MPa")
        page.fill("input[name=a_serial]", "YB2023-0001")
        page.fill("input[name=a_maker]", "上海红旗仪表有限公司")
        page.fill("input[name=a_place]", "锅炉房")
        look("2-found")
        page.click("button[value=add]")
        assert page.input_value("input[name=organisation]") == ORG  # what was typed rides along
        page.fill("input[name=q]", "电子天平")
        page.click("button[value=search]")
        page.check("input[name=pick][value='Z-001-003']")
        page.select_option("select[name=a_use]", "trade")
        page.fill("input[name=a_serial]", "ＴＰ０１")
        page.click("button[value=add]")
        main = page.inner_text("main")
        assert "一般压力表" in main and "电子天平" in main and "TP01" in main
        assert "强制检定免费（安全防护）" in main and "强制检定免费（贸易结算）" in main

        page.set_input_files("input[name=ledger]", str(LEDGER))
        page.click("button[value=upload]")
        main = page.inner_text("main")
        assert "从文件中加入了7台器具。" in main and "以下9行没有加入" in main
        assert "第13行「器具名称」：「温度计」对应收费标准中的几种器具" in main
        assert page.locator("div.item").count() == 9
        look("3-uploaded")
        page.select_option("select[name=urgent]", "72h")
        page.click("button[value=update]")
        assert "合计" in page.inner_text("main") and "加急" in page.inner_text("main")
        look("4-estimate")

        page.click("button[value=finish]")
        assert "预约送检二维码" in page.inner_text("h1")
        assert page.locator("svg.qr").count() == 1
        qr_shot = look("5-qr", full=False)  # what the phone's screen shows
        texts = qr_texts(qr_shot)
        assert len(texts) == 1, texts
        reg = decode(texts)
        assert (reg.organisation, reg.contact, reg.phone, reg.urgent) == (ORG, CONTACT, PHONE, "72h")
        assert [(i.code, i.quantity, i.use) for i in reg.instruments][:2] == [("L-001-004", 2, "safety"),
                                                                            ("Z-001-003", 1, "trade")]
        assert reg.instruments[0].serial_number == "YB2023-0001" and reg.instruments[1].serial_number == "TP01"
        assert [i.serial_number for i in reg.instruments[2:4]] == ["YB2023-0417", "YB2023-0418"]
        assert len(reg.instruments) == 9
        look("6-qr-page")

        page.emulate_media(media="print")
        printed = look("7-printed", full=True)
        assert not page.is_visible("nav") and not page.is_visible("header") and not page.is_visible("button")
        assert decode(qr_texts(printed)) == reg  # the printout scans as well
        page.emulate_media(media="screen")
        page.click("button[value=edit]")  # back to change it: everything still there
        assert page.input_value("input[name=organisation]") == ORG and page.locator("div.item").count() == 9
    storage.close()
    print("\nscreenshots: " + " ".join(str(p) for p in sorted(shots.glob("*.png"))))
    assert not refused, refused
    assert all(re.match(re.escape(server.url) + r"/", url) for url in taken), taken  # nothing from elsewhere
    for url in taken:
        for personal in (ORG, CONTACT, PHONE, "8501", "YB2023"):
            assert personal not in url, url
