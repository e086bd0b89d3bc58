"""Notices (central/notices/): queued with the event that causes them, once per (event, kind, channel), sent
through a real SMTP server (aiosmtpd) and a local stand-in for an SMS gateway, each failing on request, on
SQLite and PostgreSQL. Every notice reaches the customer once."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta

import pytest

from central.catalog import import_catalog
from central.institute import from_file
from central.notices import config, outbox, sender
from central.notices.channels import channels as configured_channels
from kiosk.domain.clock import local, utc_now
from kiosk.domain.workdays import add_months
from kiosk.store.catalog import demo_csv

from .nodes import enrol, push
from .notice_peers import Gateway, Mailbox, notices_toml
from .office_users import office

INSTITUTE = from_file().name  # the demo institute's, as central reads it by default


class Site:
    """A kiosk that registers (with the customer's notify choice) and a desk that serves, dated from the real
    clock (central stores the push at its own clock)."""

    def __init__(self, client, storage):
        self.client, self.storage = client, storage
        self.kiosk = enrol(client, storage, name="大厅1号机")
        self.desk = enrol(client, storage, "clerk", name="1号窗口")
        self.start = utc_now() - timedelta(hours=3)

    def register(self, notify: dict | None = None, phone: str = "13812345678") -> tuple[str, str]:
        reg = self.kiosk.registered(at=self.start, phone=phone)
        if notify is not None:
            reg["payload"]["notify"] = notify
        assert push(self.client, self.kiosk, reg).status_code == 200
        t = reg["payload"]["ticket"]
        return t["uid"], t["number"]

    def step(self, kind: str, ticket: tuple[str, str], hours: float, **extra) -> dict:
        return self.desk.step(kind, *ticket, at=self.start + timedelta(hours=hours), **extra)

    def send(self, *events: dict) -> None:
        got = push(self.client, self.desk, *events)
        assert got.status_code == 200, got.text


def notices(storage, **where) -> list[dict]:
    with storage.read() as tx:
        rows = [dict(zip(("id", "event_uid", "kind", "channel", "state", "tries", "due_at", "last_error", "facts",
                          "sent_to", "lang"), r))
                for r in tx.all("SELECT id, event_uid, kind, channel, state, tries, due_at, last_error, facts, "
                                "sent_to, lang FROM notice ORDER BY id")]
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def setup_config(tmp_path, monkeypatch, gateway=None, mailbox=None, **schedule) -> config.NoticeConfig:
    path = tmp_path / "notices.toml"
    path.write_text(notices_toml(gateway, mailbox, **schedule), "utf-8")
    monkeypatch.setenv("CENTRAL_NOTICES_FILE", str(path))
    monkeypatch.setenv("CENTRAL_SMS_SECRET", "s3cret")
    return config.load()


def send(storage, cfg, at: datetime, **kw) -> sender.Pass:
    return sender.send_due(storage, cfg, INSTITUTE, configured_channels(cfg), clock=lambda: at, **kw)


ZH_SMS_MAIL = {"language": "zh", "sms": True, "email": "li.gong@example.cn"}


# ---- queued once, with the event -----------------------------------------------------------------------


def test_a_ready_ticket_is_told_once_by_sms_and_email(client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway, Mailbox() as mailbox:
        cfg = setup_config(tmp_path, monkeypatch, gateway, mailbox)
        site = Site(client, storage)
        ticket = site.register(ZH_SMS_MAIL)
        ready = site.step("ready", ticket, 2)
        site.send(site.step("received", ticket, 1), ready)
        site.send(ready)  # the same push again: acked, nothing more queued
        other = enrol(client, storage, "clerk", name="2号窗口")
        again = other.step("ready", *ticket, at=site.start + timedelta(hours=2.5))  # another desk, later
        assert push(client, other, again).status_code == 200
        queued = notices(storage)
        assert sorted((n["kind"], n["channel"]) for n in queued) == [
            ("pickup_ending", "email"), ("pickup_ending", "sms"), ("ready", "email"), ("ready", "sms")]
        assert {n["event_uid"] for n in queued} == {ready["uid"]}  # the earliest ready step causes them
        assert "13812345678" not in json.dumps(queued, default=str)  # no personal data copied into the outbox

        done = send(storage, cfg, utc_now())
        assert (done.sent, done.retried, done.parked) == (2, 0, 0)
        assert send(storage, cfg, utc_now() + timedelta(minutes=5)).sent == 0  # nothing twice
        [sms] = gateway.delivered
        body = sms["body"]
        deadline = local(site.start + timedelta(hours=2)).date() + timedelta(days=30)
        assert body["PhoneNumbers"] == "13812345678" and body["SignName"] == "示范计量院"
        assert body["TemplateCode"] == "SMS_1001"
        params = json.loads(body["TemplateParam"])
        assert params["institute"] == INSTITUTE.zh and params["number"] == ticket[1]
        assert params["deadline"] == f"{deadline.year}年{deadline.month}月{deadline.day}日"
        assert sms["headers"]["Idempotency-Key"] == body["OutId"] == outbox.key_of(ready["uid"], "ready", "sms")
        assert len(sms["headers"]["X-Signature"]) == 64
        [mail] = mailbox.mails
        assert mail["To"] == "li.gong@example.cn" and ticket[1] in mail["Subject"] and INSTITUTE.zh in mail["Subject"]
        assert "请在" in mail.get_content()
        assert mail["Message-ID"] == f"<{outbox.key_of(ready['uid'], 'ready', 'email')}@notices.central>"
        sent = notices(storage, kind="ready")
        assert {n["state"] for n in sent} == {"sent"}
        assert {n["sent_to"] for n in sent} == {"138****5678", "l***@example.cn"}


def test_no_choice_no_notice_and_a_landline_gets_no_sms(client, storage):
    site = Site(client, storage)
    plain = site.register()
    landline = site.register({"language": "zh", "sms": True}, phone="0851-86801234")
    site.send(*(site.step(kind, t, h) for t in (plain, landline) for kind, h in (("received", 1), ("ready", 2))))
    assert notices(storage) == []


def test_a_registration_arriving_after_the_ready_step_queues_them_then(client, storage):
    site = Site(client, storage)
    reg = site.kiosk.registered(at=site.start)
    reg["payload"]["notify"] = {"language": "en", "sms": True}
    t = reg["payload"]["ticket"]
    ticket = (t["uid"], t["number"])
    site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))  # the kiosk was offline
    assert notices(storage) == []
    assert push(client, site.kiosk, reg).status_code == 200
    assert sorted((n["kind"], n["lang"]) for n in notices(storage)) == [("pickup_ending", "en"), ("ready", "en")]


def test_a_ticket_picked_up_meanwhile_is_not_told_it_is_ready(client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        site.send(site.step("picked_up", ticket, 2.5))  # before the sender came round
        done = send(storage, cfg, utc_now())
        assert (done.sent, done.dropped) == (0, 1) and gateway.requests == []
        assert notices(storage, kind="ready")[0]["last_error"] == "picked up"


# ---- faults: every notice once, from the customer's point of view -----------------------------------------


@pytest.mark.parametrize("fault", ["timeout", "500", "error_body", "reset", "sent_then_500"])
def test_a_failing_gateway_is_retried_with_backoff_and_the_customer_gets_one_sms(
        client, storage, tmp_path, monkeypatch, fault):
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        gateway.faults.extend([fault, fault])
        now = utc_now()
        first = send(storage, cfg, now)
        assert (first.sent, first.retried) == (0, 1), first
        [row] = notices(storage, kind="ready")
        assert row["state"] == "queued" and row["tries"] == 1 and row["last_error"].startswith("sms ")
        assert "138" not in row["last_error"]
        assert send(storage, cfg, now + timedelta(seconds=30)).retried == 0  # not before its backoff (60 s)
        second = send(storage, cfg, now + timedelta(seconds=61))
        if fault == "sent_then_500":  # the gateway had sent it: the retry is a duplicate it does not send again
            assert second.sent == 1
            [row] = notices(storage, kind="ready")
            assert (row["state"], row["tries"], row["last_error"]) == ("sent", 2, "duplicate")
        else:
            assert second.retried == 1
            assert send(storage, cfg, now + timedelta(seconds=61 + 119)).retried == 0  # then 120 s
            assert send(storage, cfg, now + timedelta(seconds=61 + 121)).sent == 1
            [row] = notices(storage, kind="ready")
            assert row["state"] == "sent" and row["tries"] == 3
        assert len(gateway.delivered) == 1  # the customer's phone got it once
        assert len({r["headers"]["Idempotency-Key"] for r in gateway.requests}) == 1  # one key for every try


def test_after_max_tries_it_is_parked_with_its_reason_and_a_permanent_error_parks_at_once(
        client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway, max_tries=3)
        site = Site(client, storage)
        a = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", a, 1), site.step("ready", a, 2))
        gateway.faults.extend(["500"] * 3)
        now = utc_now()
        for seconds in (0, 61, 61 + 121):
            send(storage, cfg, now + timedelta(seconds=seconds))
        [row] = notices(storage, kind="ready")
        assert (row["state"], row["tries"], row["last_error"]) == ("parked", 3, "sms http 500")
        assert sender.retry_parked(storage, row["id"], now + timedelta(hours=1))
        assert send(storage, cfg, now + timedelta(hours=1)).sent == 1

        b = site.register({"language": "zh", "sms": True}, phone="13912345678")
        site.send(site.step("received", b, 1), site.step("ready", b, 2))
        gateway.faults.append("bad_number")
        assert send(storage, cfg, now + timedelta(hours=2)).parked == 1
        parked = [n for n in notices(storage, kind="ready") if n["state"] == "parked"]
        assert [n["last_error"] for n in parked] == ["sms gateway isv.MOBILE_NUMBER_ILLEGAL"]


def test_a_sender_killed_between_send_and_mark_sends_again_and_the_key_makes_it_once(
        client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway, Mailbox() as mailbox:
        cfg = setup_config(tmp_path, monkeypatch, gateway, mailbox)
        site = Site(client, storage)
        ticket = site.register(ZH_SMS_MAIL)
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))

        class Killed(BaseException):
            pass

        def kill(claimed, outcome):
            raise Killed  # the process dies after the channel accepted, before the mark commits

        now = utc_now()
        for _ in range(2):
            with pytest.raises(Killed):
                send(storage, cfg, now, before_mark=kill, batch=1)  # the SMS, then the mail
        rows = notices(storage, kind="ready")
        assert {r["state"] for r in rows} == {"sending"}
        assert send(storage, cfg, now + timedelta(seconds=60)).sent == 0  # its lease (120 s) still holds
        done = send(storage, cfg, now + timedelta(seconds=121))  # a sender after the lease: claims them again
        assert done.sent == 2
        assert len(gateway.requests) == 2 and len(gateway.delivered) == 1  # the gateway kept the key
        assert {r["state"] for r in notices(storage, kind="ready")} == {"sent"}
        # SMTP has no key: the window's one duplicate is a second mail with the same Message-ID.
        assert len(mailbox.mails) == 2 and len({m["Message-ID"] for m in mailbox.mails}) == 1


def test_smtp_faults(client, storage, tmp_path, monkeypatch):
    with Mailbox() as mailbox:
        cfg = setup_config(tmp_path, monkeypatch, None, mailbox)
        site = Site(client, storage)
        ticket = site.register({"language": "en", "sms": False, "email": "li.gong@example.cn"})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        mailbox.faults.extend(["451"])
        now = utc_now()
        assert send(storage, cfg, now).retried == 1
        assert notices(storage, kind="ready")[0]["last_error"] == "smtp recipient refused [451]"
        assert send(storage, cfg, now + timedelta(seconds=61)).sent == 1
        [mail] = mailbox.mails
        assert mail["Subject"].strip() == f"{INSTITUTE.en}: ticket {ticket[1]} is ready"

        other = site.register({"language": "zh", "email": "nobody@example.cn"})
        site.send(site.step("received", other, 1), site.step("ready", other, 2))
        mailbox.faults.extend(["550"])
        assert send(storage, cfg, now + timedelta(seconds=120)).parked == 1


def test_two_senders_at_once_never_send_the_same_notice(client, storage, tmp_path, monkeypatch):
    with Gateway(keeps_keys=False) as gateway:  # no help from the gateway: the claim alone must hold
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        for i in range(12):
            ticket = site.register({"language": "zh", "sms": True}, phone=f"1391234{i:04d}")
            site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        now = utc_now()
        errors = []

        def one():
            try:
                sender.send_due(storage, cfg, INSTITUTE, configured_channels(cfg), clock=lambda: now)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        keys = [r["headers"]["Idempotency-Key"] for r in gateway.requests]
        assert len(keys) == 12 and len(set(keys)) == 12
        assert {n["state"] for n in notices(storage, kind="ready")} == {"sent"}


# ---- the scheduled ones --------------------------------------------------------------------------------


def test_the_pickup_period_ending_goes_before_the_deadline_unless_picked_up(client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        waiting, collected = site.register({"language": "zh", "sms": True}), site.register(
            {"language": "zh", "sms": True}, phone="13912345678")
        site.send(*(site.step(k, t, h) for t in (waiting, collected) for k, h in (("received", 1), ("ready", 2))))
        send(storage, cfg, utc_now())
        site.send(site.step("picked_up", collected, 3))
        deadline = local(site.start + timedelta(hours=2)).date() + timedelta(days=30)
        when = datetime.combine(deadline - timedelta(days=5), datetime.min.time().replace(hour=9),
                                local(utc_now()).tzinfo)
        assert send(storage, cfg, when - timedelta(minutes=1)).sent == 0
        done = send(storage, cfg, when)
        assert (done.sent, done.dropped) == (1, 1)
        last = gateway.delivered[-1]["body"]
        assert last["TemplateCode"] == "SMS_1003" and last["PhoneNumbers"] == "13812345678"


def test_verification_due_and_overdue_for_compulsory_instruments(client, storage, tmp_path, monkeypatch):
    import_catalog(storage, demo_csv(), "demo.csv")
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway, due_advance_days=30)
        site = Site(client, storage)
        ticket = site.register({"language": "en", "sms": True})
        lines = [{"ticket_line_id": 1, "code": "L-001-001", "quantity": 3, "service": "verification", "use": "safety",
                  "condition": "", "accessories": "", "serial_number": "A1", "refused": False},
                 {"ticket_line_id": 2, "code": "L-001-002", "quantity": 1, "service": "verification", "use": "other",
                  "condition": "", "accessories": "", "serial_number": "B1", "refused": False}]
        site.send(site.step("received", ticket, 1, lines=lines), site.step("ready", ticket, 2),
                  site.step("picked_up", ticket, 2.5))
        picked = site.start + timedelta(hours=2.5)
        due_on = add_months(local(picked).date(), 6)
        due = notices(storage, kind="due_soon")
        assert len(due) == 1 and json.loads(due[0]["facts"])["count"] == 3  # the line used "other" is not compulsory
        zone = local(utc_now()).tzinfo
        soon = datetime.combine(due_on - timedelta(days=30), datetime.min.time().replace(hour=9), zone)
        over = datetime.combine(due_on + timedelta(days=1), datetime.min.time().replace(hour=9), zone)
        assert send(storage, cfg, soon - timedelta(minutes=1)).sent == 0
        assert send(storage, cfg, soon).sent == 1
        assert send(storage, cfg, over - timedelta(minutes=1)).sent == 0
        assert send(storage, cfg, over).sent == 1
        soon_sms, _ = (json.loads(r["body"]["TemplateParam"]) for r in gateway.delivered)
        assert soon_sms["due_on"] == f"{due_on.day} {due_on.strftime('%b')} {due_on.year}"
        assert soon_sms["count"] == "3" and soon_sms["institute"] == INSTITUTE.en
        assert gateway.delivered[1]["body"]["TemplateCode"] == "SMS_1005"


def test_an_instrument_verified_again_is_not_told_it_is_due(client, storage, tmp_path, monkeypatch):
    import_catalog(storage, demo_csv(), "demo.csv")
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        line = [{"ticket_line_id": 1, "code": "L-001-001", "quantity": 1, "service": "verification", "use": "safety",
                 "condition": "", "accessories": "", "serial_number": "A1", "refused": False}]
        first, second = site.register({"language": "zh", "sms": True}), site.register({"language": "zh", "sms": True})
        site.send(site.step("received", first, 1, lines=line), site.step("picked_up", first, 2))
        site.send(site.step("received", second, 2.2, lines=line), site.step("picked_up", second, 2.5))
        done = send(storage, cfg, utc_now() + timedelta(days=400))
        # The first ticket's instrument was verified again: its notices are dropped; the second's go.
        assert done.dropped >= 2 and done.sent == 1
        assert {n["last_error"] for n in notices(storage) if n["state"] == "dropped"} <= {"no longer due", "past"}


# ---- the back office -------------------------------------------------------------------------------------


def test_the_ticket_page_and_the_notices_list_show_them(client, storage, tmp_path, monkeypatch):
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        send(storage, cfg, utc_now())
        got = client.get(f"/api/v1/office/tickets/{ticket[1]}", headers=office(storage, "clerk")).json()
        shown = {(n["kind"], n["state"]) for n in got["notices"]}
        assert shown == {("ready", "sent"), ("pickup_ending", "queued")}
        assert [n["sent_to"] for n in got["notices"] if n["state"] == "sent"] == ["138****5678"]
        page = client.get(f"/office/tickets/{ticket[1]}", headers=office(storage, "clerk")).text
        section = page[page.index("<h2>通知 · Notices (2)</h2>"):]  # the customer's own section shows the phone
        assert "138****5678" in section and "13812345678" not in section and "已发送 sent" in section
        listing = client.get("/api/v1/office/notices", headers=office(storage, "clerk")).json()
        assert listing["counts"]["sent"] == 1 and listing["counts"]["queued"] == 1
        html = client.get("/office/notices", headers=office(storage, "clerk")).text
        assert ticket[1] in html and "13812345678" not in html
        assert client.get("/office/notices", headers=office(storage, "auditor")).status_code == 403


def test_the_upgrade_to_schema_15_makes_the_outbox(storage):
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM notice")[0] == 0


# ---- the command, and a sender killed for real -----------------------------------------------------------


def test_the_command_lists_and_sends(client, storage, tmp_path, monkeypatch, capsys):
    from central.cli import main

    with Gateway() as gateway:
        setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        assert main(["notices", "--database-url", storage.url, "--send", "--once", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["sent"] == 1
        assert main(["notices", "--database-url", storage.url, "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert listed["counts"]["sent"] == 1 and listed["counts"]["queued"] == 1
        assert len(gateway.delivered) == 1


@pytest.mark.terminal
@pytest.mark.reliability  # kill -9
def test_a_sender_process_killed_mid_send_leaves_it_to_the_next_which_the_gateway_dedupes(
        client, storage, tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys

    from .notice_peers import stalling

    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway, lease_seconds=5)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        arrived = stalling(gateway)
        env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "notices", "--database-url", storage.url,
                                 "--send", "--poll", "60"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            assert arrived.wait(30), proc.stderr.read1() if proc.poll() is not None else "no request"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        [row] = notices(storage, kind="ready")
        assert row["state"] == "sending" and len(gateway.delivered) == 1  # sent, never marked
        done = send(storage, cfg, utc_now() + timedelta(seconds=6))  # the next sender, after the lease
        assert done.sent == 1
        [row] = notices(storage, kind="ready")
        assert (row["state"], row["last_error"]) == ("sent", "duplicate")
        assert len(gateway.delivered) == 1 and len(gateway.requests) == 2  # one SMS for the customer


def test_retention_erases_the_address_notices_would_use():
    from central.retention import _registration, erased

    data = {"customer": {"organisation": "x", "phone": "13812345678"}, "ticket": {}, "lines": [],
            "notify": {"language": "zh", "sms": True, "email": "li@example.cn"}}
    assert not erased({**data, "customer": {"organisation": "（已匿名）"}})
    _registration(data)
    assert data["notify"] == {"language": "zh", "sms": True, "email": None} and erased(data)


def test_a_voided_step_or_an_erased_address_drops_the_notice_and_a_moved_due_date_moves_it(
        client, storage, tmp_path, monkeypatch):
    from central.devices import revoke
    from central.voiding import void

    import_catalog(storage, demo_csv(), "demo.csv")
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        ticket = site.register({"language": "zh", "sms": True})
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        assert revoke(storage, site.desk.uid) and void(storage, site.desk.uid, site.start, "stolen desk")
        assert send(storage, cfg, utc_now() + timedelta(days=40)).dropped == 2  # ready, and pickup ending
        assert {n["last_error"] for n in notices(storage)} == {"voided"}

        desk = enrol(client, storage, "clerk", name="3号窗口")
        erased, moved = (site.register({"language": "zh", "sms": True}, phone=phone)
                         for phone in ("13912345678", "13712345678"))
        line = [{"ticket_line_id": 1, "code": "L-001-001", "quantity": 1, "service": "verification", "use": "safety",
                 "condition": "", "accessories": "", "serial_number": "Z9", "refused": False}]
        assert push(client, desk, desk.step("received", *erased, at=site.start + timedelta(hours=1)),
                    desk.step("ready", *erased, at=site.start + timedelta(hours=2))).status_code == 200
        with storage.transaction() as tx:  # the customer's phone erased (retention rewrote the registration)
            payload = json.loads(tx.one(f"SELECT {storage.json_text('payload')} FROM event WHERE ticket = ? "
                                        "AND status = 0", (erased[0],))[0])
            payload["customer"]["phone"] = None
            tx.execute("UPDATE event SET payload = ? WHERE ticket = ? AND status = 0",
                       (json.dumps(payload, ensure_ascii=False), erased[0]))
        assert send(storage, cfg, utc_now()).dropped == 1 and gateway.requests == []
        assert notices(storage, kind="ready")[-1]["last_error"] == "no address"

        steps = [desk.step(k, *moved, at=site.start + timedelta(hours=h), **extra) for k, h, extra in (
            ("received", 1, {"lines": line}), ("ready", 2, {}), ("picked_up", 2.5, {}))]
        assert push(client, desk, *steps).status_code == 200
        [due] = notices(storage, kind="due_soon")
        due_on = date.fromisoformat(json.loads(due["facts"])["due_on"])
        later = due_on + timedelta(days=31)
        with storage.transaction() as tx:  # a new catalogue's longer cycle (as due_item.reprice writes it)
            tx.execute("UPDATE due_item SET due_on = ? WHERE ticket = (SELECT id FROM ticket_state WHERE uid = ?)",
                       (later.isoformat(), moved[0]))  # due_item holds the ticket's id (schema 26)
        first = outbox.at_hour(due_on - timedelta(days=30), 9)
        assert send(storage, cfg, first).later == 1 and gateway.requests == []
        [due] = notices(storage, kind="due_soon")
        assert json.loads(due["facts"])["due_on"] == later.isoformat() and due["state"] == "queued"
        assert send(storage, cfg, outbox.at_hour(later - timedelta(days=30), 9)).sent == 1


def test_failures_nobody_listed_are_failed_tries_too(client, storage, tmp_path, monkeypatch):
    """A 200 that is not JSON, a channel that raises, a batch that outlives its lease: retried, never lost,
    never sent twice."""
    with Gateway() as gateway:
        cfg = setup_config(tmp_path, monkeypatch, gateway)
        site = Site(client, storage)
        for phone in ("13812345678", "13912345678"):
            ticket = site.register({"language": "zh", "sms": True}, phone=phone)
            site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        now = utc_now()
        gateway.faults.append("not_json")
        channels = configured_channels(cfg)
        calls = []

        class Broken:
            name = "sms"
            settings = cfg.sms

            def send(self, message):
                calls.append(message.key)
                if len(calls) == 2:
                    raise UnicodeEncodeError("ascii", "号", 0, 1, "a bug of its own")
                return channels["sms"].send(message)

        done = sender.send_due(storage, cfg, INSTITUTE, {"sms": Broken()}, clock=lambda: now)
        assert (done.sent, done.retried) == (0, 2)
        assert sorted(n["last_error"] for n in notices(storage, kind="ready")) == [
            "sms UnicodeEncodeError", "sms http 200 not json"]
        # A sender whose clock passes the lease between the claim and the send does not send: the next one does.
        times, stop = [now + timedelta(seconds=61)], threading.Event()

        def slow_clock():  # the claim's moment, then the lease is over (a sender stalled in between)
            if not times:
                stop.set()
            return times.pop() if times else now + timedelta(seconds=61 + 120)

        late = sender.send_due(storage, cfg, INSTITUTE, channels, clock=slow_clock, stop=stop)
        assert late.sent == 0 and len(gateway.requests) == 1
        assert {n["state"] for n in notices(storage, kind="ready")} == {"sending"}
        assert send(storage, cfg, now + timedelta(seconds=61 + 121)).sent == 2
        assert len(gateway.delivered) == 2


def test_a_form_gateway_and_the_settings_checked():
    """Another provider's shape: a form body, the key in the body only, a signed query; bad settings named."""
    from urllib.parse import parse_qs

    from central.notices.channels import Message, Sms

    cfg = config.parse('[sms]\nurl = "http://127.0.0.1:1/send?account=demo"\nformat = "form"\n'
                       'idempotency_header = ""\nsignature_header = "X-Sign"\n'
                       '[sms.body]\nmobile = "{phone}"\ncontent = "{text}"\nextno = "{key}"\ntpl = "{template_id}"\n'
                       '[sms.templates]\nready = "T1"\n', "t.toml")
    request = Sms(cfg.sms).request(Message("k" * 32, "ready", "zh", "13812345678", "s", "【示范】可以取件了"))
    form = parse_qs(request.data.decode())
    assert form == {"mobile": ["13812345678"], "content": ["【示范】可以取件了"], "extno": ["k" * 32], "tpl": ["T1"]}
    assert "Idempotency-key" not in request.headers and len(request.headers["X-sign"]) == 64
    assert request.get_header("Content-type").startswith("application/x-www-form-urlencoded")
    for bad in ('[schedule]\npickup_warn_days = 40\n', '[email]\nhost = "x"\n', '[sms]\nurl = "x"\nformat = "xml"\n',
                '[sms]\nurl = "x"\ncolour = "red"\n', "[schedule\n", "[schedule]\nsend_hour = 22\n",
                "[schedule]\nquiet_until = 24\n", '[schedule]\nquiet_channels = ["fax"]\n'):
        with pytest.raises(config.ConfigError):
            config.parse(bad, "t.toml")
    assert config.load(None).email is None  # no file: no channel, notices wait queued


def test_no_text_message_in_the_quiet_hours_it_waits_for_the_morning(client, storage, tmp_path, monkeypatch):
    """A ready step synced at 22:30 institute time: the mail goes, the SMS waits until 08:00 and then goes once."""
    with Gateway() as gateway, Mailbox() as mailbox:
        cfg = setup_config(tmp_path, monkeypatch, gateway, mailbox, quiet_from=21, quiet_until=8)
        site = Site(client, storage)
        ticket = site.register(ZH_SMS_MAIL)
        site.send(site.step("received", ticket, 1), site.step("ready", ticket, 2))
        today = local(utc_now()).date()
        evening = datetime.combine(today + timedelta(days=1), datetime.min.time(), local(utc_now()).tzinfo)
        evening += timedelta(hours=22, minutes=30)
        first = send(storage, cfg, evening)
        assert (first.sent, first.later) == (1, 1) and len(mailbox.mails) == 1 and gateway.delivered == []
        [waiting] = notices(storage, kind="ready", channel="sms")
        assert waiting["state"] == "queued" and waiting["tries"] == 0  # waiting is not a failed try
        morning = evening.replace(hour=8, minute=0) + timedelta(days=1)
        assert send(storage, cfg, morning - timedelta(minutes=1)).sent == 0
        assert send(storage, cfg, morning).sent == 1 and len(gateway.delivered) == 1
        assert send(storage, cfg, morning + timedelta(hours=1)).sent == 0
        assert {n["state"] for n in notices(storage, kind="ready")} == {"sent"}
    assert config.Schedule().quiet(23) and config.Schedule().quiet(7) and not config.Schedule().quiet(8)
    assert not config.Schedule(quiet_from=0, quiet_until=0).quiet(3)


def test_the_office_counts_stop_at_the_cap_and_the_latest_are_merged_from_each_state(client, storage, monkeypatch):
    """No count of the whole outbox: each state up to COUNT_CAP ("N+" beyond, in zh and en), and the
    latest of all states merged from each state's index range: the rows a sort of the whole table gives."""
    import central.api.notices as route

    base = utc_now() - timedelta(days=3)
    states = [("sent", 0), ("queued", 0), ("queued", 2), ("sending", 1), ("parked", 5), ("dropped", 0)] * 3
    with storage.transaction() as tx:
        for n, (state, tries) in enumerate(states):
            at = storage.timestamp(base + timedelta(minutes=(n * 7) % 11, seconds=n))
            tx.execute("INSERT INTO notice (event_uid, kind, channel, ticket, number, lang, facts, state, due_at, "
                       "tries, created_at, updated_at) VALUES (?, 'ready', 'sms', ?, ?, 'zh', '{}', ?, ?, ?, ?, ?)",
                       (f"e{n}", f"t{n}", f"P1-261201-{n:04d}", state, at, tries, at, at))
    with storage.read() as tx:
        exact = outbox.counts(tx)
        whole = [r["id"] for r in outbox.listing(tx, None, 1000)]
        in_sql = [i for (i,) in tx.all("SELECT id FROM notice ORDER BY updated_at DESC, id DESC")]
        assert whole == in_sql and [r["id"] for r in outbox.listing(tx, None, 5)] == in_sql[:5]
        assert outbox.capped_counts(tx, 100) == (exact, dict.fromkeys(exact, False))
        assert exact == {"queued": 3, "failed": 6, "sending": 0, "sent": 3, "parked": 3, "dropped": 3}
    monkeypatch.setattr(route, "COUNT_CAP", 3)
    got = client.get("/api/v1/office/notices", params={"limit": 4}, headers=office(storage, "clerk")).json()
    assert got["counts"]["failed"] == 3 and got["more"] == {**dict.fromkeys(exact, False), "failed": True}
    assert len(got["notices"]) == 4
    html = client.get("/office/notices", headers=office(storage, "clerk")).text
    assert "失败待重试 failed 3+" in html and "已发送 sent 3<" in html
