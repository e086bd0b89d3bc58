"""/office/ratings in Debian's Chromium (issue 20): the appeals waiting in pages, the longest
waiting first (schema 28), the later page reached by a click on its link, the director's form to
decide each, the decided ones a click on their tab away, drawn under the policy and no wider than a
1280-pixel screen."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

from central.schema import open_storage
from kiosk.domain import events

from ..central.nodes import enrol, event, push
from ..central.office_users import office_user
from .test_office_browser import signed_in

FILED = 55  # more than a page of appeals (central/appeals.py PAGE_SIZE)


def test_the_appeals_are_paged_in_the_browser(chromium, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    from ..central.test_window_ratings_office import window_rating

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    client = TestClient(create_app(storage))
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号收件窗口")
    at = datetime.now(UTC) - timedelta(days=5)
    reg = kiosk.registered(at=at)
    t = reg["payload"]["ticket"]
    push(client, kiosk, reg)
    poor = window_rating(desk, reg, "intake", 1, at=at + timedelta(minutes=30), reason="slow")
    push(client, desk, desk.step("received", t["uid"], t["number"], at=at + timedelta(minutes=20)), poor)
    filings = []
    for n in range(FILED):
        filed_at = at + timedelta(hours=1, minutes=n)
        filings.append(event("rating.appealed", filed_at, json.loads(events.to_json(events.RatingAppealed(
            appeal=str(uuid.uuid4()), feedback=poor["payload"]["feedback"], device=desk.uid, at=filed_at,
            reason=f"第{n + 1}次申诉：顾客误触", clerk=events.Clerk(username="wang", name="王芳"))))))
    decided = event("appeal.decided", at + timedelta(days=1), {
        "appeal": filings[0]["payload"]["appeal"], "feedback": poor["payload"]["feedback"], "device": desk.uid,
        "at": (at + timedelta(days=1)).isoformat(), "decision": "rejected", "reason": "监控显示正常",
        "supervisor": {"username": "zhao", "name": "赵主任"}, "via": "desk"})
    assert push(client, desk, *filings, decided).status_code == 200
    office_user(storage, "director")

    refused: list[str] = []
    shot = os.environ.get("RATINGS_SCREENSHOT") or str(tmp_path / "ratings.png")
    with signed_in(storage, chromium, "/office/ratings", refused) as page:
        body = page.inner_text("body")  # the waiting ones, the longest waiting first
        assert f"待审核申诉 {FILED - 1} 件" in body and "第2次申诉" in body and "第51次申诉" in body
        assert "第1次申诉" not in body and "第52次申诉" not in body  # decided; on the next page
        assert page.locator("form[action*='/decide']").count() == 50
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        listed = page.locator("table").last  # each appeal names the ticket rated, its page a click away
        assert listed.locator(f"a[href='/office/tickets/{t['number']}']").count() == 50
        assert "受理 Intake\t1 · 非常不满意 Very dissatisfied" in listed.locator("tr").nth(1).inner_text()
        page.click("text=较新的申诉 Newer appeals")
        page.wait_for_load_state()
        body = page.inner_text("body")
        assert "第52次申诉" in body and f"第{FILED}次申诉" in body and "第51次申诉" not in body
        assert "更早的申诉 Older appeals" in body and page.locator("form[action*='/decide']").count() == 4
        page.click("text=已审核 Decided（1）")
        page.wait_for_load_state()
        body = page.inner_text("body")
        assert "第1次申诉" in body and "申诉不成立 Rejected：监控显示正常" in body and "第2次申诉" not in body
        assert page.locator("form[action*='/decide']").count() == 0 and f"全部 All（{FILED}）" in body
        page.screenshot(path=shot, full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    print(f"\nscreenshot: {shot}")
    storage.close()
    assert not refused, refused
