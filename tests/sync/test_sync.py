"""Push and pull between real devices and a real central system: nothing lost, nothing doubled."""

from __future__ import annotations

import json

from db.models import DeviceKey, OutboxEvent, Ticket

from .conftest import central_event_uids, register


def test_a_kiosk_pushes_its_outbox_once_and_a_desk_receives_its_tickets(central, nodes):
    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk", prefix="D1")
    with kiosk.open():
        kiosk.enroll(central)
        tickets = register(3)
        report = kiosk.sync()
        assert (report.pushed, report.parked, report.backlog.waiting) == (3, 0, 0)
        mine = sorted(e.uid for e in OutboxEvent.select())
        assert kiosk.sync().pushed == 0  # nothing left: nothing sent twice
    assert central_event_uids(central.storage) == mine

    with desk.open():
        desk.enroll(central)
        report = desk.sync()
        assert report.applied.tickets == 3
        assert DeviceKey.get(DeviceKey.device_uid == kiosk.uid).source == "sync"  # the kiosk's key came too
        local = Ticket.get(Ticket.uid == tickets[0].uid)
        assert (local.number, local.status, local.customer.organisation) == (tickets[0].number, "registered",
                                                                              "示范燃气有限公司")
        assert [ln.code for ln in local.lines] == ["L-001-001", "C-003-001"]
        assert desk.sync().pulled == 0  # the cursor moved past what was applied


def test_a_step_at_one_desk_reaches_another(central, nodes):
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import history, receive
    from kiosk.store.registration import ensure_device

    kiosk, first, second = nodes("kiosk"), nodes("first", role="clerk"), nodes("second", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        kiosk.sync()
    with first.open():
        first.enroll(central)
        first.sync()
        local = Ticket.get(Ticket.uid == ticket.uid)
        receive(local.id, add_clerk("wang", "王芳", "2468"), ensure_device())
        assert first.sync().pushed == 1
    with second.open():
        second.enroll(central)
        second.sync()
        local = Ticket.get(Ticket.uid == ticket.uid)
        assert local.status == "received"
        assert [(s.kind, s.by) for s in history(local.id)] == [("received", "王芳")]  # who, at the other desk


def test_a_step_that_arrives_before_its_ticket_waits_for_it(central, nodes):
    """A desk took the ticket in from its code and pushed "received" before the kiosk synced."""
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import import_ticket, receive
    from kiosk.store.keys import export_public_keys, import_public_keys
    from kiosk.store.registration import ensure_device

    kiosk, first, second = nodes("kiosk"), nodes("first", role="clerk"), nodes("second", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        keys = export_public_keys()
    with first.open():
        import_public_keys(keys)
        first.enroll(central)
        receive(import_ticket(ticket.code), add_clerk("wang", "王芳", "2468"), ensure_device())
        assert first.sync().pushed == 1
    with second.open():
        second.enroll(central)
        assert second.sync().applied.held == 1  # the step, without its ticket yet
    with kiosk.open():
        kiosk.sync()
    with second.open():
        second.sync()
        assert Ticket.get(Ticket.uid == ticket.uid).status == "received"
    with first.open():
        first.sync()  # the kiosk's record fills in what the code did not carry
        local = Ticket.get(Ticket.uid == ticket.uid)
        assert (local.status, local.customer.organisation) == ("received", "示范燃气有限公司")


def test_an_event_central_refuses_is_parked_and_the_rest_goes_on(central, nodes):
    from db.models import utc_now
    from kiosk.sync.outbox import parked_events

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        register(1)
        OutboxEvent.create(uid="0193bbbb-0000-7000-8000-000000000001", kind="ticket.teleported",
                           payload=json.dumps({"device": kiosk.uid}), created_at=utc_now())
        register(1)
        report = kiosk.sync()
        assert (report.pushed, report.parked, report.backlog.waiting, report.backlog.parked) == (2, 1, 0, 1)
        assert [(uid, kind) for uid, kind, _ in parked_events()] == [("0193bbbb-0000-7000-8000-000000000001",
                                                                     "ticket.teleported")]
    assert len(central_event_uids(central.storage)) == 2


def test_a_new_catalogue_arrives_whole_and_tickets_keep_theirs(central, nodes, tmp_path):
    from central.catalog import import_catalog
    from kiosk.store.catalog import export_csv, latest_version, load_catalog

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        (before,) = register(1)
        text = export_csv().replace("30.00", "35.00", 1)  # a new fee for the first row
        old = latest_version()
    import_catalog(central.storage, text, "fees-2027.csv")
    with kiosk.open():
        report = kiosk.sync()
        assert len(report.applied.catalogs) == 1 and latest_version() == report.applied.catalogs[0] != old
        assert load_catalog().by_code["L-001-001"].price_fen == 3500
        assert Ticket.get(Ticket.uid == before.uid).version_id == old  # a ticket keeps its version
        assert kiosk.sync().applied.catalogs == []  # the same schedule again: nothing new


def test_a_catalogue_central_stored_before_compulsory_uses_arrives_free_for_every_use(central, nodes):
    """central keeps each version's CSV as imported; one stored before rows named their compulsory
    uses says 是, which meant free for any of the four uses (kiosk/domain/catalog.py before_uses)."""
    from central import feed
    from central.storage import ts
    from kiosk.domain.clock import utc_now
    from kiosk.store.catalog import load_catalog

    old_csv = ("收费标准号,项目名称,英文名称,服务类别,计量单位,收费(元),强制检定\n"
               "Z-001-001,电子天平,Electronic balance,检定,台,200,是\n"
               "Z-001-005,电子天平,Electronic balance,校准,台,300,否\n")
    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
    with central.storage.transaction() as tx:
        version = tx.one("INSERT INTO catalog_version (sha256, source, csv, row_count, imported_at) "
                         "VALUES ('old', 'old.csv', ?, 2, ?) RETURNING id", (old_csv, ts(utc_now())))[0]
        feed.publish(tx, "catalog.version", catalog_id=version)
    with kiosk.open():
        assert len(kiosk.sync().applied.catalogs) == 1
        verified, calibrated = load_catalog().rows
        assert verified.compulsory_uses == {"trade", "safety", "medical", "environment"}
        assert calibrated.compulsory_uses == frozenset()


def test_enroll_and_sync_from_the_command_line(central, run, tmp_path):
    from central.devices import add_device

    status, _, err = run("sync")
    assert status == 1 and "kiosk enroll" in err  # not enrolled: says what to do
    status, _, err = run("enroll", central.url, "NOT-A-CODE")
    assert status == 1 and "403" in err
    status, out, _ = run("enroll", central.url, add_device(central.storage, "kiosk"))
    assert status == 0 and "kiosk" in out
    from db.connection import open_database

    db = open_database(tmp_path / "k.sqlite3")
    register(2)
    db.close()
    status, out, _ = run("sync")
    assert status == 0 and json.loads(out) == {"pushed": 2, "parked": 0, "pulled": json.loads(out)["pulled"],
                                               "waiting": 0, "parked_total": 0, "changes_parked": 0,
                                               "changes_parked_total": 0}
    assert len(central_event_uids(central.storage)) == 2
    status, out, _ = run("sync", "--parked")
    assert status == 0 and out == ""


def test_a_push_too_large_for_central_is_split_and_an_event_too_large_alone_is_parked(central, nodes, monkeypatch):
    """Central refuses bodies over its limit with 413: the batch is halved until it passes, and
    an event too large by itself is parked, so the queue never sticks."""
    from central.api.limits import BodyLimit as _BodyLimit
    from kiosk.sync import outbox

    monkeypatch.setattr(outbox, "BATCH_BYTES", 10**9)  # the device's own cap out of the way
    # central's limit, small (Starlette builds its middleware at the first request, still to come)
    monkeypatch.setattr(_BodyLimit.__init__, "__defaults__", (40_000,))
    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        register(30)  # ~1.5 KB each: too large together, fine in halves
        big = OutboxEvent.select().order_by(OutboxEvent.seq).first()
        payload = json.loads(big.payload)
        payload["customer"]["address"] = "长" * 20_000  # ~60 KB alone
        OutboxEvent.update(payload=json.dumps(payload, ensure_ascii=False)).where(OutboxEvent.seq == big.seq).execute()
        report = kiosk.sync()
        assert (report.pushed, report.parked, report.backlog.waiting) == (29, 1, 0)
        assert OutboxEvent.get(OutboxEvent.seq == big.seq).park_reason.startswith("too_large")


def test_a_batch_is_capped_by_size_as_well_as_count(db, catalog):
    from kiosk.store.registration import ensure_device
    from kiosk.sync.outbox import pending_batch

    ensure_device("K1")
    register(5)
    one = len(OutboxEvent.select().first().payload)
    assert len(pending_batch()) == 5 and len(pending_batch(2)) == 2
    assert len(pending_batch(max_bytes=2 * one + one // 2)) == 2
    assert len(pending_batch(max_bytes=1)) == 1  # always at least one: it may go alone


def test_feedback_and_its_follow_up_reach_central(central, nodes):
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.feedback import close_followup, give_feedback, open_followups
    from kiosk.store.registration import ensure_device

    kiosk, desk = nodes("kiosk"), nodes("desk", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        give_feedback(FeedbackEntry(None, 1, reason="slow", comment="等了很久", phone="13812345678"), ensure_device())
        give_feedback(FeedbackEntry(None, 5, hearts=("warm", "patient")), ensure_device())
        report = kiosk.sync()
        assert (report.pushed, report.parked) == (2, 0)
    with desk.open():  # the call back is made at a desk (central takes a close from a desk only)
        desk.enroll(central)
        desk.sync()
        (followup,) = open_followups()
        close_followup(followup.id, add_clerk("wang", "王芳", "2468"), "已回电致歉", ensure_device())
        report = desk.sync()
        assert (report.pushed, report.parked) == (1, 0)
    with central.storage.read() as tx:
        kinds = sorted(r[0] for r in tx.all("SELECT kind FROM event"))
    assert kinds == ["feedback.given", "feedback.given", "followup.closed"]
