"""Feedback at central: published to the clerk desks, follow-ups in the back office (listed,
closed there with an event every desk gets), satisfaction figures from the pushed ratings."""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from central import satisfaction
from central.followups import OFFICE_DEVICE_ID, followups
from central.satisfaction import group_dict, report
from kiosk.domain.satisfaction import CSV_FIELDS, by_clerk, by_counter, by_heart, by_week, monday, overall

from .nodes import T0, enrol, pull_all, push
from .office_users import csrf, office


def of_kind(changes: list[dict], kind: str) -> list[dict]:
    return [c["data"] for c in changes if c["kind"] == kind]


# ---- published to the desks -------------------------------------------------------------------


def test_feedback_and_closed_follow_ups_go_to_clerk_desks_only_and_not_back_to_their_pusher(client, storage):
    kiosk = enrol(client, storage)
    desk, other_desk = enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    poor = kiosk.feedback(1, phone="13812345678", comment="等了很久")
    good = kiosk.feedback(5, hearts=("warm", "patient"))
    assert push(client, kiosk, poor, good).status_code == 200
    closed = desk.closed(poor)
    assert push(client, desk, closed).status_code == 200

    on_other, _ = pull_all(client, other_desk)
    assert of_kind(on_other, "feedback.given") == [poor["payload"], good["payload"]]  # as pushed, phone too
    assert of_kind(on_other, "followup.closed") == [closed["payload"]]
    on_desk, _ = pull_all(client, desk)
    assert of_kind(on_desk, "feedback.given") == [poor["payload"], good["payload"]]
    assert of_kind(on_desk, "followup.closed") == []  # its own
    on_kiosk, _ = pull_all(client, kiosk)
    assert {c["kind"] for c in on_kiosk} == {"device.key"}  # a kiosk gets neither


# ---- follow-ups in the back office --------------------------------------------------------------


def test_open_follow_ups_overdue_first_with_the_phone_in_full_then_closed_ones(client, storage):
    kiosk = enrol(client, storage, name="大厅1号机")
    desk = enrol(client, storage, "clerk", name="1号收件窗口")
    reg = kiosk.registered()
    ticket = reg["payload"]["ticket"]
    late = kiosk.feedback(2, ticket=ticket["uid"], number=ticket["number"], phone="13812345678", reason="fees",
                          comment="收费说不清", due_on="2026-12-01")
    soon = kiosk.feedback(1, phone="0851-85551234", reason="other", reason_text="证书错字", due_on="2026-12-20")
    later = kiosk.feedback(1, due_on="2026-12-31")
    done = kiosk.feedback(2, due_on="2026-12-02")
    push(client, kiosk, reg, later, soon, late, done, kiosk.feedback(5), kiosk.feedback(3))
    push(client, desk, desk.closed(done, note="已电话致歉", clerk_name="李娜"))

    data = followups(storage, today=date(2026, 12, 10))
    assert [f["uid"] for f in data["open"]] == [late["payload"]["followup"]["uid"],
                                               soon["payload"]["followup"]["uid"],
                                               later["payload"]["followup"]["uid"]]
    assert data["overdue"] == 1
    first = data["open"][0]
    assert first == {
        "uid": late["payload"]["followup"]["uid"], "feedback": late["payload"]["feedback"], "due_on": "2026-12-01",
        "overdue": True, "given_at": first["given_at"], "number": ticket["number"], "anonymous": False, "rating": 2,
        "level": "dissatisfied", "reason": "fees", "reason_text": "", "comment": "收费说不清", "phone": "13812345678",
        "kiosk": "大厅1号机", "closed": None}
    assert datetime.fromisoformat(first["given_at"]) == T0 + timedelta(days=8)
    assert data["open"][1]["anonymous"] and data["open"][1]["number"] is None
    assert data["open"][1]["reason_text"] == "证书错字" and not data["open"][1]["overdue"]
    [closed] = data["closed"]
    assert closed["uid"] == done["payload"]["followup"]["uid"]
    assert {k: closed["closed"][k] for k in ("name", "username", "device", "via", "note")} == {
        "name": "李娜", "username": "wang", "device": "1号收件窗口", "via": "desk", "note": "已电话致歉"}

    got = client.get("/api/v1/office/followups", headers=office(storage))
    assert got.status_code == 200 and got.json()["open"][0]["uid"] == first["uid"]
    page = client.get("/office/followups", headers=office(storage, "clerk"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "13812345678" in page.text and "0851-85551234" in page.text  # staff make the call
    assert ticket["number"] in page.text and "匿名 anonymous" in page.text and "已电话致歉" in page.text
    assert "1号收件窗口" in page.text and f"/office/followups/{first['uid']}/close" in page.text


def test_closing_from_the_office_writes_one_event_every_desk_gets(client, storage, caplog):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    poor, other = kiosk.feedback(1, phone="13812345678"), kiosk.feedback(2, phone="13900001111")
    push(client, kiosk, poor, other)
    _, cursor = pull_all(client, desk)
    uid = poor["payload"]["followup"]["uid"]
    headers = office(storage)  # the director, 张主任

    with caplog.at_level(logging.DEBUG):
        got = client.post(f"/office/followups/{uid}/close", headers=headers, follow_redirects=False,
                          data={"note": "已回电，\u3000已解决", "csrf": csrf(headers)})
    assert got.status_code == 303 and got.headers["location"] == "/office/followups"
    assert "张" not in caplog.text and "13812345678" not in caplog.text and "已解决" not in caplog.text

    with storage.read() as tx:
        rows = tx.all(f"SELECT uid, device_id, ticket, status, {storage.json_text('payload')} FROM event "
                      "WHERE kind = 'followup.closed'")
        central_uid = tx.one("SELECT value FROM central_meta WHERE key = 'device_uid'")[0]
    [(event_uid, device_id, ticket, status, payload)] = rows
    payload = json.loads(payload)
    assert (device_id, ticket, status) == (OFFICE_DEVICE_ID, None, None)
    assert payload == {"followup": uid, "feedback": poor["payload"]["feedback"], "device": central_uid,
                       "at": payload["at"], "clerk": {"username": "director", "name": "张主任"},
                       "note": "已回电， 已解决", "via": "office"}
    assert uuid.UUID(central_uid) and uuid.UUID(event_uid)
    assert datetime.fromisoformat(payload["at"]).tzinfo is not None

    changes, _ = pull_all(client, desk, cursor)
    assert changes == [{"seq": changes[0]["seq"], "kind": "followup.closed", "data": payload}]
    on_kiosk, _ = pull_all(client, kiosk)
    assert "followup.closed" not in {c["kind"] for c in on_kiosk}

    # The JSON way, by a clerk; central keeps one device uid.
    other_uid = other["payload"]["followup"]["uid"]
    got = client.post(f"/api/v1/office/followups/{other_uid}/close", json={"note": "已回电"},
                      headers=office(storage, "clerk"))
    assert got.status_code == 200, got.text
    assert {k: got.json()[k] for k in ("followup", "name", "note", "via", "username")} == {
        "followup": other_uid, "name": "李娜", "note": "已回电", "via": "office", "username": "clerk"}
    closes = [c["data"] for c in pull_all(client, desk, cursor)[0]]
    assert [c["device"] for c in closes] == [central_uid, central_uid]
    assert followups(storage)["open"] == []


def test_closing_twice_is_a_409_saying_who_and_when(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    by_desk, by_office = kiosk.feedback(1), kiosk.feedback(2)
    push(client, kiosk, by_desk, by_office)
    push(client, desk, desk.closed(by_desk, clerk_name="李娜", at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC)))
    headers = office(storage)

    got = client.post(f"/api/v1/office/followups/{by_desk['payload']['followup']['uid']}/close",
                      json={"note": "再打一次"}, headers=headers)
    assert got.status_code == 409
    body = got.json()
    assert body["error"] == "closed" and body["closed"]["name"] == "李娜"
    assert datetime.fromisoformat(body["closed"]["at"]) == datetime(2026, 12, 3, 2, 0, tzinfo=UTC)

    uid = by_office["payload"]["followup"]["uid"]
    assert client.post(f"/api/v1/office/followups/{uid}/close", json={"note": "已回电"},
                       headers=headers).status_code == 200
    again = client.post(f"/office/followups/{uid}/close", data={"note": "又打了", "csrf": csrf(headers)},
                        headers=headers)
    assert again.status_code == 409 and again.headers["content-type"].startswith("text/html")
    assert "张主任" in again.text and "办结" in again.text
    with storage.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM event WHERE kind = 'followup.closed'")[0] == 2


def test_a_close_needs_a_clean_note_the_forms_token_and_a_signed_in_clerk_or_director(client, storage):
    kiosk = enrol(client, storage)
    poor = kiosk.feedback(1)
    push(client, kiosk, poor)
    uid = poor["payload"]["followup"]["uid"]
    headers = office(storage)
    api = f"/api/v1/office/followups/{uid}/close"
    for body in ({"note": "  "}, {"note": "x" * 501}, {"note": "好\u202e"}, {"note": "好\x1b[2J"}):
        got = client.post(api, json=body, headers=headers)
        assert got.status_code == 422 and got.json()["field"] == "note", (body, got.text)
    assert client.post(api, json={"name": "张", "note": "好"}, headers=headers).status_code == 422  # the user's name
    assert client.post(api, json={}, headers=headers).status_code == 422
    assert client.post(api, content=b"note=b", headers=headers).status_code == 422
    form = f"/office/followups/{uid}/close"
    token = {"csrf": csrf(headers)}
    got = client.post(form, data={"note": "", **token}, headers=headers)
    assert got.status_code == 422 and "请填写回访情况" in got.text
    assert client.post(form, data=token, headers=headers).status_code == 422
    assert client.post(form, data={"name": "张", "note": "好", **token}, headers=headers).status_code == 422
    assert client.post(form, content=b"\xff\xfe", headers={**headers, "Content-Type":
                                                           "application/x-www-form-urlencoded"}).status_code == 422
    assert client.post(form, json={"note": "好"}, headers=headers).status_code == 422
    # A form posted from another site, or saying nothing of where it comes from: refused.
    for where in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        got = client.post(form, data={"note": "好", **token}, headers={**headers, **where})
        assert got.status_code == 403, where
    bare = {"Authorization": headers["Authorization"]}
    assert client.post(form, data={"note": "好", **token}, headers=bare).status_code == 403
    # Without the session's CSRF token, or with another session's.
    assert client.post(form, data={"note": "好"}, headers=headers).status_code == 403
    other = office(storage)
    assert client.post(form, data={"note": "好", "csrf": csrf(other)}, headers=headers).status_code == 403
    # Unknown and malformed uids; no session.
    unknown = str(uuid.uuid4())
    assert client.post(f"/api/v1/office/followups/{unknown}/close", json={"note": "好"},
                       headers=headers).json()["error"] == "no_followup"
    assert client.post(f"/office/followups/{unknown}/close", data={"note": "好", **token},
                       headers=headers).status_code == 404
    assert client.post("/api/v1/office/followups/NOT-A-UID/close", json={"note": "好"},
                       headers=headers).status_code == 422
    assert client.post("/office/followups/NOT-A-UID/close", data={"note": "好", **token},
                       headers=headers).status_code == 404
    assert client.post(api, json={"note": "好"}).status_code == 401
    got = client.post(form, data={"note": "好"}, follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"].startswith("/office/login")
    assert client.post(api, json={"note": "好"}, headers=kiosk.headers).status_code == 401
    for path in ("/api/v1/office/followups", "/api/v1/office/satisfaction", "/api/v1/office/due"):
        assert client.get(path).status_code == 401, path
    for path in ("/office/followups", "/office/satisfaction", "/office/due", "/office/due.csv",
                 "/office/satisfaction.csv"):
        got = client.get(path, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/office/login?next="), path
    assert followups(storage)["open"][0]["uid"] == uid  # nothing was closed
    with storage.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM event WHERE kind = 'followup.closed'")[0] == 0


# ---- satisfaction ---------------------------------------------------------------------------------


def test_satisfaction_figures_for_known_ratings(client, storage, monkeypatch):
    kiosk = enrol(client, storage, name="大厅1号机")
    desk1 = enrol(client, storage, "clerk", name="1号窗口")
    desk2 = enrol(client, storage, "clerk", name="2号窗口")

    def served(received_by, picked_up_by=None, clerk="wang", name="王芳"):
        reg = kiosk.registered()
        t = reg["payload"]["ticket"]
        push(client, kiosk, reg)
        push(client, received_by, received_by.step("received", t["uid"], t["number"], clerk=clerk, clerk_name=name))
        if picked_up_by:
            push(client, picked_up_by, picked_up_by.step("picked_up", t["uid"], t["number"], clerk="li",
                                                         clerk_name="李娜"))
        return t

    week1 = datetime(2026, 11, 17, 12, tzinfo=UTC)  # Tuesday of 2026-W47 (noon UTC: that day from UTC-11 to +11)
    week2 = datetime(2026, 11, 24, 12, tzinfo=UTC)  # 2026-W48
    a = served(desk1, desk2)  # credited to desk 2, 李娜 (picked up)
    b = served(desk1)  # credited to desk 1, 王芳 (received)
    c = served(desk1)
    ratings = [
        kiosk.feedback(5, at=week1, ticket=a["uid"], number=a["number"], hearts=("warm", "patient")),
        # the kiosk knew the steps: they are used (device uid, username)
        kiosk.feedback(4, at=week1 + timedelta(hours=1), ticket=b["uid"], number=b["number"], hearts=("warm",),
                       steps={"received": {"device": desk1.uid, "clerk": "wang"}}),
        kiosk.feedback(2, at=week2, ticket=c["uid"], number=c["number"], reason="slow"),
        kiosk.feedback(1, at=week2 + timedelta(hours=1), reason="attitude"),  # anonymous
        kiosk.feedback(3, at=week2 + timedelta(hours=2), hearts=("careful",)),  # anonymous
        kiosk.feedback(5, at=week2 + timedelta(days=1), ticket=a["uid"], number=a["number"]),  # a again: not counted
    ]
    push(client, kiosk, *ratings)

    figures = report(storage, today=date(2026, 11, 26)).figures()
    o = figures["overall"]
    assert (o["count"], o["levels"], o["good"], o["poor"]) == (5, [1, 1, 1, 1, 1], 3, 2)
    assert o["rate"] == 3 / 5 and o["mean"] == 15 / 5
    weeks = figures["weeks"]
    assert len(weeks) == 12 and weeks[-1]["key"] == "2026-W48" and weeks[-1]["monday"] == "2026-11-23"
    assert [(w["key"], w["count"], w["good"]) for w in weeks[-2:]] == [("2026-W47", 2, 2), ("2026-W48", 3, 1)]
    assert sum(w["count"] for w in weeks[:-2]) == 0
    assert [(g["key"], g["count"], g["levels"]) for g in figures["counters"]] == [
        ("1号窗口", 2, [0, 1, 0, 1, 0]), ("2号窗口", 1, [0, 0, 0, 0, 1]), ("", 2, [1, 0, 1, 0, 0])]
    assert [(g["key"], g["count"], g["rate"]) for g in figures["clerks"]] == [
        ("王芳", 2, 0.5), ("李娜", 1, 1.0), ("", 2, 0.5)]
    assert [(g["key"], g["count"]) for g in figures["hearts"]] == [
        ("warm", 2), ("careful", 1), ("patient", 1), ("dedicated", 0), ("reassuring", 0)]
    # The sums the database added up give what the ratings one by one give (the desk's way).
    one_by_one = satisfaction.ratings(storage)
    assert figures["overall"] == group_dict(overall(one_by_one))
    for view, by in (("counters", by_counter), ("clerks", by_clerk), ("hearts", by_heart)):
        assert figures[view] == [group_dict(g) for g in by(one_by_one)]
    assert figures["weeks"] == [group_dict(g) | {"monday": monday(g.key).isoformat()}
                                for g in by_week(one_by_one, 12, date(2026, 11, 26))]

    # from / to: the local days of the ratings
    week2_only = client.get("/api/v1/office/satisfaction", params={"from": "2026-11-23", "to": "2026-11-30"},
                            headers=office(storage)).json()
    assert week2_only["overall"]["count"] == 3 and week2_only["overall"]["levels"] == [1, 1, 1, 0, 0]
    assert week2_only["from"] == "2026-11-23" and week2_only["weeks"][-1]["key"] == "2026-W49"

    monkeypatch.setattr(satisfaction, "EXPORT_CHUNK", 2)  # streamed in chunks of two: five ratings, three reads
    got = client.get("/office/satisfaction.csv", headers=office(storage))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert tuple(rows[0]) == CSV_FIELDS == ("given_at", "week", "rating", "level", "hearts", "reason", "counter",
                                            "clerk", "number")
    assert [r[2] for r in rows[1:]] == ["5", "4", "2", "1", "3"]
    assert rows[1][4:] == ["warm patient", "", "2号窗口", "李娜", a["number"]]
    assert rows[4][5:] == ["attitude", "", "", ""]
    assert "phone" not in got.text and "13812345678" not in got.text

    page = client.get("/office/satisfaction", params={"from": "2026-11-01"}, headers=office(storage))
    assert page.status_code == 200
    assert "满意率" in page.text and "60.0%" in page.text and "1号窗口" in page.text and "热心" in page.text
    assert "<script" not in page.text and "http://" not in page.text and "https://" not in page.text


def test_two_clerks_and_two_desks_of_one_name_stay_apart(client, storage):
    kiosk = enrol(client, storage, name="大厅1号机")
    desks = [enrol(client, storage, "clerk", name="收件窗口") for _ in range(2)]
    for desk, clerk, rating in ((desks[0], "wangf", 5), (desks[1], "wangf2", 1), (desks[1], "wangf2", 2)):
        reg = kiosk.registered()
        t = reg["payload"]["ticket"]
        push(client, kiosk, reg)
        push(client, desk, desk.step("picked_up", t["uid"], t["number"], clerk=clerk, clerk_name="王芳"))
        push(client, kiosk, kiosk.feedback(rating, at=datetime(2026, 11, 24, 12, tzinfo=UTC), ticket=t["uid"],
                                           number=t["number"]))
    figures = report(storage, today=date(2026, 11, 26)).figures()
    assert [(g["key"], g["count"]) for g in figures["clerks"]] == [("王芳（wangf2）", 2), ("王芳（wangf）", 1)]
    assert [(g["key"], g["count"]) for g in figures["counters"]] == [
        (f"收件窗口（{desks[1].uid[-8:]}）", 2), (f"收件窗口（{desks[0].uid[-8:]}）", 1)]


def test_satisfaction_refuses_bad_dates(client, storage):
    headers = office(storage)
    for params in ({"from": "2026-13-01"}, {"to": "yesterday"}, {"from": "2026-11-30", "to": "2026-11-01"},
                   {"to": "0001-01-01"}, {"from": "9999-12-31"}):
        assert client.get("/api/v1/office/satisfaction", params=params, headers=headers).status_code == 422
        assert client.get("/office/satisfaction.csv", params=params, headers=headers).status_code == 422
        page = client.get("/office/satisfaction", params=params, headers=headers)
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    empty = client.get("/api/v1/office/satisfaction", headers=headers).json()
    assert empty["overall"] == {"key": "", "count": 0, "levels": [0] * 5, "good": 0, "poor": 0, "rate": 0.0,
                                "mean": 0.0}


def test_the_office_page_links_the_new_pages(client, storage):
    html = client.get("/office", headers=office(storage)).text
    for path, zh in (("/office/followups", "回访"), ("/office/satisfaction", "满意度"), ("/office/due", "周检到期")):
        assert f"href='{path}'" in html and zh in html


def test_offices_closing_the_same_follow_up_at_once_write_one_event(client, storage):
    from concurrent.futures import ThreadPoolExecutor

    from central.followups import CloseError, close

    kiosk = enrol(client, storage)
    poor = kiosk.feedback(1)
    push(client, kiosk, poor)
    uid = poor["payload"]["followup"]["uid"]

    def attempt(i: int) -> str:
        try:
            close(storage, uid, f"员工{i}", "已回电")
            return "ok"
        except CloseError as e:
            return e.code

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["closed", "closed", "closed", "ok"]
    with storage.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM event WHERE kind = 'followup.closed'")[0] == 1


def test_the_follow_ups_list_is_kept_as_pushed_and_equals_a_rebuild_through_repeats_closes_and_voiding(client,
                                                                                                        storage):
    """central/readmodels/followup.py: the rating that opened a follow-up is the first received
    naming it, the close that counts the first received; a voided rating opened nothing; at
    every point the rows a push kept are the rows a build from the events gives."""
    from central import readmodels
    from central.devices import revoke
    from central.voiding import void

    def rebuilt_equal() -> dict:
        pushed = readmodels.snapshot(storage)["followup"]
        with storage.transaction() as tx:
            readmodels.followup.build(tx, storage)
        assert readmodels.snapshot(storage)["followup"] == pushed
        return followups(storage, today=date(2026, 12, 10))

    kiosk, other = enrol(client, storage, name="大厅1号机"), enrol(client, storage, name="大厅2号机")
    desk = enrol(client, storage, "clerk", name="1号窗口")
    first = kiosk.feedback(1, reason="fees", due_on="2026-12-20")
    # The same follow-up sent again by another kiosk (a restored backup), dated earlier, arriving later.
    again = other.feedback(2, at=T0, reason="other", due_on="2026-12-01")
    again["payload"] |= {"followup": {"uid": first["payload"]["followup"]["uid"], "due_on": "2026-12-01"},
                         "feedback": first["payload"]["feedback"]}
    kept = kiosk.feedback(2, due_on="2026-12-05")
    assert push(client, kiosk, first, kept).status_code == 200
    assert push(client, other, again).status_code == 200
    data = rebuilt_equal()
    assert [(f["uid"], f["reason"], f["kiosk"]) for f in data["open"]] == [
        (kept["payload"]["followup"]["uid"], "slow", "大厅1号机"),
        (first["payload"]["followup"]["uid"], "fees", "大厅1号机")]  # due 12-20 as first said, not 12-01

    assert push(client, desk, desk.closed(kept, note="已回电")).status_code == 200
    assert push(client, desk, desk.closed(kept, note="又回电")).status_code == 200  # a second close: the first counts
    data = rebuilt_equal()
    assert [f["uid"] for f in data["open"]] == [first["payload"]["followup"]["uid"]]
    assert [(f["uid"], f["closed"]["note"]) for f in data["closed"]] == [(kept["payload"]["followup"]["uid"], "已回电")]

    revoke(storage, kiosk.uid)
    assert void(storage, kiosk.uid, T0 - timedelta(days=400)) is not None
    data = rebuilt_equal()  # what the stolen kiosk said is void: the other kiosk's copy now opens the follow-up
    assert [(f["uid"], f["reason"], f["due_on"], f["kiosk"]) for f in data["open"]] == [
        (first["payload"]["followup"]["uid"], "other", "2026-12-01", "大厅2号机")]
    assert data["closed"] == []


def test_the_figures_asked_without_a_period_are_of_the_twelve_weeks_the_chart_shows(client, storage):
    """As a desk's admin screen: the last 12 weeks; `from=2000-01-01` asks for every rating;
    the CSV without a period is every rating."""
    kiosk = enrol(client, storage)
    now = datetime.now(UTC)
    push(client, kiosk, kiosk.feedback(5, at=now - timedelta(days=1)), kiosk.feedback(1, at=now - timedelta(days=200)))
    headers = office(storage)
    recent = client.get("/api/v1/office/satisfaction", headers=headers).json()
    assert recent["overall"]["count"] == 1 and recent["from"] and recent["to"] == recent["today"]
    assert date.fromisoformat(recent["from"]).weekday() == 0 and len(recent["weeks"]) == 12
    every = client.get("/api/v1/office/satisfaction", params={"from": "2000-01-01"}, headers=headers).json()
    assert every["overall"]["count"] == 2 and every["overall"]["poor"] == 1
    page = client.get("/office/satisfaction", headers=headers).text
    assert f"value='{recent['from']}'" in page and "/office/satisfaction?from=2000-01-01" in page
    assert len(client.get("/office/satisfaction.csv", headers=headers).text.splitlines()) == 3  # header + both


def test_open_follow_ups_come_in_keyset_pages_in_their_order_with_the_whole_counts(client, storage):
    """Pages after and before a follow-up's place (n…/p… links), the size kept across pages; the
    last page has no next; an old page number or a cut link is a 422, said in zh and en on the page."""
    kiosk = enrol(client, storage)
    given = [kiosk.feedback(1, due_on=f"2026-12-0{n}") for n in (3, 1, 5, 2, 4)]
    push(client, kiosk, *given)
    headers = office(storage)
    api = "/api/v1/office/followups"
    first = client.get(api, params={"size": 2}, headers=headers).json()
    assert (first["open_count"], first["open_more"], first["previous"]) == (5, False, None)
    second = client.get(api, params={"size": 2, "page": first["next"]}, headers=headers).json()
    third = client.get(api, params={"size": 2, "page": second["next"]}, headers=headers).json()
    assert [[f["due_on"] for f in p["open"]] for p in (first, second, third)] == [
        ["2026-12-01", "2026-12-02"], ["2026-12-03", "2026-12-04"], ["2026-12-05"]]
    assert third["next"] is None and third["previous"].startswith("p2026-12-05.")
    back = client.get(api, params={"size": 2, "page": third["previous"]}, headers=headers).json()
    assert back["open"] == second["open"] and back["next"] == second["next"]
    again = client.get(api, params={"size": 2, "page": back["previous"]}, headers=headers).json()
    assert again["open"] == first["open"] and again["previous"] is None

    html = client.get("/office/followups", params={"size": 2}, headers=headers).text
    assert "待回访 5 件" in html and "5 open" in html and "rel='prev'" not in html
    link = html.split("rel='next'")[0].rsplit("href='", 1)[1].split("'")[0].replace("&amp;", "&")
    assert link.startswith("/office/followups?page=n2026-12-02.") and link.endswith("&size=2")
    page2 = client.get(link, headers=headers).text
    assert "2026-12-03" in page2 and "2026-12-01" not in page2 and "上一页 · Previous" in page2
    assert "下一页 · Next" in page2
    last = page2.split("rel='next'")[0].rsplit("href='", 1)[1].split("'")[0].replace("&amp;", "&")
    page3 = client.get(last, headers=headers).text
    assert "2026-12-05" in page3 and "rel='next'" not in page3 and "rel='prev'" in page3

    assert client.get(api, params={"size": 501}, headers=headers).status_code == 422
    for bad in ("2", "n2026-12-02", "x2026-12-02.1.abc"):
        assert client.get(api, params={"page": bad}, headers=headers).status_code == 422
        refused = client.get("/office/followups", params={"page": bad}, headers=headers)
        assert refused.status_code == 422 and "page: a page link" in refused.text


def test_the_open_and_overdue_counts_stop_at_the_cap(client, storage, monkeypatch):
    """Counted up to COUNT_CAP (an index range, never the whole table): beyond, "N+"."""
    from central import followups as module

    kiosk = enrol(client, storage)
    push(client, kiosk, *[kiosk.feedback(1, due_on="2026-01-0" + str(n)) for n in (1, 2, 3)])
    monkeypatch.setattr(module, "COUNT_CAP", 2)
    data = followups(storage, today=date(2026, 6, 1), size=1)
    assert (data["open_count"], data["open_more"], data["overdue"], data["overdue_more"]) == (2, True, 2, True)
    html = client.get("/office/followups", headers=office(storage)).text
    assert "待回访 2+ 件" in html and "2+ open" in html


def test_a_tickets_intake_and_completion_rated_at_the_window_count_as_two_and_a_repeat_as_none(client, storage):
    """一次一评: each service at the window is rated once; the lobby's rating of the same ticket is a third."""
    from central import readmodels

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    t = reg["payload"]["ticket"]
    push(client, kiosk, reg)

    def at_window(rating: int, stage: str, hours: int) -> dict:
        given = kiosk.feedback(rating, at=T0 + timedelta(hours=hours), ticket=t["uid"], number=t["number"])
        given["payload"] |= {"device": desk.uid, "stage": stage}  # as the desk's pad writes it
        return given

    intake, completion = at_window(5, "intake", 1), at_window(2, "completion", 30)
    again = at_window(1, "intake", 2)  # the same service rated again (a restored backup): not counted
    for given in (intake, completion, again):
        assert push(client, desk, given).status_code == 200, given
    assert push(client, kiosk, kiosk.feedback(4, ticket=t["uid"], number=t["number"])).status_code == 200
    figures = report(storage, today=date(2026, 11, 26)).figures()
    assert figures["overall"]["count"] == 3 and figures["overall"]["levels"] == [0, 1, 0, 1, 1]
    rebuilt = readmodels.snapshot(storage)["rating"]
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage)["rating"] == rebuilt
