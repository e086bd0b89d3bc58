"""Retention (central/retention.py): a ticket's personal data goes the period after its pickup
(or, never picked up, after its last event), everywhere central keeps it; the figures stay;
each run is recorded; a second run and a dry run change nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from central import audit, office, retention, satisfaction, tickets
from central.followups import followups
from central.retention import ERASED
from kiosk.cli import main

from .nodes import enrol, event, pull_all, push

NOW = datetime(2029, 11, 20, 2, 0, tzinfo=UTC)  # the run's clock: the cutoff is 2026-11-20 02:00 UTC
RAN = NOW + timedelta(days=2, minutes=7)  # when it really ran (`--now`: a run done late)
CUTOFF = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TODAY = date(2029, 11, 20)


def customer(registered: dict, n: int) -> dict:
    """A registration with personal data of its own (`n`), to look for afterwards."""
    p = registered["payload"]
    p["customer"] |= {"contact": f"联系人{n}号", "address": f"观山湖区{n}号路", "credit_code": f"9152010{n}MA6DKJ2X4U"}
    p["lines"][0] |= {"serial_number": f"SN-{n}-4471", "requirements": f"交给{n}号联系人"}
    return registered


@pytest.fixture
def institute(client, storage):
    """Three tickets and their ratings, as the devices pushed them:
    - `old`: picked up 3 years and a day before NOW, rated poorly with a call-back phone, followed up;
    - `recent`: picked up 3 years less a day before NOW, rated with a phone;
    - `abandoned`: never picked up, its last step (ready) 2 days before the cutoff;
    and an anonymous poor rating with a phone, given a week before the cutoff."""
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号窗口")
    people, registrations, pushes = {}, [], []
    for n, (name, picked_up, last_step) in enumerate((
            ("old", CUTOFF - DAY, None), ("recent", CUTOFF + DAY, None), ("abandoned", None, CUTOFF - 2 * DAY)),
            start=1):
        at = (picked_up or last_step) - 20 * DAY
        phone, organisation = f"1390000{n:04d}", f"{name.title()}精密仪表检测有限公司"
        reg = customer(kiosk.registered(at=at, phone=phone, organisation=organisation), n)
        uid, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
        lines = [{"code": "L-001-001", "quantity": 3, "service": "verification", "use": "safety",
                  "ticket_line_id": 1, "condition": "外观完好", "accessories": "", "serial_number": f"SN-{n}-4471"}]
        steps = [desk.step("received", uid, number, at=at + DAY, lines=lines)]
        if picked_up:
            steps += [desk.step("ready", uid, number, at=picked_up - DAY), desk.step("picked_up", uid, number,
                                                                                     at=picked_up)]
        else:
            steps.append(desk.step("ready", uid, number, at=last_step))
        # At dispatch: a certificate sent back with a name in its reason, then taken as it was (issue 23).
        returned = event("certificate.checked", at + 2 * DAY, {
            "check": str(uuid.uuid4()), "ticket": uid, "number": number, "device": desk.uid,
            "at": (at + 2 * DAY).isoformat(), "line": 0, "instrument": 0, "outcome": "returned", "code": "L-001-001",
            "service": "verification", "certificate": f"JD-{n}", "conclusion": "pass", "wrong": ["holder"],
            "reason": f"证书单位应为{n}号李女士的公司", "promised_on": "2026-12-01",
            "clerk": {"username": "wang", "name": "王芳"}})
        steps.append(returned)
        steps.append(event("certificate.taken_as_is", at + 3 * DAY, {
            "event": str(uuid.uuid4()), "check": returned["payload"]["check"], "ticket": uid, "number": number,
            "device": desk.uid, "at": (at + 3 * DAY).isoformat(), "line": 0, "instrument": 0,
            "note": f"{n}号李女士同意按原样取走", "clerk": {"username": "wang", "name": "王芳"}}))
        registrations.append(reg)
        pushes.append((desk, steps))
        people[name] = {"uid": uid, "number": number, "phone": phone, "organisation": organisation,
                        "typed": [f"联系人{n}号", f"观山湖区{n}号路", f"9152010{n}MA6DKJ2X4U", f"SN-{n}-4471",
                                  f"交给{n}号联系人", f"{n}号李女士"]}
        if picked_up:
            callback = f"1370000{n:04d}"
            rating = kiosk.feedback(2, at=picked_up + timedelta(hours=1), ticket=uid, number=number, phone=callback,
                                    comment=f"请找{n}号张先生", reason_text=f"{n}号等太久", hearts=("warm",))
            given = rating["payload"]
            called = event("followup.called", picked_up + timedelta(hours=2), {  # a call-back, what was said
                "call": str(uuid.uuid4()), "followup": given["followup"]["uid"], "feedback": given["feedback"],
                "device": desk.uid, "at": (picked_up + timedelta(hours=2)).isoformat(), "reached": True,
                "note": f"{n}号赵先生说下次再来", "clerk": {"username": "wang", "name": "王芳"}})
            pushes += [(kiosk, [rating]), (desk, [called, desk.closed(rating, at=picked_up + timedelta(hours=3),
                                                                     note=f"已回电{n}号张先生")])]
            people[name]["typed"] += [callback, f"请找{n}号张先生", f"{n}号等太久", f"已回电{n}号张先生",
                                      f"{n}号赵先生"]
    # One push of the registrations: their names are published in one change, which keeps the recent one.
    assert push(client, kiosk, *registrations).status_code == 200
    for device, events in pushes:
        assert push(client, device, *events).status_code == 200
    anonymous = kiosk.feedback(1, at=CUTOFF - 7 * DAY, phone="13655559999", comment="匿名的抱怨")
    assert push(client, kiosk, anonymous).status_code == 200
    people["anonymous"] = {"typed": ["13655559999", "匿名的抱怨"]}
    return {"kiosk": kiosk, "desk": desk, "people": people}


def database_text(storage) -> dict[str, list[str]]:
    """Every row of every table, as text (JSON columns included), by table."""
    with storage.read() as tx:
        if storage.postgres:
            tables = [row[0] for row in tx.all("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = current_schema()")]
            return {t: sorted(row[0] for row in tx.all(f"SELECT x::text FROM {t} x")) for t in tables}
        tables = [row[0] for row in tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(json.dumps(row, ensure_ascii=False) for row in tx.all(f"SELECT * FROM {t}")) for t in tables}


def found(storage, needle: str) -> list[str]:
    return [table for table, rows in database_text(storage).items() if any(needle in row for row in rows)]


def figures(storage) -> dict:
    """What the office counts: tickets by status, satisfaction, follow-ups, amounts."""
    with storage.read() as tx:
        payloads = [json.loads(row[0]) for row in tx.all(
            f"SELECT {storage.json_text('payload')} FROM event ORDER BY id")]
    follow = followups(storage, today=TODAY)
    return {"counts": office.summary(storage)["tickets"]["counts"],
            "satisfaction": satisfaction.report(storage, today=TODAY).figures(),
            "followups": (len(follow["open"]), len(follow["closed"]), follow["overdue"]),
            "amounts": [(p["ticket"]["total_fen"], [(ln["code"], ln["quantity"], ln["amount_fen"], ln["service"],
                                                      ln["use"]) for ln in p["lines"]])
                        for p in payloads if "customer" in p],
            "received": [p.get("total_fen") for p in payloads if "estimate" in p],
            "ratings": [(p["rating"], p["level"], p["hearts"], p.get("reason"), p.get("number"))
                        for p in payloads if "rating" in p]}


def test_the_tickets_due_lose_their_personal_data_everywhere_the_figures_stay(client, storage, institute):
    people = institute["people"]
    before = figures(storage)
    for name in ("old", "abandoned", "recent"):
        assert found(storage, people[name]["phone"]) and found(storage, people[name]["organisation"])

    done = retention.run(storage, NOW, 3)

    assert (done.tickets, done.ratings, done.closes, done.names) == (2, 2, 1, 2)
    assert done.cutoff == CUTOFF
    assert figures(storage) == before
    for name in ("old", "abandoned", "anonymous"):  # nowhere in any table, JSON or not
        for needle in [people[name].get("phone"), people[name].get("organisation"), *people[name]["typed"]]:
            if needle:
                assert found(storage, needle) == [], (name, needle)
    recent = people["recent"]
    for needle in [recent["phone"], *recent["typed"]]:
        assert found(storage, needle), needle  # a day short of the period: kept
    assert "organisation_name" in found(storage, recent["organisation"])
    # The pages can say it: the ticket is there, its customer the marker; numbers and clerks stay.
    listed = {t["uid"]: t for t in office.summary(storage)["tickets"]["recent"]["picked_up"]}[people["old"]["uid"]]
    assert (listed["organisation"], listed["phone"], listed["number"], listed["total_fen"], listed["taken_in_fen"]) \
        == (ERASED, "", people["old"]["number"], 12000, 12000)
    assert [(f.status, f.number) for f in tickets.history(storage, people["old"]["uid"])] == [
        ("registered", people["old"]["number"]), ("received", people["old"]["number"]),
        ("ready", people["old"]["number"]), ("picked_up", people["old"]["number"])]
    assert "王芳" in json.dumps(satisfaction.report(storage, today=TODAY).figures()["clerks"], ensure_ascii=False)


def test_nothing_is_left_in_the_sqlite_file_either(client, storage, institute, database_url):
    if storage.postgres:
        pytest.skip("PostgreSQL's files are its own: dead row versions go with (auto)vacuum")
    retention.run(storage, NOW, 3)
    path = storage.path  # read while central's connections are open: no checkpoint on closing helps
    raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    for name in ("old", "abandoned"):
        for needle in (institute["people"][name]["phone"], institute["people"][name]["organisation"]):
            assert needle.encode() not in raw, needle
    assert institute["people"]["recent"]["phone"].encode() in raw


def test_twice_erases_nothing_more_and_each_run_is_recorded(client, storage, institute):
    first = retention.run(storage, NOW, 3, clock=lambda: RAN)
    text = database_text(storage)
    again = retention.run(storage, NOW + timedelta(hours=1), 3, clock=lambda: RAN + timedelta(hours=1))
    assert (again.tickets, again.ratings, again.closes, again.names, again.events) == (0, 0, 0, 0, 0)
    after = database_text(storage)
    records = ("central_meta", "office_audit", "sqlite_sequence")  # the runs' records
    assert {t: rows for t, rows in after.items() if t not in records} == {
        t: rows for t, rows in text.items() if t not in records}
    recorded = retention.runs(storage)
    assert [(r["at"], r["cutoff"], r["years"], r["tickets"], r["ratings"], r["closes"], r["dry_run"])
            for r in recorded] == [
        ("2029-11-20T03:00:00.000000+00:00", "2026-11-20T03:00:00.000000+00:00", 3, 0, 0, 0, False),
        ("2029-11-20T02:00:00.000000+00:00", "2026-11-20T02:00:00.000000+00:00", 3, 2, 2, 1, False)]
    assert first.events == recorded[1]["events"] > 0
    # And in the office's audit log, where a director reads who saw personal data.
    logged = [(e.at, e.who, e.action, e.rows, e.query) for e in audit.entries(storage) if e.action == "retention"]
    assert logged[1] == (RAN, "retention", "retention", 2,  # when it ran; as of when it erased, in the query
                         ("as_of=2029-11-20T02:00:00.000000+00:00&cutoff=2026-11-20T02:00:00.000000+00:00"
                          "&years=3&ratings=2&followups=1&names=2&searches=0"))
    assert logged[0][3] == 0
    # Two days on, the recent ticket is due too; it is the only one.
    later = retention.run(storage, NOW + 2 * DAY, 3)
    assert (later.tickets, later.ratings, later.closes, later.names) == (1, 1, 1, 1)
    assert found(storage, institute["people"]["recent"]["phone"]) == []


def test_a_dry_run_counts_and_changes_nothing(client, storage, institute):
    text = database_text(storage)
    done = retention.run(storage, NOW, 3, dry_run=True)
    assert (done.tickets, done.ratings, done.closes, done.dry_run) == (2, 2, 1, True)
    assert database_text(storage) == text
    assert retention.runs(storage) == []


def test_devices_get_the_erased_ticket_and_cannot_bring_it_back(client, storage, institute):
    old = institute["people"]["old"]
    registration = None
    retention.run(storage, NOW, 3)
    late_desk = enrol(client, storage, "clerk")  # enrolled after: pulls everything from the start
    changes, _ = pull_all(client, late_desk)
    registrations = {c["data"]["ticket"]["uid"]: c["data"] for c in changes if c["kind"] == "ticket.registered"}
    assert registrations[old["uid"]]["customer"]["organisation"] == ERASED
    names = [n for c in changes if c["kind"] == "organisation.known" for n in c["data"]["names"]]
    assert old["organisation"] not in names and institute["people"]["recent"]["organisation"] in names
    assert all(old["phone"] not in json.dumps(c, ensure_ascii=False) for c in changes)
    # The kiosk's outbox sends the registration again (a lost answer): acknowledged, still erased.
    kiosk = institute["kiosk"]
    with storage.read() as tx:
        uid, payload = tx.one(f"SELECT uid, {storage.json_text('payload')} FROM event "
                              "WHERE kind = 'ticket.registered' AND ticket = ?", (old["uid"],))
    registration = {"uid": uid, "kind": "ticket.registered", "created_at": json.loads(payload)["ticket"]["created_at"],
                    "payload": json.loads(payload) | {"customer": {"organisation": old["organisation"],
                                                                   "phone": old["phone"]}}}
    assert push(client, kiosk, registration).status_code == 200
    assert found(storage, old["phone"]) == []
    # A desk offline for years pushes a step of it now: the next run erases that too.
    desk = institute["desk"]
    lines = [{"code": "L-001-001", "quantity": 1, "service": "verification", "use": "safety",
              "serial_number": "SN-LATE-1"}]
    assert push(client, desk, desk.step("received", old["uid"], old["number"], at=CUTOFF - 30 * DAY,
                                        lines=lines)).status_code == 200
    assert retention.run(storage, NOW + DAY, 3).events == 1
    assert found(storage, "SN-LATE-1") == []


def test_the_command(client, storage, institute, database_url, tmp_path, capsys, monkeypatch):
    config = tmp_path / "en.toml"
    config.write_text('[kiosk]\nlanguage = "en"\n', "utf-8")

    def central(*args: str):
        status = main(["--config", str(config), "central", "retention", "--database-url", database_url, *args])
        out = capsys.readouterr()
        return status, out.out, out.err

    status, out, err = central("--dry-run", "--now", "2029-11-20T10:00")  # on the institute's clock: 02:00 UTC
    assert status == 0, err
    assert "would erase the personal data of 2 ticket(s) (before 2026-11-20 10:00; kept 3 years)" in out
    status, out, _ = central("--runs")
    assert status == 0 and out == ""
    status, out, _ = central("--now", "2029-11-20T10:00", "--json")
    assert status == 0 and json.loads(out)["tickets"] == 2
    status, out, _ = central("--runs")
    assert status == 0 and out.startswith("2029-11-20 10:00  before 2026-11-20 10:00: tickets 2, ratings 2, ")
    status, _, err = central("--years", "0")
    assert status == 1 and "at least 1 year (not 0)" in err
    monkeypatch.setenv("CENTRAL_RETENTION_YEARS", "three")
    status, _, err = central()
    assert status == 1 and "at least 1 year (not three)" in err


def test_the_audit_log_forgets_what_was_searched_before_the_cutoff(storage):
    """Who looked, when, where and how many rows stay for ever; the phone searched, the address
    and a name typed at a failed sign-in go with the period, as the tickets' own data does."""
    class Director:
        id, name, role = 7, "zhang", "director"

    def row(at, action="view", query="q=13812345678", who=None, address="203.0.113.9"):
        audit.record(storage, None if who else Director(), action, "/office/tickets", query, 1, who=who,
                     address=address, at=at)

    row(NOW - timedelta(days=3 * 366))
    row(NOW - timedelta(days=3 * 366), "sign_in_failed", "", who="hunter2", address="198.51.100.4")
    row(NOW - timedelta(days=3 * 365 - 1))  # inside the period: kept as it is
    done = retention.run(storage, NOW, 3, dry_run=True, clock=lambda: RAN)
    assert done.searches == 2 and {e.query for e in audit.entries(storage)} == {"q=13812345678", ""}
    assert retention.run(storage, NOW, 3, clock=lambda: RAN).searches == 2
    kept = [(e.who, e.action, e.route, e.rows, e.query, e.address) for e in reversed(audit.entries(storage))]
    assert kept[:3] == [("zhang", "view", "/office/tickets", 1, "", None),
                        ("", "sign_in_failed", "/office/tickets", 1, "", None),
                        ("zhang", "view", "/office/tickets", 1, "q=13812345678", "203.0.113.9")]
    assert kept[3][1] == "retention" and "&searches=2" in kept[3][4]
    assert retention.run(storage, NOW + timedelta(days=1), 3, clock=lambda: RAN).searches == 0  # once
