"""The back office's alerts (central/alerts.py) with real devices syncing against a real central:
a device not synced for a day (central's clock moved, not waited for), and what devices keep
parked, which a device tells central with its pulls (kiosk/sync/outbox.py ParkedReport)."""

from __future__ import annotations

import http.client
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from db.models import OutboxEvent

from ..central.office_users import office
from .conftest import register
from .test_followups_sync import enroll_named


@pytest.fixture
def clock(central_clock, monkeypatch):
    """One clock for everything central stamps (pushes, pulls, tokens) and for the alerts."""
    import central.alerts
    import central.ingest

    monkeypatch.setattr(central.ingest, "utc_now", lambda: central_clock.now)
    monkeypatch.setattr(central.alerts, "utc_now", lambda: central_clock.now)
    return central_clock


def office_get(central, path: str) -> tuple[int, str]:
    parts = urlsplit(central.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=office(central.storage))
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8")


def alerts(central) -> dict:
    status, body = office_get(central, "/api/v1/office/alerts")
    assert status == 200
    return json.loads(body)


def test_a_device_not_synced_for_a_day_is_listed_until_it_syncs_again(central, nodes, clock):
    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk")
    with kiosk.open():
        enroll_named(kiosk, central, "大厅1号机")
        register(1)
        assert kiosk.sync().pushed == 1
    with desk.open():
        enroll_named(desk, central, "1号收件窗口")  # enrolled, never synced
    assert alerts(central)["unsynced"] == []  # a day has not passed

    clock.now += timedelta(hours=25)
    found = alerts(central)
    assert [(d["name"], d["never"], d["hours"]) for d in found["unsynced"]] == [
        ("1号收件窗口", True, 25),
        ("大厅1号机", False, 25),
    ]
    assert found["sites"] == {"main": {"unsynced": 2, "parked": 0}}
    status, page = office_get(central, "/office")
    assert status == 200 and "超过24小时未同步的设备 · Devices not synced for 24 hours" in page
    assert "从未同步 never" in page and "大厅1号机" in page

    with kiosk.open():
        kiosk.sync()  # only a pull: the kiosk has nothing to push
    assert [d["name"] for d in alerts(central)["unsynced"]] == ["1号收件窗口"]

    from central.devices import revoke

    revoke(central.storage, desk.uid)  # a revoked device is no one's to chase
    assert alerts(central)["unsynced"] == []
    assert "超过24小时未同步" not in office_get(central, "/office")[1]


def test_what_a_device_keeps_parked_reaches_the_office(central, nodes, clock):
    from central import feed
    from kiosk.sync.outbox import parked_report

    kiosk = nodes("kiosk", prefix="K1")
    with kiosk.open():
        enroll_named(kiosk, central, "大厅1号机")
        (ticket,) = register(1)
        kiosk.sync()
        assert alerts(central)["parked"] == []  # it reported: nothing parked
        # An event central refuses (a number of another kiosk's prefix), and a change it cannot apply.
        event = OutboxEvent.get(OutboxEvent.uid == ticket.event_uid)
        payload = json.loads(event.payload)
        payload["ticket"] |= {"uid": "0193aaaa-0000-7000-8000-00000000beef", "number": "ZZ-261124-0001"}
        OutboxEvent.create(
            uid="0193aaaa-0000-7000-8000-00000000b0b0",
            kind="ticket.registered",
            created_at=event.created_at,
            payload=json.dumps(payload, ensure_ascii=False),
        )
        with central.storage.transaction() as tx:
            feed.publish(tx, "device.key", data={"device_uid": "0193aaaa-0000-7000-8000-0000000000f1"})
        report = kiosk.sync()
        assert (report.parked, report.applied.parked) == (1, 1)
        assert parked_report().reasons == ("malformed", "wrong_prefix")  # newest first
        clock.now += timedelta(minutes=1)
        kiosk.sync()  # the next pass tells central what the last one parked
    (listed,) = alerts(central)["parked"]
    assert (listed["name"], listed["events"], listed["changes"], listed["refused"]) == ("大厅1号机", 1, 1, 1)
    assert listed["reasons"] == ["malformed", "wrong_prefix"] and listed["refused_reasons"] == ["wrong_prefix"]
    page = office_get(central, "/office")[1]
    assert "设备上搁置的事件 · Parked on devices" in page
    assert ("内容不合格式 · not in the expected shape; 受理号不是本机的前缀 · "
            "the ticket number is not this device&#39;s prefix") in page  # the reasons in words, zh and en
    assert "ZZ-261124-0001" not in page and "13812345678" not in page  # names and counts, nothing of the events

    with kiosk.open():  # the operator deals with them on the device
        from db.models import ParkedChange

        OutboxEvent.delete().where(OutboxEvent.parked_at.is_null(False)).execute()
        ParkedChange.delete().execute()
        clock.now += timedelta(minutes=1)
        kiosk.sync()
    assert alerts(central)["parked"] == []


def test_a_device_that_does_not_report_is_listed_by_what_central_refused(central, nodes, clock):
    """An older device's pull has no X-Parked: central lists what it refused it, marked unreported;
    a header that is not a report is ignored, never a reason to refuse the pull."""
    from kiosk.sync.client import Central
    from kiosk.sync.enrolment import enrolment

    kiosk = nodes("kiosk", prefix="K1")
    with kiosk.open():
        enroll_named(kiosk, central, "大厅1号机")
        (ticket,) = register(1)
        event = json.loads(OutboxEvent.get(OutboxEvent.uid == ticket.event_uid).payload)
        token = enrolment().token
    old = Central(central.url, token, timeout=5)  # no `parked`: sends no X-Parked
    event["ticket"] |= {"number": "ZZ-261124-0001"}
    answer = old.push(
        [
            {
                "uid": "0193aaaa-0000-7000-8000-00000000b0b0",
                "kind": "ticket.registered",
                "created_at": event["ticket"]["created_at"],
                "payload": event,
            }
        ]
    )
    assert list(answer.rejected) == ["0193aaaa-0000-7000-8000-00000000b0b0"]
    old.changes(0)
    (listed,) = alerts(central)["parked"]
    assert (listed["events"], listed["changes"], listed["refused"], listed["refused_reasons"]) == (
        None,
        None,
        1,
        ["wrong_prefix"],
    )
    assert "未报告 not reported" in office_get(central, "/office")[1]

    old.parked = "events=lots;changes=-1;reasons=<script>"
    old.changes(0)  # answered as ever
    assert alerts(central)["parked"][0]["events"] is None
    old.parked = "events=0;changes=2;reasons=unknown_kind,<b>,conflict"
    old.changes(0)
    (listed,) = alerts(central)["parked"]
    assert (listed["events"], listed["changes"], listed["reasons"]) == (0, 2, ["unknown_kind", "conflict"])
