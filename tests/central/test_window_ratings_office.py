"""一次一评 at central (issue 21): a clerk desk pushes its counter pad's ratings (`feedback.given`
with stage, 工号 and window), a work order's call-back, an appeal; the back office shows the pads'
ratings by counter, clerk, stage and week, exports them in the provincial platform's shape (CSV
and JSON, no personal data), and a director decides the appeal (the rating stays, set aside)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

from central.appeals import listed
from kiosk.domain import events

from .nodes import T0, enrol, event, push

ALL_TIME = "from=2000-01-01"  # T0 falls out of the default 12 weeks as the calendar moves on (figures, ratings)
from .office_users import SAME_SITE, csrf, form_csrf, office, office_user, sign_in


def window_rating(desk, reg: dict, stage: str, rating: int, *, at, reason: str | None = None, counter: str = "3",
                  staff: str = "GZ0107") -> dict:
    """As kiosk/store/window_ratings.py rate() pushes it (built with the shared shape)."""
    ticket = reg["payload"]["ticket"]
    poor = rating <= 2
    given = events.FeedbackGiven(
        feedback=str(uuid.uuid4()), device=desk.uid, at=at, rating=rating,
        level=("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")[rating - 1],
        ticket=ticket["uid"], number=ticket["number"], reason=reason if poor else None, reason_text="",
        steps={"received": events.StepSeen(device=desk.uid, clerk="wang")},
        followup=events.FollowupOpened(str(uuid.uuid4()), (at + timedelta(days=7)).date(), at + timedelta(hours=48))
        if poor else None, stage=stage, clerk="wang", staff_number=staff, counter=counter)
    return event("feedback.given", at, json.loads(events.to_json(given)))


def served(client, storage):
    kiosk = enrol(client, storage)
    desk = enrol(client, storage, "clerk", name="1号收件窗口")
    reg = kiosk.registered()
    ticket = reg["payload"]["ticket"]
    received = desk.step("received", ticket["uid"], ticket["number"], at=T0 + timedelta(hours=1))
    assert push(client, kiosk, reg).status_code == 200
    assert push(client, desk, received).status_code == 200
    return kiosk, desk, reg


def test_a_desk_pushes_its_pads_ratings_and_the_office_counts_and_exports_them(client, storage):
    kiosk, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=1, minutes=1), reason="slow")
    good = window_rating(desk, reg, "completion", 5, at=T0 + timedelta(days=6))
    lobby = kiosk.feedback(4, at=T0 + timedelta(days=6, hours=1), ticket=reg["payload"]["ticket"]["uid"],
                           number=reg["payload"]["ticket"]["number"], phone="13812345678", comment="张三")
    got = push(client, desk, poor, good)
    assert got.status_code == 200, got.text
    assert push(client, kiosk, lobby).status_code == 200
    call = event("followup.called", T0 + timedelta(hours=3), json.loads(events.to_json(events.FollowupCalled(
        call=str(uuid.uuid4()), followup=poor["payload"]["followup"]["uid"], feedback=poor["payload"]["feedback"],
        device=desk.uid, at=T0 + timedelta(hours=3), reached=True, note="已致歉",
        clerk=events.Clerk(username="wang", name="王芳")))))
    assert push(client, desk, call).status_code == 200

    headers = office(storage, "clerk")
    report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()
    assert report["count"] == 2  # the lobby's rating is not a window's
    assert [(g["key"], g["count"], g["poor"]) for g in report["counter"]] == [("1号收件窗口 · 3", 2, 1)]
    assert [(g["key"], g["count"]) for g in report["clerk"]] == [("GZ0107", 2)]
    assert [g["key"] for g in report["stage"]] == ["intake", "completion"]
    assert [g["key"] for g in report["week"]] == ["2026-W48", "2026-W49"]
    [order] = report["work_orders"]  # the poor one: its deadline, the call-back made, still open
    assert (order["number"], order["stage"], order["due_on"], order["closed_at"]) == (
        reg["payload"]["ticket"]["number"], "intake", poor["payload"]["followup"]["due_on"], None)
    assert order["callback_by"] == poor["payload"]["followup"]["callback_by"]
    assert [(c["reached"], c["note"]) for c in order["calls"]] == [(True, "已致歉")]
    closed = desk.closed(poor, at=T0 + timedelta(days=1), note="加开窗口")
    closed["payload"]["fix"] = "basic"
    assert push(client, desk, closed).status_code == 200
    [order] = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()["work_orders"]
    assert (order["fix"], order["note"]) == ("basic", "加开窗口")

    got = client.get("/office/ratings/export.csv", headers=headers)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff"))))
    assert [(r["stage_name"], r["level_name"], r["staff_number"], r["channel"]) for r in rows] == [
        ("受理", "非常不满意", "GZ0107", "窗口评价器"), ("办结", "非常满意", "GZ0107", "窗口评价器"),
        ("受理", "满意", "wang", "自助终端")]  # a lobby rating: the clerk and stage as central knows them
    assert all(r["transaction_number"] == reg["payload"]["ticket"]["number"] for r in rows)
    assert rows[0]["department"] == "示范市计量检定测试院" and rows[0]["reasons"] == "等候或办理太久"
    assert "13812345678" not in got.text and "张三" not in got.text and "王芳" not in got.text
    data = client.get("/office/ratings/export.json", headers=headers).json()
    assert [r["stage"] for r in data["ratings"]] == [1, 2, 1]
    page = client.get(f"/office/ratings?{ALL_TIME}", headers=headers)
    assert page.status_code == 200 and "1号收件窗口 · 3" in page.text and "受理 Intake" in page.text
    assert "已接通 reached 已致歉" in page.text and "基本满意 Fairly satisfied" in page.text


def test_an_appeal_decided_by_a_director_sets_the_rating_aside_and_keeps_it(client, storage):
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 2, at=T0 + timedelta(hours=2), reason="attitude")
    good = window_rating(desk, reg, "completion", 5, at=T0 + timedelta(hours=2))
    appeal_uid = str(uuid.uuid4())
    appealed = event("rating.appealed", T0 + timedelta(hours=3), json.loads(events.to_json(events.RatingAppealed(
        appeal=appeal_uid, feedback=poor["payload"]["feedback"], device=desk.uid, at=T0 + timedelta(hours=3),
        reason="顾客误触", clerk=events.Clerk(username="wang", name="王芳")))))
    assert push(client, desk, poor, good, appealed).status_code == 200
    satisfaction = client.get(f"/api/v1/office/satisfaction?{ALL_TIME}", headers=office(storage, "director")).json()
    assert satisfaction["overall"]["count"] == 2  # waiting: it counts
    [waiting] = listed(storage)
    assert waiting["decision"] is None and waiting["reason"] == "顾客误触"

    body = {"decision": "upheld", "reason": "监控显示误触"}
    clerk = office(storage, "clerk")
    assert client.post(f"/api/v1/office/appeals/{appeal_uid}/decide", json=body, headers=clerk).status_code == 403
    director = office(storage, "director")
    got = client.post(f"/api/v1/office/appeals/{appeal_uid}/decide", json=body,
                      headers=director | {"X-CSRF-Token": csrf(director)})
    assert got.status_code == 200, got.text
    assert got.json()["decision"] == "upheld" and got.json()["decided_by"] == "张主任"
    again = client.post(f"/api/v1/office/appeals/{appeal_uid}/decide", json=body, headers=director)
    assert again.status_code == 409
    missing = client.post(f"/api/v1/office/appeals/{uuid.uuid4()}/decide", json=body, headers=director)
    assert missing.status_code == 404

    report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=director).json()
    assert report["count"] == 2 and report["set_aside"] == 1
    rows = list(csv.DictReader(io.StringIO(client.get("/office/ratings/export.csv", headers=director)
                                           .text.lstrip("\ufeff"))))
    assert sorted(r["appeal"] for r in rows) == ["", "申诉成立"]  # exported, marked: never deleted
    # The satisfaction figures (JSON, page, CSV) leave it out, as the desk's F11 does (schema 19: set_aside)
    satisfaction = client.get(f"/api/v1/office/satisfaction?{ALL_TIME}", headers=director).json()
    assert satisfaction["overall"]["count"] == 1 and satisfaction["overall"]["levels"] == [0, 0, 0, 0, 1]
    text = client.get(f"/office/satisfaction.csv?{ALL_TIME}", headers=director).text.lstrip("\ufeff")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 1
    with storage.read() as tx:
        assert tx.all("SELECT rating, set_aside FROM rating ORDER BY rating") == [(2, 1), (5, 0)]


def test_a_rating_any_appeal_of_which_was_upheld_stays_set_aside_on_both_pages(client, storage):
    """Schema 24, one rule for both office pages (the desks' F11 rule): an appeal upheld, then a
    second appeal of the same rating rejected later, leaves it set aside in the satisfaction figures
    and in the window report (it was left in by its latest appeal before), exported as upheld."""
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="attitude")
    good = window_rating(desk, reg, "completion", 4, at=T0 + timedelta(hours=2))
    assert push(client, desk, poor, good).status_code == 200

    def appealed_and_decided(decision: str, hours: int) -> None:
        appeal, at = str(uuid.uuid4()), T0 + timedelta(hours=hours)
        filed = event("rating.appealed", at, json.loads(events.to_json(events.RatingAppealed(
            appeal=appeal, feedback=poor["payload"]["feedback"], device=desk.uid, at=at, reason="顾客误触",
            clerk=events.Clerk(username="wang", name="王芳")))))
        decided = event("appeal.decided", at + timedelta(minutes=5), {
            "appeal": appeal, "feedback": poor["payload"]["feedback"], "device": desk.uid,
            "at": (at + timedelta(minutes=5)).isoformat(), "decision": decision, "reason": "监控",
            "supervisor": {"username": "zhao", "name": "赵主任"}, "via": "desk"})
        assert push(client, desk, filed, decided).status_code == 200

    director = office(storage, "director")

    def shown() -> tuple:
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=director).json()
        figures = client.get(f"/api/v1/office/satisfaction?{ALL_TIME}", headers=director).json()
        rows = list(csv.DictReader(io.StringIO(client.get("/office/ratings/export.csv", headers=director)
                                               .text.lstrip("\ufeff"))))
        return ((report["count"], report["set_aside"], [g["levels"] for g in report["stage"]]),
                figures["overall"]["count"], sorted(r["appeal"] for r in rows))

    assert shown() == ((2, 0, [[1, 0, 0, 0, 0], [0, 0, 0, 1, 0]]), 2, ["", ""])
    appealed_and_decided("upheld", 3)
    upheld = ((2, 1, [[0, 0, 0, 1, 0]]), 1, ["", "申诉成立"])
    assert shown() == upheld
    appealed_and_decided("rejected", 30)  # a later appeal rejected: the upheld one still stands
    assert shown() == upheld
    page = client.get(f"/office/ratings?{ALL_TIME}", headers=director)
    assert page.status_code == 200
    with storage.read() as tx:
        assert tx.all("SELECT rating, set_aside, last_upheld FROM rating ORDER BY rating") == [(1, 1, 0), (4, 0, 0)]


def test_a_director_decides_from_the_page(client, storage):
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="fees")
    appeal_uid = str(uuid.uuid4())
    appealed = event("rating.appealed", T0 + timedelta(hours=3), json.loads(events.to_json(events.RatingAppealed(
        appeal=appeal_uid, feedback=poor["payload"]["feedback"], device=desk.uid, at=T0 + timedelta(hours=3),
        reason="收费有标准"))))
    assert push(client, desk, poor, appealed).status_code == 200
    office_user(storage, "director")
    assert sign_in(client, "director", next_page="/office/ratings").status_code == 303
    page = client.get("/office/ratings")
    assert "审核 Decide" in page.text
    got = client.post(f"/office/ratings/appeals/{appeal_uid}/decide", data={
        "decision": "rejected", "reason": "收费无误", "csrf": form_csrf(page.text)}, headers=SAME_SITE,
        follow_redirects=False)
    assert got.status_code == 303
    waiting = client.get("/office/ratings").text  # the waiting ones, the supervisor's work: none left
    assert "没有待审核的申诉 · No appeals waiting" in waiting and "收费有标准" not in waiting
    assert "申诉不成立 Rejected：收费无误" in client.get("/office/ratings?appeals_state=decided").text


def test_a_lobby_kiosk_may_not_push_appeals_or_calls(client, storage):
    kiosk, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    assert push(client, desk, poor).status_code == 200
    appealed = event("rating.appealed", T0 + timedelta(hours=3), json.loads(events.to_json(events.RatingAppealed(
        appeal=str(uuid.uuid4()), feedback=poor["payload"]["feedback"], device=kiosk.uid,
        at=T0 + timedelta(hours=3), reason="x"))))
    got = push(client, kiosk, appealed)
    assert got.status_code != 200 and "wrong_role" in got.text


def _links(html: str) -> dict[str, str]:
    """The work orders' page links of a ratings page, by rel (prev, next), as a browser follows them."""
    import html as markup
    import re

    return {rel: markup.unescape(href) for rel, href in re.findall(r"<a rel='(prev|next)' href='([^']+)'", html)}


def _numbers(html: str) -> list[str]:
    import re

    return re.findall(r"<a href='/office/tickets/[^']+'>([^<]+)</a></td><td>受理 Intake", html)


def test_the_work_orders_come_in_pages_newest_first_and_keep_their_filter(client, storage):
    kiosk = enrol(client, storage)
    desk = enrol(client, storage, "clerk", name="1号收件窗口")
    numbers, rated = [], []
    for n in range(5):  # five tickets, each intake rated poor a day after the one before
        reg = kiosk.registered(at=T0 + timedelta(days=n))
        ticket = reg["payload"]["ticket"]
        received = desk.step("received", ticket["uid"], ticket["number"], at=T0 + timedelta(days=n, hours=1))
        poor = window_rating(desk, reg, "intake", 2, at=T0 + timedelta(days=n, hours=1, minutes=5), reason="slow")
        assert push(client, kiosk, reg).status_code == 200
        assert push(client, desk, received, poor).status_code == 200
        numbers.append(ticket["number"])
        rated.append(poor)
    for poor in (rated[1], rated[3]):  # two of them closed
        assert push(client, desk, desk.closed(poor, at=T0 + timedelta(days=6))).status_code == 200
    newest_first = numbers[::-1]
    headers = office(storage, "clerk")

    page = client.get(f"/office/ratings?{ALL_TIME}&size=2", headers=headers)
    assert page.status_code == 200 and "评价时间 Rated" in page.text
    assert _numbers(page.text) == newest_first[:2] and set(_links(page.text)) == {"next"}
    assert "下一页 Older" in page.text and "上一页 Newer" not in page.text
    second = client.get(_links(page.text)["next"], headers=headers)
    assert _numbers(second.text) == newest_first[2:4] and set(_links(second.text)) == {"prev", "next"}
    last = client.get(_links(second.text)["next"], headers=headers)
    assert _numbers(last.text) == newest_first[4:] and set(_links(last.text)) == {"prev"}  # the last: no next
    assert "上一页 Newer" in last.text and "下一页 Older" not in last.text
    back = client.get(_links(last.text)["prev"], headers=headers)
    assert _numbers(back.text) == newest_first[2:4]
    assert "窗口评价 5 条 · 5 window ratings" in back.text  # the groups are the period's, whichever page

    opened = client.get(f"/office/ratings?{ALL_TIME}&state=open&size=2", headers=headers)
    assert "<option value='open' selected>办理中 open</option>" in opened.text
    assert _numbers(opened.text) == [numbers[4], numbers[2]]
    after = _links(opened.text)["next"]
    assert "state=open" in after and "from=2000-01-01" in after and "size=2" in after
    assert _numbers(client.get(after, headers=headers).text) == [numbers[0]]  # still only the open ones
    closed = client.get(f"/office/ratings?{ALL_TIME}&state=closed", headers=headers).text
    assert _numbers(closed) == [numbers[3], numbers[1]] and _links(closed) == {}

    report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&size=2", headers=headers).json()
    assert [o["number"] for o in report["work_orders"]] == newest_first[:2] and report["previous"] is None
    seen = [o["number"] for o in report["work_orders"]]
    while report["next"]:
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&size=2&page={report['next']}", headers=headers).json()
        seen += [o["number"] for o in report["work_orders"]]
    assert seen == newest_first and report["count"] == 5
    opened = client.get(f"/api/v1/office/ratings?{ALL_TIME}&state=open", headers=headers).json()
    assert [(o["number"], o["closed_at"]) for o in opened["work_orders"]] == [(numbers[4], None), (numbers[2], None),
                                                                             (numbers[0], None)]

    for bad in ("state=shut", "size=0", "size=501", "page=n2026-11-24.x"):
        got = client.get(f"/api/v1/office/ratings?{bad}", headers=headers)
        assert got.status_code == 422 and got.json()["detail"].startswith(bad.split("=")[0]), bad
        page = client.get(f"/office/ratings?{bad}", headers=headers)
        assert page.status_code == 422 and bad.split("=")[0] in page.text, bad
