"""Certificate checks at central (issue 23): accepted only from a clerk desk of the ticket's site,
like the other steps (central/trust.py); relayed to the site's desks; counted by lab field and week
(central/certificate_checks.py), a voided one left out; the figures built again from the events by
schema 13's upgrade."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from central import certificate_checks
from central.voiding import void

from .nodes import T0, enrol, event, pull_all, push
from .test_trust import refused, ticket_of


@pytest.fixture
def two_sites(monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,north")


def checked(node, ticket: str, number: str, *, line: int = 0, instrument: int = 0, outcome: str = "passed",
            wrong: tuple[str, ...] = (), recheck_of: str | None = None, code: str = "L-001-001",
            at=T0 + timedelta(days=3)) -> dict:
    """As kiosk/store/certificate_checks.py record_check pushes it."""
    payload = {"check": str(uuid.uuid4()), "ticket": ticket, "number": number, "device": node.uid,
               "at": at.isoformat(), "line": line, "instrument": instrument, "outcome": outcome, "code": code,
               "service": "verification", "certificate": "JD-2026-0001", "conclusion": "pass",
               "wrong": list(wrong), "clerk": {"username": "wang", "name": "王芳"}}
    if outcome == "returned":
        payload |= {"reason": "编号错", "promised_on": "2026-12-01"}
    if recheck_of:
        payload["recheck_of"] = recheck_of
    return event("certificate.checked", at, payload)


def taken(node, returned: dict) -> dict:
    p = returned["payload"]
    at = T0 + timedelta(days=4)
    return event("certificate.taken_as_is", at, {
        "event": str(uuid.uuid4()), "check": p["check"], "ticket": p["ticket"], "number": p["number"],
        "device": node.uid, "at": at.isoformat(), "line": p["line"], "instrument": p["instrument"],
        "note": "客户同意", "clerk": {"username": "wang", "name": "王芳"}})


def test_only_a_desk_of_the_tickets_site_checks_its_certificates(client, storage, two_sites):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    far_desk = enrol(client, storage, "clerk", site="north")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    by_kiosk = checked(kiosk, ticket, number)
    refused(client, storage, kiosk, [by_kiosk], by_kiosk, "wrong_role")
    far = checked(far_desk, ticket, number)
    refused(client, storage, far_desk, [far], far, "other_site", "the ticket is of site main")
    not_own = checked(other_desk := enrol(client, storage, "clerk"), ticket, number)  # another desk's, pushed
    assert other_desk.uid != desk.uid
    refused(client, storage, desk, [not_own], not_own, "not_your_event")
    bad = checked(desk, ticket, number, wrong=("colour",))
    refused(client, storage, desk, [bad], bad, "invalid", "payload.wrong[0]")
    extra = checked(desk, ticket, number)
    extra["payload"]["phone"] = "13812345678"  # a field the shape does not name
    refused(client, storage, desk, [extra], extra, "invalid", "unknown field")
    returned = checked(desk, ticket, number, outcome="returned", wrong=("serial",))
    assert push(client, desk, returned, taken(desk, returned)).status_code == 200


def test_checks_reach_the_sites_other_desks_and_the_figures(client, storage, two_sites):
    kiosk, desk, other = enrol(client, storage), enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    far_desk = enrol(client, storage, "clerk", site="north")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    first = checked(desk, ticket, number)
    back = checked(desk, ticket, number, instrument=1, outcome="returned", wrong=("serial", "holder"))
    tape = checked(desk, ticket, number, line=1, code="C-003-001", outcome="returned", wrong=("conclusion",),
                   at=T0 + timedelta(days=8))  # the next week
    assert push(client, desk, first, back, tape).status_code == 200
    again = checked(other, ticket, number, instrument=1, recheck_of=back["payload"]["check"],
                    at=T0 + timedelta(days=9))
    assert push(client, other, again, taken(other, tape)).status_code == 200

    changes, _ = pull_all(client, other)
    relayed = [(c["kind"], c["data"].get("check") or c["data"].get("event")) for c in changes
               if c["kind"].startswith("certificate.")]
    assert relayed == [("certificate.checked", first["payload"]["check"]),
                       ("certificate.checked", back["payload"]["check"]),
                       ("certificate.checked", tape["payload"]["check"])]  # not its own
    mine, _ = pull_all(client, desk)
    assert [c["kind"] for c in mine if c["kind"].startswith("certificate.")] == [
        "certificate.checked", "certificate.taken_as_is"]
    far, _ = pull_all(client, far_desk)
    assert not [c for c in far if c["kind"].startswith("certificate.")]  # another site's desks: nothing
    kiosk_changes, _ = pull_all(client, kiosk)
    assert not [c for c in kiosk_changes if c["kind"].startswith("certificate.")]

    figures = certificate_checks.figures(storage)
    assert [(f.week, f.field, f.checked, f.returned, f.rechecked, f.reasons) for f in figures] == [
        (date(2026, 11, 30), "C", 1, 1, 0, {"conclusion": 1}),
        (date(2026, 11, 30), "L", 1, 0, 1, {}),
        (date(2026, 11, 23), "L", 2, 1, 0, {"serial": 1, "holder": 1}),
    ]
    assert len(certificate_checks.figures(storage, since=date(2026, 12, 1))) == 2
    assert certificate_checks.figures(storage, site="north") == []

    # Built again from the events (schema 13's upgrade): the same rows.
    with storage.read() as tx:
        before = tx.all("SELECT * FROM certificate_check ORDER BY event_id")
    with storage.transaction() as tx:
        certificate_checks.build(tx, storage)
    with storage.read() as tx:
        assert tx.all("SELECT * FROM certificate_check ORDER BY event_id") == before

    # A revoked desk's checks voided: left out of the figures.
    from central.devices import revoke

    revoke(storage, other.uid)
    void(storage, other.uid, T0)
    assert [(f.field, f.checked) for f in certificate_checks.figures(storage)] == [("C", 1), ("L", 2)]


def test_the_office_page_json_and_csv_by_field_and_week(client, storage, monkeypatch, database_url, capsys):
    import csv
    import io

    import central.api.certificate_checks as route

    from .office_users import office

    monkeypatch.setattr(route, "today", lambda: date(2026, 12, 2))  # the injected clock: "this week"
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    back = checked(desk, ticket, number, outcome="returned", wrong=("serial", "holder"))
    assert push(client, desk, checked(desk, ticket, number, instrument=1), back,
                checked(desk, ticket, number, recheck_of=back["payload"]["check"], at=T0 + timedelta(days=8)),
                checked(desk, ticket, number, line=1, code="C-003-001", outcome="returned", wrong=("conclusion",),
                        at=T0 + timedelta(days=8))).status_code == 200
    for role in ("director", "clerk", "auditor"):  # no personal data: every role
        page = client.get("/office/certificate-checks", headers=office(storage, role))
        assert page.status_code == 200, role
    text = page.text
    assert "<script" not in text and "证书核对" in text
    assert "核对 checked <b>4</b>，退回 returned <b>2</b>" in text and "差错率 error rate <b>50.0%</b>" in text
    assert "L 力学 · Mechanics and pressure" in text and "C 长度 · Length" in text
    assert "编号 1、单位 1、结论 1 · Serial 1, Holder 1, Conclusion 1" in text
    assert "href='/office/certificate-checks'" in client.get("/office", headers=office(storage, "auditor")).text

    director = office(storage)
    body = client.get("/api/v1/office/certificate-checks", headers=director).json()
    assert (body["from"], body["to"]) == ("2026-09-14", "2026-12-02")  # 12 weeks, whole
    assert [(r["week"], r["field"], r["checked"], r["returned"], r["rechecked"]) for r in body["rows"]] == [
        ("2026-11-30", "C", 1, 1, 0), ("2026-11-30", "L", 1, 0, 1), ("2026-11-23", "L", 2, 1, 0)]
    got = client.get("/office/certificate-checks.csv", params={"from": "2026-11-23", "to": "2026-11-29"},
                     headers=director)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows == [list(rule_columns()), ["2026-11-23", "L", "2", "1", "0", "50.0", "0", "1", "1", "0", "0", "0"]]
    # The same from `kiosk central certificate-checks`.
    from kiosk.cli import main

    capsys.readouterr()
    assert main(["central", "certificate-checks", "--database-url", database_url, "--from", "2026-11-23",
                 "--to", "2026-11-29"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "2026-11-23,L,2,1,0,50.0,0,1,1,0,0,0"
    for query in ({"from": "2026-12-03", "to": "2026-12-01"}, {"from": "yesterday"}):
        assert client.get("/api/v1/office/certificate-checks", params=query, headers=director).status_code == 422
        assert client.get("/office/certificate-checks", params=query, headers=director).status_code == 422
    assert client.get("/api/v1/office/certificate-checks").status_code == 401


def test_the_figures_come_in_keyset_pages_and_the_csv_streams_a_week_at_a_time(client, storage, monkeypatch):
    """Pages of (week, field) rows after or before a row (n…/p… links keeping the period and size),
    the last without a next; the CSV the same bytes as the figures of every check row (the old
    export), its first week sent before the next is read."""
    import central.api.certificate_checks as route
    from kiosk.domain import certificate_check as rule

    from .office_users import office

    monkeypatch.setattr(route, "today", lambda: date(2026, 12, 30))
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    checks = [checked(desk, ticket, number, line=n % 2, instrument=n, code="LC"[n % 2] + "-001-001",
                      outcome="returned" if n % 3 == 0 else "passed", wrong=("serial",) if n % 3 == 0 else (),
                      at=T0 + timedelta(days=7 * (n // 2) + 1)) for n in range(7)]
    assert push(client, desk, *checks).status_code == 200
    director = office(storage)
    whole = rule.figures(certificate_checks.check_rows(storage, date(2026, 10, 5), date(2026, 12, 30)))
    assert len(whole) == 7 and certificate_checks.figures(storage, date(2026, 10, 5), date(2026, 12, 30)) == whole

    api, period = "/api/v1/office/certificate-checks", {"from": "2026-10-05", "to": "2026-12-30", "size": "3"}
    pages = [client.get(api, params=period, headers=director).json()]
    while pages[-1]["next"]:
        pages.append(client.get(api, params={**period, "page": pages[-1]["next"]}, headers=director).json())
    assert [len(p["rows"]) for p in pages] == [3, 3, 1] and pages[0]["previous"] is None
    assert [(r["week"], r["field"]) for p in pages for r in p["rows"]] == [(f.week.isoformat(), f.field)
                                                                          for f in whole]
    back = client.get(api, params={**period, "page": pages[2]["previous"]}, headers=director).json()
    assert back["rows"] == pages[1]["rows"] and back["next"] == pages[1]["next"]
    assert client.get(api, params={**period, "page": back["previous"]}, headers=director).json()["rows"] == \
        pages[0]["rows"]

    html = client.get("/office/certificate-checks", params=period, headers=director).text
    assert "核对 checked <b>7</b>" in html and "下一页 · Older" in html and "rel='prev'" not in html
    link = html.split("rel='next' href='")[1].split("'")[0].replace("&amp;", "&")
    assert "from=2026-10-05" in link and "to=2026-12-30" in link and "size=3" in link
    second = client.get(link, headers=director).text
    assert "核对 checked <b>7</b>" in second and "上一页 · Newer" in second and "rel='next'" in second
    last = client.get(second.split("rel='next' href='")[1].split("'")[0].replace("&amp;", "&"), headers=director)
    assert "rel='next'" not in last.text and "rel='prev'" in last.text
    for bad in ({"page": "2"}, {"page": "n2026-11-30"}, {"size": "0"}, {"size": "501"}):
        assert client.get(api, params=bad, headers=director).status_code == 422
        assert client.get("/office/certificate-checks", params=bad, headers=director).status_code == 422

    got = client.get("/office/certificate-checks.csv", params=period, headers=director)
    assert got.status_code == 200 and got.text == rule.to_csv(whole)  # the bytes the old export wrote
    read = []
    real = certificate_checks._week
    monkeypatch.setattr(certificate_checks, "_week", lambda *a: read.append(a[-1]) or real(*a))
    stream = route._stream(storage, date(2026, 10, 5), date(2026, 12, 30))
    assert next(stream) == rule.to_csv([]).encode() and read == []
    assert next(stream).decode().startswith(whole[0].week.isoformat()) and len(read) == 1  # one week read
    assert b"".join(stream) and len(read) == 4


def sums(storage) -> list[tuple]:
    with storage.read() as tx:
        return certificate_checks.sums_snapshot(tx)


def test_the_sums_pushes_and_voidings_keep_are_the_ones_a_rebuild_from_the_events_gives(client, storage,
                                                                                           two_sites):
    """Schema 27: certificate_check_sum kept by each push (+1 a check) and voiding (-1 a check
    voided) in its transaction is the table a build from the stored events makes; the figures
    read from it are the rule's over every check row in force (kiosk/domain/certificate_check.py)."""
    import random

    from central.devices import revoke
    from kiosk.domain import certificate_check as rule

    rng = random.Random(27)
    kiosk = enrol(client, storage)
    desks = [enrol(client, storage, "clerk"), enrol(client, storage, "clerk"),
             enrol(client, storage, "clerk", site="north")]
    north_kiosk = enrol(client, storage, site="north")
    tickets = {}
    for owner in (kiosk, kiosk, north_kiosk):
        reg = owner.registered()
        assert push(client, owner, reg).status_code == 200
        tickets.setdefault(owner.uid, []).append(ticket_of(reg))
    planned = []
    for n in range(60):
        desk = rng.choice(desks)
        ticket, number = rng.choice(tickets[north_kiosk.uid if desk is desks[2] else kiosk.uid])
        returned = rng.random() < 0.3
        planned.append((desk, checked(desk, ticket, number, line=rng.randrange(2), instrument=rng.randrange(3),
                                      code=rng.choice(("L-001-001", "C-003-001", "Z-001-001")),
                                      outcome="returned" if returned else "passed",
                                      wrong=tuple(rng.sample(("serial", "holder", "conclusion"), rng.randrange(1, 3)))
                                      if returned else (), recheck_of=str(uuid.uuid4()) if rng.random() < 0.2
                                      else None, at=T0 + timedelta(days=rng.randrange(40), hours=rng.randrange(9)))))
    rng.shuffle(planned)
    while planned:
        desk = planned[0][0]
        batch = [e for d, e in planned if d is desk][:rng.randrange(1, 6)]
        planned = [(d, e) for d, e in planned if e not in batch]
        assert push(client, desk, *batch).status_code == 200
        if rng.random() < 0.3:  # a repeat stores nothing and counts nothing
            assert push(client, desk, *batch).status_code == 200

    def rebuilt_equal() -> list[tuple]:
        kept = sums(storage)
        with storage.transaction() as tx:
            certificate_checks.build(tx, storage)
        assert sums(storage) == kept
        assert certificate_checks.figures(storage) == rule.figures(certificate_checks.check_rows(storage))
        for site in ("main", "north"):
            assert certificate_checks.figures(storage, site=site) == rule.figures(
                certificate_checks.check_rows(storage, site=site))
        return kept

    pushed = rebuilt_equal()
    assert sum(n for *_, n in pushed) == 60 and {site for _, _, site, *_ in pushed} == {"main", "north"}
    revoke(storage, desks[1].uid)
    assert void(storage, desks[1].uid, T0 - timedelta(days=1)) is not None
    voided = rebuilt_equal()
    assert sum(n for *_, n in voided) < 60 and all(n > 0 for *_, n in voided)


def rule_columns():
    from kiosk.domain.certificate_check import FIGURE_COLUMNS

    return FIGURE_COLUMNS


def test_the_due_list_leaves_out_a_line_whose_instruments_all_failed(client, storage):
    from central.catalog import import_catalog
    from central.due import due_report
    from kiosk.store.catalog import demo_csv

    import_catalog(storage, demo_csv(), "demo.csv")  # the cycles
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    regs = [kiosk.registered() for _ in range(2)]
    push(client, kiosk, *regs)
    for serial, reg in zip(("A1", "A2"), regs):  # two serial numbers: each its own reminder
        lines = [{"ticket_line_id": 1, "code": "L-001-001", "quantity": 2, "service": "verification",
                  "use": "safety", "serial_number": serial}]
        ticket, number = ticket_of(reg)
        assert push(client, desk, desk.step("received", ticket, number, lines=lines),
                    desk.step("ready", ticket, number), desk.step("picked_up", ticket, number,
                                                                  at=T0 + timedelta(days=5))).status_code == 200

    def listed() -> list[str]:
        return sorted(i.number for i in due_report(storage, 400, date(2026, 11, 30)).items)

    assert listed() == sorted(ticket_of(r)[1] for r in regs)
    first, second = (ticket_of(r) for r in regs)
    fail = [checked(desk, *first, instrument=k) for k in (0, 1)]
    for e in fail:
        e["payload"] |= {"conclusion": "fail", "document": "notice"}
    one = checked(desk, *second)
    one["payload"] |= {"conclusion": "fail", "document": "notice"}
    assert push(client, desk, *fail, one).status_code == 200
    assert listed() == [second[1]]  # one of its two passed: still reminded
    # ... for that one only: the instrument found 不合格 is not reminded as if it had passed
    assert [i.quantity for i in due_report(storage, 400, date(2026, 11, 30)).items] == [1]
    again = checked(desk, *second, at=T0 + timedelta(days=3, hours=1))  # corrected: it passed after all
    assert push(client, desk, again).status_code == 200
    assert [i.quantity for i in due_report(storage, 400, date(2026, 11, 30)).items] == [2]
