"""A desk never stops on a change it cannot apply (issue 17, item 4), driven through Pilot against
a real central (uvicorn, `serve_in_thread`, on SQLite and on PostgreSQL).

How the poison gets in: written straight into central's feed with `central.feed.publish` in one
of its storage transactions, as a central with a bug (or an older one, which took a duplicate
number) would have published it; central's push path refuses most of these now, so they cannot
come in through a push. The good changes around them come in the ordinary way: a kiosk pushes
its registrations over HTTP.

The poison: a registration whose number the desk already has under another ticket uid (a kiosk
restored from a backup issued it again), a step whose ticket is no ticket uid at all, a rating
not of its kind's shape, a device key without its device, and a kind from a newer central. The
desk parks each (`kiosk sync --parked`, `kiosk doctor`), its cursor moves past them, the
registrations pushed after them arrive, and the app runs on. A database that stops taking writes
mid-run is said in the status line and the pass is tried again: the app never ends on sync.

And a ticket code scanned at the desk whose number another ticket here holds: said in words,
set aside whole, never shown as the other ticket."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from db.models import OutboxEvent, ParkedChange, Ticket, database_proxy
from kiosk.domain.ids import uuid7
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.receiving import ReceivingScreen

from .central.conftest import database_url, pg_schema_url, storage  # noqa: F401 - fixtures
from .kiosk_pilot import screen_text, settle, sync_until
from .sync.conftest import central, nodes, register  # noqa: F401 - fixtures
from .test_desk_app import PIN, make_desk, sign_in

OTHER_DESK = "0193aaaa-0000-7000-8000-0000000000d9"
IMPOSTOR = "冒名顶替有限公司"  # the duplicate registration's organisation: never shown for the real ticket


def _enrolled_pair(central, nodes):  # noqa: F811 - the fixtures imported above
    """A kiosk that registered and pushed one ticket, and a desk enrolled with a clerk."""
    from kiosk.store.clerks import add_clerk

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        (first,) = register(1)
        kiosk.sync()
        payload = json.loads(OutboxEvent.get(OutboxEvent.uid == first.event_uid).payload)
    desk = nodes("desk", role="clerk")
    with desk.open():
        desk.enroll(central)
        add_clerk("wang", "王芳", PIN)
    return kiosk, desk, first, payload


def _poison(central, desk, payload: dict, number: str) -> int:  # noqa: F811
    """The five bad changes, published in one transaction; the feed row seq of the last one."""
    from central.feed import publish

    with central.storage.read() as tx:
        desk_id = tx.one("SELECT id FROM device WHERE uid = ?", (desk.uid,))[0]
    with central.storage.transaction() as tx:
        publish(tx, "ticket.registered", data={
            **payload, "ticket": {**payload["ticket"], "uid": uuid7(), "number": number},
            "customer": {**payload["customer"], "organisation": IMPOSTOR}})
        publish(tx, "ticket.event", data={"event": uuid7(), "ticket": "no-such-ticket", "number": number,
                                          "device": OTHER_DESK, "at": "2026-11-24T03:00:00+00:00",
                                          "kind": "received"})
        publish(tx, "feedback.given", data={"feedback": 12, "rating": "very"})
        publish(tx, "device.key", data={"name": "3号窗口"}, target=desk_id)
        publish(tx, "ticket.weighed", data={"ticket": payload["ticket"]["uid"], "grams": 1200}, target=desk_id)
    with central.storage.read() as tx:
        return tx.one("SELECT max(seq) FROM feed")[0]


def _ticket(number: str):
    row = Ticket.get_or_none(Ticket.number == number)
    return None if row is None else (row.uid, row.customer.organisation)


@pytest.fixture
def poisoned(central, nodes):  # noqa: F811
    """The desk and its kiosk, the poison in central's feed between the kiosk's first push and
    its second; a third registration not pushed yet (its events and the kiosk's token)."""
    from kiosk.sync.enrolment import enrolment
    from kiosk.sync.outbox import pending_batch

    kiosk, desk, first, payload = _enrolled_pair(central, nodes)
    poisoned_up_to = _poison(central, desk, payload, first.number)
    with kiosk.open():
        (second,) = register(1)
        kiosk.sync()
        (third,) = register(1)
        later, token = pending_batch(), enrolment().token
    return desk, (first, second, third), poisoned_up_to, later, token


async def test_poison_from_central_is_parked_and_the_desk_keeps_working(central, poisoned, capsys):  # noqa: F811
    from central.feed import SLOTS
    from kiosk.cli import main
    from kiosk.ops.doctor import run_checks
    from kiosk.sync.client import Central
    from kiosk.sync.feed import cursor

    desk, (first, second, third), poisoned_up_to, later, token = poisoned

    config = replace(load_config(), language="zh", printer_uri="preview://receipts", database=desk.path)
    app = DeskApp(config)
    app.animation_level = "none"
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        state = await sync_until(pilot, lambda s: s.online and s.changes_parked == 5)
        assert state.problem is None and app.is_running and isinstance(app.screen, ReceivingScreen)
        assert "5条变更已搁置" in screen_text(app)
        assert await app.in_db_thread(cursor) >= poisoned_up_to * SLOTS  # moved past every poisoned change
        assert await app.in_db_thread(_ticket, first.number) == (first.uid, "示范燃气有限公司")
        assert (await app.in_db_thread(_ticket, second.number))[0] == second.uid  # pushed after the poison

        # The next registration, pushed while the desk runs, arrives with the next pass.
        assert (await asyncio.to_thread(Central(central.url, token).push, later)).acked == [later[0]["uid"]]
        state = await sync_until(pilot, lambda s: s.online and s.changes_parked == 5 and s.last_sync)
        assert (await app.in_db_thread(_ticket, third.number))[0] == third.uid

        # The real ticket, looked up by its number: its own customer, not the impostor's.
        await pilot.press(*first.number, "enter")
        await settle(pilot)
        assert "示范燃气有限公司" in screen_text(app) and IMPOSTOR not in screen_text(app)

        # The database stops taking writes (a read-only disk): the pass fails, is said, is tried again.
        await app.in_db_thread(database_proxy.execute_sql, "PRAGMA query_only = 1")
        state = await sync_until(pilot, lambda s: s.problem is not None)
        assert state.problem == "OperationalError" and app.is_running
        assert "同步出错，自动重试（OperationalError）" in screen_text(app)
        app.action_toggle_language()
        await pilot.pause()
        assert "sync failed, retrying (OperationalError)" in screen_text(app)
        await app.in_db_thread(database_proxy.execute_sql, "PRAGMA query_only = 0")
        state = await sync_until(pilot, lambda s: s.online and s.problem is None)
        assert app.is_running and "sync failed" not in screen_text(app)
    assert app.return_code in (None, 0)

    assert main(["--db", str(desk.path), "sync", "--parked", "--lang", "en"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Changes this device could not apply, set aside (5): seq, kind, reason, when"
    reasons = {line.split("\t")[1]: line.split("\t")[2] for line in lines[1:]}
    assert reasons == {
        "ticket.registered": "conflict: UNIQUE constraint failed: ticket.number",
        "ticket.event": reasons["ticket.event"],
        "feedback.given": reasons["feedback.given"],
        "device.key": "malformed: no 'device_uid'",
        "ticket.weighed": "unknown kind",
    }
    assert reasons["ticket.event"].startswith("malformed: Expected `str` matching regex")
    assert reasons["ticket.event"].endswith("- at `$.ticket`")
    assert reasons["feedback.given"].startswith("malformed: ")
    checks = {c.name: c for c in run_checks(config)}
    assert checks["central"].level == "warn" and checks["central"].data["changes_parked"] == 5
    assert "kiosk sync --parked" in checks["central"].message.text("en")
    assert "5条变更未能应用" in checks["central"].message.text("zh")


async def test_a_code_whose_number_another_ticket_holds_is_set_aside_in_words():
    """A kiosk restored from a backup issued a number again: the customer's code names a ticket
    uid this desk has not seen under a number another ticket here holds. The desk says so,
    shows neither ticket, keeps the code (scanned twice: once), and the other ticket is intact."""
    from db.connection import open_database

    from .test_desk import foreign_code

    app, (number,) = make_desk()
    db = open_database(app.config.database)
    code = foreign_code(number=number)
    holder = _ticket(number)
    db.close()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*code, "enter")  # typed by the scanner (174 keys: once is enough)
        await settle(pilot)
        text = screen_text(app)
        assert f"受理号{number}在本机已属于另一张受理单，未收件" in text and "请交管理员核实" in text
        assert "示范燃气有限公司" not in text and app.screen.summary is None  # not the other ticket's customer
        await pilot.press("f5")  # nothing to receive
        await settle(pilot)
        assert "请先扫描一张受理单" in screen_text(app)
        app.screen.look_up(code)  # scanned again, as the scan field hands it over
        await settle(pilot)
        app.action_toggle_language()
        await pilot.pause()
        assert f"Number {number} already belongs to another ticket here: not taken in" in screen_text(app)
        rows = await app.in_db_thread(lambda: [(r.seq, r.kind, r.reason, json.loads(r.data)["code"])
                                               for r in ParkedChange.select()])
        assert rows == [(None, "ticket.code", f"number_taken: {number} belongs to another ticket here", code)]
        assert await app.in_db_thread(_ticket, number) == holder
        assert await app.in_db_thread(lambda: Ticket.select().count()) == 1
        await pilot.press(*number, "enter")  # the ticket that holds the number, typed: itself
        await settle(pilot)
        assert app.screen.summary.number == number
