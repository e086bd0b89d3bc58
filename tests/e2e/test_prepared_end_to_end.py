"""预约送检 from the phone's form to a printed ticket at the kiosk, in one test (issue 22 item 4).

The phone: Debian's Chromium in mobile emulation (360 x 740, touch, WeChat's user agent, zh-CN, no
script) on the public site's own port (central, real uvicorn). It types the organisation, contact and
phone; adds three instruments one by one (found by pinyin initials, in English and in Chinese, each
with the use and ledger fields typed, one with extra ranges, one quantity in full-width digits);
uploads an e-CQS ledger export (tests/data/ledger_ecqs_e2e.csv, GB18030: three good rows and one
whose 器具用途 is none the kiosk knows, which is named by row and column and left out); asks for
24-hour service, reads the estimate line by line, and makes the QR code. The QR page is screenshotted
and its code(s) read back off the picture by zxing-cpp.

The kiosk: enrolled at that central, whose server is then stopped: the cable pulled. Its sync finds
nobody (offline, said in the title bar), and every connection the process attempts from then on is
recorded (a socket.connect audit hook): none but the sync's refused ones to the dead port. The
decoded texts arrive on the welcome screen (which says that such a code can be scanned there) as a
keyboard-wedge scanner types them, key by key and Enter; every step fills and the estimate shows
the phone's amounts line by line and the same total. Confirmed: the ticket carries the instruments,
and the receipt (the preview printer's ESC/POS bytes, parsed by tests/escpos_stream.py, and its
picture, whose QR zxing-cpp reads) names the ticket. The ticket waits in the outbox for the cable.

The phone's pages (PNG), the kiosk's filled estimate (SVG) and the printed receipt's picture go to
$PREPARED_E2E_SHOTS if set (to keep and look at), else to the test's folder; their paths are printed.
Lanes: browser, pilot and store (tests/conftest.py marks them from the fixtures and calls used)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path

from central.catalog import import_catalog
from central.schema import open_storage
from db.models import PrintJob, Ticket, TicketLine
from kiosk.domain.prepared import decode
from kiosk.i18n import money, t
from kiosk.i18n.estimate_text import total_rows
from screens.estimate import EstimateScreen
from screens.ticket import TicketScreen
from screens.welcome import WelcomeScreen

from ..kiosk_pilot import make_app, next_sync, screen_text, settle
from ..test_prepared_scan import receipt_qr, receipt_words, scan, stack
from .phone import SEED, phone
from .test_prepare_phone import qr_texts

LEDGER = Path(__file__).parents[1] / "data" / "ledger_ecqs_e2e.csv"
SHOTS_ENV = "PREPARED_E2E_SHOTS"
ORG, CONTACT, PHONE = "遵义市汇川区民生燃气有限公司", "陈晓燕", "13708512266"

# (what is searched, the row picked, quantity as typed, use, extra ranges, the ledger fields typed)
TYPED = [
    ("qxdlb", "D-005-001", "2", "other", "5", {"a_model": "UT204+", "a_serial": "QX-0042", "a_place": "维修班"}),
    ("caliper", "C-001-006", "３", "trade", "", {"a_model": "0-300mm", "a_serial": "KC-77-1", "a_acc": "0.02mm"}),
    ("接地电阻", "D-004-001", "1", "safety", "", {"a_serial": "ZC8-2019-5", "a_maker": "上海六表厂"}),
]
# tests/data/ledger_ecqs_e2e.csv: rows 4, 5 and 7 good, row 6 (用途 内部质控) left out
FROM_LEDGER = [("L-001-004", "safety", "HC2024-0311"), ("Z-002-002", "trade", "A300552"),
               ("A-001-002", "environment", "51877")]


class Connections:
    """Every socket.connect this process attempts while `on` (an audit hook: hooks cannot be removed,
    so it stays, idle, for the rest of the session)."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[object] = []
        sys.addaudithook(self.hook)

    def hook(self, event: str, args: tuple) -> None:
        if self.on and event == "socket.connect":
            self.seen.append(args[1])


def phone_amounts(page) -> tuple[list[str], list[tuple[str, str]]]:
    """The estimate as the phone shows it: each instrument's amount, and the rows under the list."""
    lines = [s.strip() for s in page.locator("div.item p.price strong").all_inner_texts()]
    rows = [tuple(c.strip() for c in row.locator("td").all_inner_texts())
            for row in page.locator("table.lines tr").all()]
    return lines, rows  # type: ignore[return-value]


def test_a_registration_prepared_on_the_phone_prints_a_ticket_at_an_offline_kiosk(chromium, tmp_path):
    started = time.perf_counter()
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")

    # ---- the phone ------------------------------------------------------------------------------
    with phone(chromium, storage, shots) as (server, held):
        page, refused, look = held.page, held.refused, held.look
        page.goto(server.url + "/public/prepare")
        page.fill("input[name=organisation]", ORG)
        page.fill("input[name=contact]", CONTACT)
        page.fill("input[name=phone]", "137-0851-2266")
        for query, code, quantity, use, ranges, texts in TYPED:
            page.fill("input[name=q]", query)
            page.click("button[value=search]")
            page.check(f"input[name=pick][value='{code}']")
            page.fill("input[name=a_qty]", quantity)
            page.select_option("select[name=a_use]", use)
            for name, value in texts.items():
                page.fill(f"input[name={name}]", value)
            if ranges:
                page.click("details summary")  # opens without script
                page.fill("input[name=a_ranges]", ranges)
            if code == "D-005-001":
                look("1-typing")
            page.click("button[value=add]")
            assert not page.locator("p.err").count(), page.inner_text("main")
        assert page.locator("div.item").count() == 3

        page.set_input_files("input[name=ledger]", str(LEDGER))
        page.click("button[value=upload]")
        main = page.inner_text("main")
        assert "从文件中加入了3台器具。" in main and "以下1行没有加入" in main
        problems = page.locator("ul.problems li").all_inner_texts()
        assert problems == [t("ledger.where.cell", "zh", line=6, column="器具用途") + "："
                            + t("ledger.use.unknown", "zh", text="内部质控")]
        assert page.locator("div.item").count() == 6 and "B2004-17" not in main  # the bad row skipped
        look("2-uploaded")

        page.select_option("select[name=urgent]", "24h")
        page.click("button[value=update]")
        phone_lines, phone_rows = phone_amounts(page)
        assert len(phone_lines) == 6 and ("合计", "￥670.00") in phone_rows, phone_rows  # 335 + 100% for 24 h
        look("3-estimate")

        page.click("button[value=finish]")
        assert "预约送检二维码" in page.inner_text("h1")
        versions = [int(v or 0) for v in page.locator("svg.qr").evaluate_all(
            "els => els.map(e => e.getAttribute('data-version'))")]
        on_screen = qr_texts(look("4-qr", full=False))  # what the phone's screen shows
        texts = qr_texts(look("5-qr-page"))
    storage.close()
    assert not refused, refused
    assert len(texts) == len(versions) >= 1 and on_screen and set(on_screen) <= set(texts), (versions, on_screen)
    reg = decode(texts)
    assert (reg.organisation, reg.contact, reg.phone, reg.urgent) == (ORG, CONTACT, PHONE, "24h")
    typed = [("D-005-001", 2, "other"), ("C-001-006", 3, "trade"), ("D-004-001", 1, "safety")]
    assert [(i.code, i.quantity, i.use) for i in reg.instruments] == typed + [(c, 1, u) for c, u, _ in FROM_LEDGER]
    assert [i.serial_number for i in reg.instruments[3:]] == [serial for _, _, serial in FROM_LEDGER]
    assert reg.instruments[0].ranges == 5 and reg.instruments[1].accuracy == "0.02mm"
    print(f"\nQR: {len(texts)} part(s), version(s) {versions}, {[len(x) for x in texts]} characters")

    # ---- the kiosk, its cable pulled: enrolled at that central, which is gone now -----------------
    from db.connection import open_database
    from kiosk.settings.config import load_config
    from kiosk.sync.enrolment import save_enrolment

    dead = server.url  # the server has stopped: nothing answers on its port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0
    kiosk_db = open_database(load_config().database)
    save_enrolment(dead, "a-token-from-before", "kiosk", None)
    kiosk_db.close()
    connections = Connections()
    asyncio.run(_kiosk(texts, reg, phone_lines, phone_rows, connections, shots))
    assert connections.seen, "the sync never tried to reach central"
    reached = {address if isinstance(address, str) else tuple(address[:2]) for address in connections.seen}
    assert reached == {("127.0.0.1", server.port)}, connections.seen  # nothing but the sync, refused
    print(f"whole path: {time.perf_counter() - started:.1f} s")
    print("screenshots (look at them): " + " ".join(str(p) for p in sorted(shots.glob("[1-7]-*.*"))))


async def _kiosk(texts, reg, phone_lines, phone_rows, connections, shots: Path) -> None:
    app = make_app("zh")
    async with app.run_test(size=(120, 40)) as pilot:
        connections.on = True
        await settle(pilot)
        state = await next_sync(pilot)
        assert state.enrolled and state.online is False and state.problem is None  # offline, not broken
        assert isinstance(app.screen, WelcomeScreen)
        shown = screen_text(app)
        assert t("sync.offline", "zh") in shown
        assert t("welcome.prepared", "zh") in shown  # the welcome screen says such a code is read here

        for text in texts:
            await scan(pilot, text)
        assert stack(app) == ["WelcomeScreen", "CustomerScreen", "InstrumentsScreen", "OptionsScreen",
                              "EstimateScreen"]
        assert isinstance(app.screen, EstimateScreen)
        draft = app.draft
        assert (draft.organisation, draft.contact, draft.phone, draft.urgent) == (ORG, CONTACT, PHONE, "24h")
        est = app.screen.estimate
        assert est is not None
        # the customer checks: each line's amount as the phone showed it, then the rows below
        kiosk_lines = [money(0, "zh") if ln.free_reason else money(ln.amount_fen, "zh") for ln in est.lines]
        assert kiosk_lines == phone_lines
        kiosk_rows = [(f"{d.name_zh} ({d.percent}%)", money(d.amount_fen, "zh")) for d in est.discounts]
        kiosk_rows += [(t(key, "zh"), money(amount, "zh")) for key, amount in total_rows(est)]
        assert kiosk_rows == [tuple(row) for row in phone_rows]
        shown = screen_text(app)
        assert money(est.total_fen, "zh") in shown
        for name in ("钳形电流表", "游标卡尺", "接地电阻表", "一般压力表", "电子计价秤", "声级计"):
            assert name in shown, name
        app.save_screenshot(str(shots / "6-kiosk-estimate.svg"))

        app.screen.action_confirm()
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        ticket = Ticket.get()
        assert ticket.customer.organisation == ORG and ticket.customer.phone == PHONE
        lines = list(TicketLine.select().where(TicketLine.ticket == ticket).order_by(TicketLine.position))
        assert [(ln.code, ln.quantity, ln.use, ln.serial_number) for ln in lines] == [
            (i.code, i.quantity, i.use, i.serial_number) for i in reg.instruments]
        assert lines[0].ranges == 5 and lines[0].model == "UT204+"
        assert PrintJob.get(PrintJob.ticket == ticket.id).state == "printed"
        words = receipt_words(app, ticket)
        assert ticket.number in words, words
        names = ("钳形电流表", "游标卡尺", "接地电阻表", "一般压力表", "电子计价秤", "声级计")
        for n, (name, item, line) in enumerate(zip(names, reg.instruments, est.lines, strict=True), 1):
            said = "免费" if line.free_reason else re.escape(money(line.amount_fen, "zh"))
            assert re.search(rf"^{n}\. {name} +{item.quantity}\S +{said}$", words, re.MULTILINE), (n, words)
        assert re.search(r"合\s*计", words) and money(est.total_fen, "zh") in words, words
        assert receipt_qr(app, ticket) == [ticket.code]
        job = PrintJob.get(PrintJob.ticket == ticket.id)
        shutil.copy(app.config.data_dir / "receipts" / f"{ticket.number}-{job.id}.png", shots / "7-receipt.png")

        state = await next_sync(pilot)  # the ticket waits for the cable
        assert state.online is False and state.waiting >= 1
        connections.on = False
