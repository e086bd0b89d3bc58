"""Quarantine: a stolen desk and a stolen kiosk revoked with `--void-since`; what they said from
then on is void everywhere central derives anything, kept for audit, taken back from the devices
(central/voiding.py). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

from central import tickets
from central.catalog import import_catalog
from central.due import due_report
from central.followups import followups
from central.office import summary as office_summary
from central.satisfaction import ratings
from central.worklist import work_list
from kiosk.cli import main
from kiosk.domain.clock import utc_now
from kiosk.store.catalog import demo_csv

from .nodes import T0, enrol, pull_all, push
from .test_due_office import line
from .test_feedback_office import of_kind, office


def kiosk_central(tmp_path, capsys, storage, *argv: str, lang: str = "zh") -> tuple[int, str, str]:
    """`kiosk central ARGV` on the test's database: (status, stdout, stderr)."""
    config = tmp_path / f"{lang}.toml"
    config.write_text(f'[kiosk]\nlanguage = "{lang}"\n', "utf-8")
    command, *rest = argv
    status = main(["--config", str(config), "central", command, "--database-url", storage.url, *rest])
    out = capsys.readouterr()
    return status, out.out, out.err


def ok(got) -> None:
    assert got.status_code == 200, got.text


def section(page: str, title: str) -> str:
    """A part of the office's page: from a heading to the end of its table."""
    return page.split(title)[1].split("</table>")[0]


def test_a_stolen_desks_pickup_and_a_stolen_kiosks_rating_are_voided_kept_and_undone(client, storage, tmp_path,
                                                                                      capsys):
    import_catalog(storage, demo_csv(), "demo.csv")
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号窗口")
    thief_desk = enrol(client, storage, "clerk", name="2号窗口")
    thief_kiosk = enrol(client, storage, name="大厅2号机")
    reg, served = kiosk.registered(), kiosk.registered()
    t, s = reg["payload"]["ticket"], served["payload"]["ticket"]
    ok(push(client, kiosk, reg, served))
    steps = [desk.step("received", t["uid"], t["number"], lines=[line("L-001-001", "A1")]),
             *(desk.step(kind, s["uid"], s["number"], at=T0 + timedelta(hours=h))
               for h, kind in ((1, "received"), (2, "ready"), (3, "picked_up")))]
    ok(push(client, desk, *steps))
    poor = kiosk.feedback(1, ticket=s["uid"], number=s["number"], phone="13900001111")
    ok(push(client, kiosk, poor))
    since = utc_now()  # the two devices are stolen; everything above was honest

    # Backdated: each says it happened on 2026-11-24, before `since`; central received it after.
    forged = [thief_desk.step("ready", t["uid"], t["number"], at=T0 + timedelta(hours=2)),
              thief_desk.step("picked_up", t["uid"], t["number"], at=T0 + timedelta(hours=3)),
              thief_desk.closed(poor, note="已回电")]
    ok(push(client, thief_desk, *forged))
    fake = thief_kiosk.registered(organisation="冒名计量有限公司")
    forged += [thief_kiosk.feedback(5, ticket=t["uid"], number=t["number"], hearts=("warm",)), fake]
    ok(push(client, thief_kiosk, *forged[3:]))
    honest = kiosk.feedback(3, ticket=t["uid"], number=t["number"])  # the customer's own, later
    ok(push(client, kiosk, honest))

    headers = office(storage)
    assert tickets.current(storage, t["uid"]).status == "picked_up"
    assert f">{t['number']}</" in section(client.get("/office", headers=headers).text, "已取件 · picked up</h3>")
    assert [r.rating for r in ratings(storage) if r.number == t["number"]] == [5]  # the first to arrive counts
    assert followups(storage)["open"] == []
    assert [i.number for i in due_report(storage, 3660, today=date(2026, 12, 6)).items] == [t["number"]]
    assert office_summary(storage)["tickets"]["counts"]["registered"] == 1  # the fake ticket

    for device in (thief_desk, thief_kiosk):
        status, out, _ = kiosk_central(tmp_path, capsys, storage, "revoke-device", device.uid,
                                       "--void-since", since.isoformat(), "--reason", "被盗")
        assert status == 0 and f"已停用设备 {device.uid}" in out and "个事件（作废记录" in out

    # What the office derives is as if they had said nothing.
    assert tickets.current(storage, t["uid"]).status == "received"
    assert [f.device for f in tickets.history(storage, t["uid"])] == [kiosk.uid, desk.uid]
    page = client.get("/office", headers=headers).text
    assert f">{t['number']}</" in section(page, "已收件 · received</h3>")
    picked_up = section(page, "已取件 · picked up</h3>")  # the honest pickup of `served`, alone
    assert s["number"] in picked_up and t["number"] not in picked_up
    voided = section(page, "<h2>已作废 · Voided</h2>")
    assert "大厅2号机" in voided and "2号窗口" in voided and fake["payload"]["ticket"]["number"] in voided
    fake_number = fake["payload"]["ticket"]["number"]
    linked = f"<a href='/office/tickets/{fake_number}'>{fake_number}</a>"  # its page, the voided steps marked
    assert linked in voided and client.get(f"/office/tickets/{fake_number}", headers=headers).status_code == 200
    unlinked = section(client.get("/office", headers=office(storage, "auditor")).text, "<h2>已作废 · Voided</h2>")
    assert f">{fake_number}</td>" in unlinked and "/office/tickets/" not in unlinked  # an auditor: no ticket's page
    summary = client.get("/api/v1/office/summary", headers=headers).json()
    assert summary["tickets"]["counts"] == {"registered": 0, "received": 1, "ready": 0, "picked_up": 1}
    assert [(v["device"], v["events"], v["reason"]) for v in summary["voidings"]] == [
        ("大厅2号机", 2, "被盗"), ("2号窗口", 3, "被盗")]
    assert [r.rating for r in ratings(storage) if r.number == t["number"]] == [3]
    assert [f["uid"] for f in followups(storage)["open"]] == [poor["payload"]["followup"]["uid"]]
    assert due_report(storage, 3660, today=date(2026, 12, 6)).items == []
    assert [(i.number, i.status) for i in work_list(storage).items] == [(t["number"], "received")]

    # Kept for audit: every forged event is still there, marked with its voiding.
    with storage.read() as tx:
        rows = tx.all("SELECT e.uid, v.reason, v.events FROM event e JOIN voiding v ON v.id = e.void_id")
        assert tx.one("SELECT COUNT(*) FROM event WHERE void_id IS NULL")[0] == 8
    assert sorted(uid for uid, *_ in rows) == sorted(e["uid"] for e in forged)
    assert {(reason, count) for _, reason, count in rows} == {("被盗", 3), ("被盗", 2)}
    status, out, _ = kiosk_central(tmp_path, capsys, storage, "voidings")
    assert status == 0 and all(e["uid"] in out for e in forged) and "ticket.picked_up" in out
    listed = json.loads(kiosk_central(tmp_path, capsys, storage, "voidings", "--json")[1])
    assert [(v["device_uid"], len(v["events"])) for v in listed] == [(thief_kiosk.uid, 2), (thief_desk.uid, 3)]

    # The devices are told, each what concerns it; a desk enrolled now never sees the forged events.
    changes, _ = pull_all(client, desk)
    told = of_kind(changes, "event.voided")
    assert sorted(e["uid"] for c in told for e in c["events"]) == sorted(e["uid"] for e in forged)
    step = next(e for c in told for e in c["events"] if e["kind"] == "ticket.picked_up")
    assert (step["ticket"], step["ref"]) == (t["uid"], forged[1]["payload"]["event"])
    (mine,) = of_kind(pull_all(client, kiosk)[0], "event.voided")  # the kiosk that owns the ticket: its steps
    assert (sorted(e["uid"] for e in mine["events"]), mine["device_uid"]) == (
        sorted(e["uid"] for e in forged[:2]), thief_desk.uid)
    late = enrol(client, storage, "clerk")
    changes, _ = pull_all(client, late)
    assert [c["event"] for c in of_kind(changes, "ticket.event")] == [e["payload"]["event"] for e in steps]
    assert [c["feedback"] for c in of_kind(changes, "feedback.given")] == [poor["payload"]["feedback"],
                                                                           honest["payload"]["feedback"]]
    assert [c["ticket"]["uid"] for c in of_kind(changes, "ticket.registered")] == [t["uid"], s["uid"]]
    assert of_kind(changes, "followup.closed") == [] and len(of_kind(changes, "event.voided")) == 2


def test_a_voided_registration_frees_nothing(client, storage):
    from central.devices import revoke
    from central.voiding import void

    kiosk = enrol(client, storage)
    fake = kiosk.registered()
    ok(push(client, kiosk, fake))
    revoke(storage, kiosk.uid)
    assert len(void(storage, kiosk.uid, utc_now() - timedelta(minutes=5)).events) == 1
    with storage.read() as tx:  # the ticket's uid and number stay its device's: nobody else may take them
        assert tx.all("SELECT uid, number FROM ticket") == [(fake["payload"]["ticket"]["uid"],
                                                             fake["payload"]["ticket"]["number"])]
    assert tickets.current(storage, fake["payload"]["ticket"]["uid"]) is None
    other = enrol(client, storage)
    again = other.registered(ticket=fake["payload"]["ticket"]["uid"])
    got = push(client, other, again)
    assert got.status_code == 422 and got.json()["rejected"][0]["error"].startswith("ticket_taken")


def test_revoke_with_void_since_refuses_what_it_cannot_do_and_voids_once(client, storage, tmp_path, capsys):
    thief = enrol(client, storage, "clerk")
    status, _, err = kiosk_central(tmp_path, capsys, storage, "revoke-device", thief.uid, "--void-since", "昨天")
    assert status == 1 and "时间格式有误：昨天" in err
    assert client.get("/api/v1/changes", headers=thief.headers).status_code == 200  # nothing was revoked
    status, _, err = kiosk_central(tmp_path, capsys, storage, "revoke-device", "0193bbbb-0000-7000-8000-00000000000f",
                                   "--void-since", "2026-11-24")
    assert status == 1 and "没有这个设备" in err
    status, out, _ = kiosk_central(tmp_path, capsys, storage, "revoke-device", thief.uid, "--void-since",
                                   "2026-11-24T09:30", lang="en")
    assert status == 0 and f"Nothing device {thief.uid} sent from 2026-11-24 09:30:00 on is still in force" in out
    assert client.get("/api/v1/changes", headers=thief.headers).status_code == 401
    # Revoked before: voiding later is what --void-since is for; the reason is checked like any text.
    status, _, err = kiosk_central(tmp_path, capsys, storage, "revoke-device", thief.uid, "--void-since",
                                   "2026-11-24", "--reason", "x" * 201, lang="en")
    assert status == 1 and "at most 200 characters" in err
    status, _, err = kiosk_central(tmp_path, capsys, storage, "voidings", lang="en")
    assert (status, err) == (0, "Nothing voided yet\n")


def test_a_voided_ratings_follow_up_is_gone_and_cannot_be_closed(client, storage):
    from central.devices import revoke
    from central.voiding import void

    thief, desk = enrol(client, storage), enrol(client, storage, "clerk")
    poor = thief.feedback(1, phone="13900001111", comment="冒名差评")
    ok(push(client, thief, poor))
    assert [f["uid"] for f in followups(storage)["open"]] == [poor["payload"]["followup"]["uid"]]
    revoke(storage, thief.uid)
    void(storage, thief.uid, utc_now() - timedelta(minutes=5), "被盗")
    assert followups(storage)["open"] == [] and ratings(storage) == []
    got = push(client, desk, desk.closed(poor))
    assert got.status_code == 422 and got.json()["rejected"][0]["error"].startswith("no_followup")
    got = client.post(f"/api/v1/office/followups/{poor['payload']['followup']['uid']}/close",
                      json={"note": "已回电"}, headers=office(storage))
    assert got.status_code == 404 and got.json()["error"] == "no_followup"


def test_void_since_reads_a_time_without_an_offset_on_the_institutes_clock():
    from central.voiding import parse_since
    from kiosk.domain.clock import set_zone, zone

    was = zone().key
    set_zone("Asia/Shanghai")  # central's default ($INSTITUTE_TIME_ZONE)
    try:
        _reads_times_on_the_institutes_clock(parse_since)
    finally:
        set_zone(was)


def _reads_times_on_the_institutes_clock(parse_since):
    from datetime import UTC, datetime

    assert parse_since("2026-11-24") == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert parse_since("2026-11-24T09:30") == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert parse_since(" 2026-11-24 09:30+00:00 ") == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    for bad in ("昨天", "2026-13-01", "24/11/2026"):
        try:
            parse_since(bad)
            raise AssertionError(bad)
        except ValueError as e:
            assert "2026-11-24T09:30" in str(e)
