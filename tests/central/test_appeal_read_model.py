"""Schema 28: the appeal read model (central/readmodels/appeal.py), one row per appeal with its
state, and the office's appeals listed by state (central/appeals.py page): the rows pushes, the
office's decisions and voidings leave are the ones a build makes from the events in force, whatever
order the events came in; a supervisor sees the appeals waiting first, the longest waiting on top,
and each state's count; two pushes of one appeal's filing and decision at once give its state."""

from __future__ import annotations

import json
import random
import re
import threading
from datetime import timedelta

import pytest

from central import appeals, readmodels
from central.appeals import decide, listed
from central.devices import revoke
from central.readmodels import appeal
from central.storage import as_datetime
from central.voiding import void
from kiosk.domain.clock import utc_now

from .locks import until_it_waits
from .nodes import T0, enrol, push
from .office_users import office
from .test_ratings_paged import _appeal, _decided
from .test_window_ratings_office import ALL_TIME, served, window_rating


def rows(storage) -> list[tuple]:
    with storage.read() as tx:
        return appeal.snapshot(tx)


def rows_equal_after_build(storage) -> list[tuple]:
    """The rows kept so far, checked equal to those a build makes, and to the appeals' states folded."""
    kept = rows(storage)
    with storage.transaction() as tx:
        appeal.build(tx, storage)
    assert rows(storage) == kept
    assert {uid: decision for uid, _, _, _, decision, _, _ in kept} == {
        a["appeal"]: a["decision"] for a in listed(storage)}
    return kept


@pytest.mark.parametrize("seed", range(4))
def test_pushed_in_any_order_decided_and_voided_the_rows_are_what_the_events_in_force_say(client, storage, seed):
    """Appeals filed at two desks and a stolen one, some filed twice, some decided twice (the
    first decision to arrive decides), some decisions pushed before their filing, in random
    batches; then the stolen desk's events voided, then decisions from the office."""
    rng = random.Random(seed)
    _, desk, reg = served(client, storage)
    other, thief = enrol(client, storage, "clerk", name="2号窗口"), enrol(client, storage, "clerk", name="被盗窗口")
    poor = [window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2, minutes=n), reason="slow")
            for n in range(3)]
    assert push(client, desk, *poor).status_code == 200
    said = []  # (desk, event)
    for n in range(14):
        filer = rng.choice((desk, other, thief))
        filing = _appeal(filer, rng.choice(poor), T0 + timedelta(hours=3, minutes=n))
        said.append((filer, filing))
        if rng.random() < 0.3:  # filed again (another event, the same appeal)
            again = _appeal(filer, rng.choice(poor), T0 + timedelta(hours=4), uid=filing["payload"]["appeal"])
            said.append((filer, again))
        for decision in rng.sample(("upheld", "rejected", "upheld"), rng.choice((0, 1, 1, 2))):
            judge = rng.choice((desk, other, thief))
            said.append((judge, _decided(judge, filing, decision)))
    rng.shuffle(said)
    since = None
    while said:
        size = rng.randint(1, 4)
        batch, said = said[:size], said[size:]
        if since is None and len(said) < 8:
            since = utc_now()  # what the thief pushes from here on is voided
        for device in {d.uid: d for d, _ in batch}.values():
            got = push(client, device, *[e for d, e in batch if d is device])
            assert got.status_code == 200, got.text
    kept = rows_equal_after_build(storage)
    assert any(row[4] is None for row in kept) and any(row[4] is not None for row in kept)
    revoke(storage, thief.uid)
    void(storage, thief.uid, since or utc_now())
    rows_equal_after_build(storage)
    for uid in [row[0] for row in rows(storage) if row[4] is None][:3]:  # decided from the office
        decide(storage, uid, rng.choice(("upheld", "rejected")), "监控", "赵主任")
    after = rows_equal_after_build(storage)
    with storage.transaction() as tx:  # the whole rebuild too
        readmodels.build(tx, storage)
    assert rows(storage) == after


def _filed_and_decided(client, storage, filed: int = 60, decided: tuple = ("upheld", "rejected", "upheld", "upheld",
                                                                            "rejected")):
    """`filed` appeals filed a minute apart; the first len(`decided`) of them decided so, a day
    apart, the last decided first. The filings, oldest first."""
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    assert push(client, desk, poor).status_code == 200
    filings = [_appeal(desk, poor, T0 + timedelta(hours=3, minutes=n)) for n in range(filed)]
    assert push(client, desk, *filings).status_code == 200
    decisions = []
    for n, outcome in enumerate(decided):
        made = _decided(desk, filings[n], outcome)
        made["created_at"] = (T0 + timedelta(days=10 - n)).isoformat()
        decisions.append(made)
    assert push(client, desk, *decisions).status_code == 200
    return filings


def _walk(client, headers, state: str) -> tuple[list[list[dict]], dict]:
    """Every page of one state's appeals, first to last; the first page's answer."""
    first = report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state={state}", headers=headers).json()
    pages = [report["appeals"]]
    while report["appeals_next"]:
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state={state}&appeals={report['appeals_next']}",
                            headers=headers).json()
        pages.append(report["appeals"])
    back = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state={state}&appeals={report['appeals_previous']}",
                      headers=headers).json() if report["appeals_previous"] else None
    if back is not None:
        assert back["appeals"] == pages[-2]
    return pages, first


def test_a_supervisor_sees_the_appeals_waiting_first_the_longest_waiting_on_top_and_each_states_count(client,
                                                                                                       storage):
    filings = _filed_and_decided(client, storage)
    uids = [f["payload"]["appeal"] for f in filings]
    headers = office(storage, "clerk")
    default = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()
    waiting, first = _walk(client, headers, "waiting")
    assert default["appeals"] == waiting[0] and default["appeals_state"] == "waiting"
    assert [len(p) for p in waiting] == [50, 5]
    assert [a["appeal"] for p in waiting for a in p] == uids[5:]  # oldest filed first
    assert all(a["decision"] is None for p in waiting for a in p)
    counted = {state: (c["count"], c["more"]) for state, c in first["appeals_counts"].items()}
    assert counted == {"waiting": (55, False), "decided": (5, False), "upheld": (3, False), "rejected": (2, False),
                       "all": (60, False)}
    assert (first["appeals_count"], first["appeals_more"]) == (55, False)
    decided, _ = _walk(client, headers, "decided")
    assert [a["appeal"] for p in decided for a in p] == uids[:5]  # newest decided first
    assert [a["decision"] for p in decided for a in p] == ["upheld", "rejected", "upheld", "upheld", "rejected"]
    upheld, _ = _walk(client, headers, "upheld")
    assert [a["appeal"] for p in upheld for a in p] == [uids[0], uids[2], uids[3]]
    rejected, _ = _walk(client, headers, "rejected")
    assert [a["appeal"] for p in rejected for a in p] == [uids[1], uids[4]]
    every, _ = _walk(client, headers, "all")
    assert [a["appeal"] for p in every for a in p] == uids[::-1]  # newest filed first, as before schema 28

    page = client.get(f"/office/ratings?{ALL_TIME}", headers=headers).text
    assert "待审核申诉 55 件，等待最久的在前 · 55 appeals waiting, the longest waiting first" in page
    for tab in ("<strong>待审核 Waiting（55）</strong>", ">已审核 Decided（5）</a>", ">成立 Upheld（3）</a>",
                ">不成立 Rejected（2）</a>", ">全部 All（60）</a>"):
        assert tab in page, tab
    assert "较新的申诉 Newer appeals ›" in page and "‹ 更早的申诉" not in page  # oldest first: later ones next
    tab = re.search(r"<a href='(/office/ratings\?[^']+)#appeals'>已审核 Decided", page).group(1).replace("&amp;", "&")
    assert "from=2000-01-01" in tab and "appeals_state=decided" in tab
    shown = client.get(tab, headers=headers).text
    assert "已审核的申诉 5 件，最新审核的在前 · 5 decided appeals, the newest decided first" in shown
    assert "<strong>已审核 Decided（5）</strong>" in shown and "申诉成立 Upheld：监控" in shown

    for bad in ("open", "WAITING", "waiting,all"):
        got = client.get(f"/api/v1/office/ratings?appeals_state={bad}", headers=headers)
        assert got.status_code == 422 and got.json()["detail"].startswith("appeals_state"), bad
        assert client.get(f"/office/ratings?appeals_state={bad}", headers=headers).status_code == 422, bad


def test_each_states_count_is_exact_up_to_the_cap(client, storage, monkeypatch):
    monkeypatch.setattr(appeals, "COUNT_CAP", 4)
    _filed_and_decided(client, storage, filed=9, decided=("upheld", "rejected", "upheld", "upheld"))
    report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=office(storage, "auditor")).json()
    assert {state: (c["count"], c["more"]) for state, c in report["appeals_counts"].items()} == {
        "waiting": (4, True), "decided": (4, False), "upheld": (3, False), "rejected": (1, False), "all": (4, True)}
    assert (report["appeals_count"], report["appeals_more"], len(report["appeals"])) == (4, True, 5)
    page = client.get(f"/office/ratings?{ALL_TIME}", headers=office(storage, "auditor")).text
    assert "待审核 Waiting（4+）" in page and "已审核 Decided（4）" in page


def test_a_filing_and_its_decision_pushed_at_once_by_two_desks_give_the_decided_appeal(client, storage):
    """The filing's push holds its transaction open while the decision's push folds: the second
    waits for the appeal's lock, then reads the filing (PostgreSQL; SQLite runs one writer at a time)."""
    if not storage.postgres:
        pytest.skip("SQLite serialises writers")
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    assert push(client, desk, poor).status_code == 200
    filing = _appeal(desk, poor, T0 + timedelta(hours=3))
    decision = _decided(desk, filing, "upheld")
    uid = filing["payload"]["appeal"]

    def stored(tx, made: dict, received) -> None:
        tx.execute("INSERT INTO event (uid, kind, device_id, created_at, received_at, payload) VALUES "
                   "(?, ?, 1, ?, ?, ?::jsonb)", (made["uid"], made["kind"], as_datetime(made["created_at"]), received,
                                                 json.dumps(made["payload"])))

    waiting, done = {}, threading.Event()
    filed_at = utc_now()

    def decider():
        with storage.transaction() as tx:
            waiting["pid"] = tx.conn.info.backend_pid
            stored(tx, decision, filed_at + timedelta(seconds=1))
            readmodels.fold(tx, storage, readmodels.read(tx, storage, "e.uid = ?", (decision["uid"],)))
        done.set()

    with storage.transaction() as tx:
        stored(tx, filing, filed_at)
        readmodels.fold(tx, storage, readmodels.read(tx, storage, "e.uid = ?", (filing["uid"],)))
        other = threading.Thread(target=decider)
        other.start()
        until_it_waits(storage, waiting, done)
        assert not done.is_set()  # it waits for this appeal's lock
    other.join(10)
    assert [(row[0], row[4]) for row in rows(storage)] == [(uid, "upheld")]
    rows_equal_after_build(storage)


def test_a_ratings_appeals_are_read_by_the_rating_not_by_a_scan(storage):
    """A push of ratings marks their set_aside from their appeals (appeal.of_ratings): read by
    appeal_feedback, so its cost is the batch's, not the number of appeals stored (the planner is
    told to avoid scans, as it would at scale; a small table is scanned otherwise)."""
    said: list[tuple[str, tuple]] = []
    with storage.transaction() as tx:
        execute = tx.execute
        tx.execute = lambda sql, params=(): said.append((sql, tuple(params))) or execute(sql, params)
        assert appeal.of_ratings(tx, storage, ["0193aaaa-0000-7000-8000-0000000000b1"]) == []
        tx.execute = execute
        if storage.postgres:
            tx.execute("SET LOCAL enable_seqscan = off")
        explain = "EXPLAIN" if storage.postgres else "EXPLAIN QUERY PLAN"
        [(sql, params)] = said
        plan = " ".join(str(row[-1]) for row in tx.all(f"{explain} {sql}", params))
        assert "appeal_feedback" in plan and "Seq Scan" not in plan and "SCAN appeal" not in plan, plan
