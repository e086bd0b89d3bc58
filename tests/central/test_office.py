"""The back office: tickets by status, devices and when each last synced; phones masked."""

from __future__ import annotations

import base64

from central.auth import rotate_office_token
from central.office import mask_phone

from .nodes import enrol, push
from .office_users import office


def test_the_office_needs_a_signed_in_user_and_the_office_token_reads_figures_only(client, storage):
    got = client.get("/office", follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/office/login?next=%2Foffice"
    assert client.get("/api/v1/office/summary").headers["WWW-Authenticate"].startswith("Bearer")
    kiosk = enrol(client, storage)
    push(client, kiosk, kiosk.registered(phone="13812345678", organisation="示范燃气有限公司"))
    token = rotate_office_token(storage)
    bearer = {"Authorization": f"Bearer {token}"}
    summary = client.get("/api/v1/office/summary", headers=bearer).json()  # a script's figures
    assert summary["tickets"]["counts"]["registered"] == 1 and summary["tickets"]["recent"]["registered"] == []
    assert "示范燃气" not in client.get("/office", headers=bearer).text
    for path in ("/api/v1/office/due", "/api/v1/office/worklist", "/api/v1/office/followups", "/office/due.csv"):
        assert client.get(path, headers=bearer).status_code == 403, path
    basic = "Basic " + base64.b64encode(f"office:{token}".encode()).decode()  # no longer a way in
    assert client.get("/api/v1/office/summary", headers={"Authorization": basic}).status_code == 401
    assert client.get("/api/v1/office/summary", headers=kiosk.headers).status_code == 401  # nor a device token
    rotate_office_token(storage)
    assert client.get("/api/v1/office/summary", headers=bearer).status_code == 401


def test_tickets_by_status_and_devices_with_their_last_sync(client, storage):
    kiosk = enrol(client, storage, name="大厅1号机")
    desk = enrol(client, storage, "clerk", name="收件窗口")
    regs = [kiosk.registered(phone="13812345678", organisation=f"单位{i}") for i in range(3)]
    push(client, kiosk, *regs)
    t = regs[0]["payload"]["ticket"]
    push(client, desk, desk.step("received", t["uid"], t["number"]))
    headers = office(storage, "clerk")

    summary = client.get("/api/v1/office/summary", headers=headers).json()
    assert summary["tickets"]["counts"] == {"registered": 2, "received": 1, "ready": 0, "picked_up": 0}
    assert summary["tickets"]["recent"]["received"][0]["number"] == t["number"]
    assert summary["tickets"]["recent"]["received"][0]["phone"] == "138****5678"
    devices = {d["name"]: d for d in summary["devices"]}
    assert devices["大厅1号机"]["role"] == "kiosk" and devices["大厅1号机"]["last_push_at"]
    assert devices["收件窗口"]["last_seen_at"]

    page = client.get("/office", headers=headers)
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "13812345678" not in html and "138****5678" in html
    assert t["number"] in html and "单位0" in html and "大厅1号机" in html and "收件窗口" in html


def test_the_office_shows_the_receipts_total_and_what_intake_charged_when_a_clerk_changed_a_line(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    changed, unchanged = kiosk.registered(), kiosk.registered()  # receipts of ￥120.00 each
    push(client, kiosk, changed, unchanged)
    t = changed["payload"]["ticket"]
    taken_in = desk.step("received", t["uid"], t["number"])
    taken_in["payload"] |= {"total_fen": 9000, "estimate": {"total_fen": 9000}}  # a line changed at the counter
    push(client, desk, taken_in)
    headers = office(storage)

    summary = client.get("/api/v1/office/summary", headers=headers).json()
    recent = summary["tickets"]["recent"]
    assert [(x["total_fen"], x["taken_in_fen"]) for x in recent["received"]] == [(12000, 9000)]
    assert [(x["total_fen"], x["taken_in_fen"]) for x in recent["registered"]] == [(12000, None)]
    html = client.get("/office", headers=headers).text
    assert "受理金额 Charged at intake" in html and "￥90.00" in html and "￥120.00" in html


def test_text_from_devices_is_escaped_in_the_page(client, storage):
    kiosk = enrol(client, storage, name="<b>kiosk</b>")
    push(client, kiosk, kiosk.registered(organisation="<script>alert(1)</script>"))
    html = client.get("/office", headers=office(storage)).text
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>kiosk</b>" not in html


def test_phone_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0851-8765432") == "085*****5432"
    assert mask_phone("12345") == "1***5"
    assert mask_phone("") == "" and mask_phone(None) == ""
