"""Schema upgrades when central starts. 1 -> 2: the index on event (kind, created_at), and the
feedback pushed before the upgrade reaches the desks. 3 -> 4: the tickets registered before get
their owners, the first registration of a duplicated number keeping it."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from central import schema
from central.auth import hash_secret
from central.schema import open_storage
from central.storage import Storage, StorageError

from .nodes import T0, Node, enrol, pull_all, push


def make_v1(url: str, upgrades: int = 1) -> None:
    """A database exactly as schema 1 made it (and its upgrades up to `upgrades`)."""
    storage = Storage(url)
    try:
        with storage.transaction() as tx:
            for statement in schema.TABLES:
                tx.execute(statement.format(**schema.TYPES[storage.dialect]))
            for version in range(2, upgrades + 1):
                for statement in schema.UPGRADES[version]:
                    tx.execute(statement.format(**schema.TYPES[storage.dialect]))
            tx.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', ?)", (str(upgrades),))
    finally:
        storage.close()


def indexes(storage) -> set[str]:
    with storage.read() as tx:
        if storage.postgres:
            rows = tx.all("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row[0] for row in rows}


def version(storage) -> int:
    with storage.read() as tx:
        return int(tx.one("SELECT value FROM central_meta WHERE key = 'schema_version'")[0])


def test_a_new_database_has_the_latest_schema(storage):
    assert version(storage) == schema.SCHEMA_VERSION >= 5
    assert "event_kind" in indexes(storage)


def test_a_version_1_database_upgrades_on_start_and_publishes_the_feedback_it_held(database_url, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    make_v1(database_url)
    storage = Storage(database_url)  # not opened with open_storage: no upgrade yet
    assert version(storage) == 1 and "event_kind" not in indexes(storage)
    # Schema 1 accepted and stored feedback without publishing it: events as v1 stored them.
    kiosk_uid, desk_uid = str(uuid.uuid4()), str(uuid.uuid4())
    with storage.transaction() as tx:
        for device_id, (uid, role, prefix) in enumerate(((kiosk_uid, "kiosk", "OLDK"), (desk_uid, "clerk", "OLDD")),
                                                        start=1):
            tx.execute("INSERT INTO device (uid, name, role, prefix, public_key, enrolled_at) "
                       "VALUES (?, '', ?, ?, 'k', '2026-11-01T00:00:00+00:00')", (uid, role, prefix))
        for uid, kind, device_id, payload in (
                ("e1", "feedback.given", 1, '{"feedback": "f1", "rating": 1}'),
                ("e2", "ticket.registered", 1, '{"ticket": {"number": "X-261124-0001"}}'),
                ("e3", "followup.closed", 2, '{"followup": "u1"}')):
            tx.execute("INSERT INTO event (uid, kind, device_id, created_at, received_at, payload) "
                       "VALUES (?, ?, ?, '2026-11-20T00:00:00+00:00', '2026-11-20T00:00:00+00:00', ?)",
                       (uid, kind, device_id, payload))
    storage.close()

    upgraded = open_storage(database_url)  # what `kiosk central serve` does first
    try:
        assert version(upgraded) == schema.SCHEMA_VERSION and "event_kind" in indexes(upgraded)
        assert open_storage(database_url).close() is None  # a second start: nothing to do
        with TestClient(create_app(upgraded)) as client:
            desk = enrol(client, upgraded, "clerk")
            changes, _ = pull_all(client, desk)
            assert [(c["kind"], c["data"]) for c in changes if not c["kind"].startswith("device.")] == [
                ("feedback.given", {"feedback": "f1", "rating": 1}), ("followup.closed", {"followup": "u1"})]
            # What the devices pushed then was the one site's: a site added later is not sent it.
            monkeypatch.setenv("CENTRAL_SITES", "main,east")
            east = enrol(client, upgraded, "clerk", site="east")
            assert [c["kind"] for c in pull_all(client, east)[0] if not c["kind"].startswith("device.")] == []
            kiosk = enrol(client, upgraded)
            assert push(client, kiosk, kiosk.feedback(5)).status_code == 200
            assert [c["kind"] for c in pull_all(client, desk)[0]][-1] == "feedback.given"
    finally:
        upgraded.close()


def test_a_newer_database_is_refused(database_url):
    storage = open_storage(database_url)
    with storage.transaction() as tx:
        tx.execute("UPDATE central_meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION + 1),))
    storage.close()
    with pytest.raises(StorageError, match=f"schema {schema.SCHEMA_VERSION + 1}"):
        open_storage(database_url)


def test_a_version_3_database_with_a_duplicate_number_upgrades_and_the_first_registration_keeps_it(database_url):
    """Before schema 4 central took a restored kiosk's reissued number (and a registration of a
    ticket uid it held). The upgrade gives each ticket uid and number to the registration that
    arrived first, lists the others, and from then on a push of a held number is refused."""
    from fastapi.testclient import TestClient

    from central.app import create_app

    make_v1(database_url, upgrades=3)
    storage = Storage(database_url)
    kiosk = Node(str(uuid.uuid4()), "OLDK", "kiosk", "old-kiosk-token", "k")
    first = kiosk.registered(number="OLDK-261124-0001")
    again = kiosk.registered(number="OLDK-261124-0001")  # restored from a backup: the number reissued
    taken = kiosk.registered(ticket=first["payload"]["ticket"]["uid"], number="OLDK-261124-0009")
    other = kiosk.registered(number="OLDK-261124-0002")
    with storage.transaction() as tx:
        tx.execute("INSERT INTO device (uid, name, role, prefix, public_key, token_hash, enrolled_at) "
                   "VALUES (?, '', 'kiosk', 'OLDK', 'k', ?, '2026-11-01T00:00:00+00:00')",
                   (kiosk.uid, hash_secret(kiosk.token)))
        for e in (first, again, taken, other):  # as schema 3 stored them, in this order
            tx.execute("INSERT INTO event (uid, kind, device_id, ticket, status, created_at, received_at, payload) "
                       "VALUES (?, 'ticket.registered', 1, ?, 0, ?, ?, ?)",
                       (e["uid"], e["payload"]["ticket"]["uid"], e["created_at"], e["created_at"],
                        json.dumps(e["payload"])))
    storage.close()

    upgraded = open_storage(database_url)
    try:
        assert version(upgraded) == schema.SCHEMA_VERSION
        with upgraded.read() as tx:
            owners = tx.all("SELECT uid, number, device_id, site FROM ticket ORDER BY number")
            listed = json.loads(tx.one("SELECT value FROM central_meta WHERE key = 'duplicate_registrations'")[0])
        assert owners == [(first["payload"]["ticket"]["uid"], "OLDK-261124-0001", 1, "main"),
                          (other["payload"]["ticket"]["uid"], "OLDK-261124-0002", 1, "main")]
        assert [(d["event"], d["number"], d["kept"]) for d in listed] == [
            (again["uid"], "OLDK-261124-0001", first["uid"]), (taken["uid"], "OLDK-261124-0009", first["uid"])]
        with TestClient(create_app(upgraded)) as client:
            reissued = kiosk.registered(number="OLDK-261124-0002", at=T0)
            got = push(client, kiosk, reissued)  # the kiosk's own token, issued before schema 4
            assert got.status_code == 422
            assert got.json()["rejected"][0]["error"].startswith("number_taken: payload.ticket.number")
            assert push(client, kiosk, kiosk.registered(number="OLDK-261124-0003")).status_code == 200
            assert push(client, kiosk, first).json() == {"acked": [first["uid"]]}  # a repeat: acked as ever
    finally:
        upgraded.close()


def test_a_version_8_database_upgrades_and_its_devices_get_their_push_quota_in_their_row(database_url):
    """Schema 9: the push quota moved from each worker's memory to the device's row. A device
    enrolled before keeps its token, starts with full buckets, and is then held to them."""
    from fastapi.testclient import TestClient

    from central.api.quotas import Quotas
    from central.app import create_app

    make_v1(database_url, upgrades=8)
    storage = Storage(database_url)
    kiosk = Node(str(uuid.uuid4()), "OLDQ", "kiosk", "old-quota-token", "k")
    with storage.transaction() as tx:
        tx.execute("INSERT INTO device (uid, name, role, prefix, public_key, token_hash, enrolled_at) "
                   "VALUES (?, '', 'kiosk', 'OLDQ', 'k', ?, '2026-11-01T00:00:00+00:00')",
                   (kiosk.uid, hash_secret(kiosk.token)))
    storage.close()

    upgraded = open_storage(database_url)
    try:
        assert version(upgraded) == schema.SCHEMA_VERSION
        with upgraded.read() as tx:
            assert tx.one("SELECT quota_at, quota_pushes, quota_push_hour, quota_push_day FROM device") == \
                (None, None, None, None)
        with TestClient(create_app(upgraded, Quotas(pushes_per_minute=1))) as client:
            assert push(client, kiosk, kiosk.registered()).status_code == 200
            refused = push(client, kiosk, kiosk.registered())
            assert refused.status_code == 429 and refused.json()["error"] == "quota"
        with upgraded.read() as tx:
            at, pushes = tx.one("SELECT quota_at, quota_pushes FROM device")
        assert at > 0 and abs(pushes) < 0.01  # the bucket emptied by the one push, kept in the row
    finally:
        upgraded.close()


def test_a_version_11_database_upgrades_and_its_tickets_are_filtered_by_counter_clerk_and_field(client, storage):
    """Schema 12: ticket_facet built from the events stored before, due_item_site created."""
    from central import readmodels

    from .office_users import office
    from .test_due_office import line
    from .test_read_models import back_to

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered(at=T0)
    t = reg["payload"]["ticket"]
    assert push(client, kiosk, reg, kiosk.registered()).status_code == 200
    assert push(client, desk, desk.step("received", t["uid"], t["number"], clerk="li",
                                        lines=[line("Z-001-001")])).status_code == 200
    built = readmodels.snapshot(storage)
    assert len(built["ticket_facet"]) == 5  # two registrations' L, the intake's desk, clerk and Z
    back_to(storage, 11)
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 12
    assert readmodels.snapshot(storage) == built and "due_item_site" in indexes(storage)
    for query in ({"counter": desk.uid}, {"clerk": "li"}, {"field": "Z"}):
        got = client.get("/api/v1/office/tickets", params=query, headers=office(storage, "clerk")).json()
        assert [i["number"] for i in got["items"]] == [t["number"]], query


def test_a_version_15_database_upgrades_and_its_follow_ups_are_listed_from_the_read_model(client, storage):
    """Schema 16: `followup` built from the ratings and closes stored before."""
    from central import readmodels
    from central.followups import followups

    from .test_read_models import back_to

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    opened, closed = kiosk.feedback(1, due_on="2026-12-20"), kiosk.feedback(2, due_on="2026-12-01")
    assert push(client, kiosk, opened, closed, kiosk.feedback(5)).status_code == 200
    assert push(client, desk, desk.closed(closed)).status_code == 200
    built, listed = readmodels.snapshot(storage)["followup"], followups(storage, today=date(2026, 12, 10))
    assert len(built) == 2 and len(listed["open"]) == len(listed["closed"]) == 1
    back_to(storage, 15)
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 16
    assert readmodels.snapshot(storage)["followup"] == built
    assert followups(storage, today=date(2026, 12, 10)) == listed


def test_a_version_20_database_upgrades_to_the_smaller_indexes_and_the_kinds_read_by_kind_stay_indexed(database_url):
    """Schema 21: ticket_state's list indexes ascending (a page newest first reads them backwards),
    and on PostgreSQL event_kind without the ticket steps, which are read by ticket; every kind a
    page, an export, retention or the backfill reads by kind is still an index range."""
    make_v1(database_url, 20)
    storage = open_storage(database_url)
    try:
        assert version(storage) == schema.SCHEMA_VERSION
        assert {"event_kind", "ticket_state_listed", "ticket_state_status_listed"} <= indexes(storage)
        if not storage.postgres:
            return  # SQLite keeps the whole event_kind (a partial index serves only queries repeating its condition)
        with storage.transaction() as tx:
            definition = tx.one("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                "AND indexname = 'event_kind'")[0]
            assert "ticket.registered" in definition and "ticket.picked_up" in definition
            tx.execute("SET LOCAL enable_seqscan = off")  # an empty table: would the planner have an index at all
            for kind in ("feedback.given", "followup.closed", "followup.called", "rating.appealed",
                         "appeal.decided", "certificate.checked", "certificate.taken_as_is"):
                plan = "\n".join(row[0] for row in tx.all(
                    "EXPLAIN SELECT id, created_at FROM event WHERE kind = ? AND created_at >= ? "
                    "ORDER BY created_at, id LIMIT 500", (kind, "2026-01-01T00:00:00+00:00")))
                assert "Seq Scan" not in plan, (kind, plan)
            plan = "\n".join(row[0] for row in tx.all(  # schema 26: by (first_at, id)
                "EXPLAIN SELECT id FROM ticket_state WHERE status = 3 ORDER BY first_at DESC, id DESC LIMIT 51"))
            assert "Index Only Scan Backward using ticket_state_status_listed" in plan, plan
    finally:
        storage.close()


def test_a_version_24_database_upgrades_to_facts_by_event_id_and_answers_the_same(client, storage):
    """Schema 25: ticket_state's five text keys become their events' ids (filled from the keys by
    event uid, the keys dropped); the rows are then the ones a build gives, and every page the same."""
    from central import readmodels
    from central.readmodels.ticket_state import KEYS

    from .test_due_office import line
    from .test_read_models import back_to, pages_agree

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered(at=T0)
    t = reg["payload"]["ticket"]
    assert push(client, kiosk, reg, kiosk.registered(at=T0)).status_code == 200
    assert push(client, desk, desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=1), clerk="li",
                                        lines=[line("L-001-001")]),
                desk.step("ready", t["uid"], t["number"], at=T0 + timedelta(days=2)),
                desk.step("picked_up", t["uid"], t["number"], at=T0 + timedelta(days=3))).status_code == 200
    other = kiosk.registered(at=T0 + timedelta(minutes=5))  # an intake with no registration central knows
    o = other["payload"]["ticket"]
    assert push(client, desk, desk.step("received", o["uid"], o["number"], at=T0 + timedelta(hours=2),
                                        lines=[line("Z-001-001")])).status_code == 200
    built = readmodels.snapshot(storage)
    back_to(storage, 24)
    with storage.read() as tx:
        keys = dict(tx.all("SELECT uid, intake_key FROM ticket_state"))
        assert keys[t["uid"]].endswith("|" + tx.one("SELECT uid FROM event WHERE kind = 'ticket.received' "
                                                     "AND ticket = ?", (t["uid"],))[0])
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 25
    with storage.read() as tx:
        columns = [row[1] for row in tx.all("PRAGMA table_info(ticket_state)")] if not storage.postgres else [
            c for (c,) in tx.all("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = 'ticket_state'")]
    assert not set(KEYS) & set(columns) and set(KEYS.values()) <= set(columns)
    after = readmodels.snapshot(storage)
    # figure_ticket's basis digested the keys before: made again, the same cells, at the ticket's next refresh
    assert {k: v for k, v in after.items() if k != "figure_ticket"} == {
        k: v for k, v in built.items() if k != "figure_ticket"}
    assert [(ticket, cells) for ticket, _, cells in after["figure_ticket"]] == [
        (ticket, cells) for ticket, _, cells in built["figure_ticket"]]
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == built
    pages_agree(storage)


def test_a_version_25_database_upgrades_to_ticket_ids_and_answers_the_same(client, storage):
    """Schema 26: ticket_state's rows numbered (`id`), ticket_serial and ticket_facet copied by uid to
    hold it instead of the ticket's uid; the rows are then the ones a build gives, the searches and
    filters find the same tickets, and a ticket pushed after the upgrade gets an id of its own."""
    from central import readmodels

    from .office_users import office
    from .test_due_office import line
    from .test_read_models import back_to, pages_agree

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    numbers = []
    for hours in (1, 2, 3):
        reg = kiosk.registered(at=T0 + timedelta(hours=hours))
        t = reg["payload"]["ticket"]
        numbers.append(t["number"])
        assert push(client, kiosk, reg).status_code == 200
        assert push(client, desk, desk.step("received", t["uid"], t["number"], at=T0 + timedelta(hours=hours + 1),
                                            clerk="li", lines=[line("L-001-001", f"SN-{hours}")]),
                    desk.step("picked_up", t["uid"], t["number"], at=T0 + timedelta(days=hours))).status_code == 200
    built = readmodels.snapshot(storage)
    tables = ("ticket_serial", "ticket_facet", "due_item", "figure_ticket")
    assert all(built[table] for table in tables) and len(built["due_item"]) == 3
    back_to(storage, 25)

    def ticket_columns() -> dict[str, str]:
        with storage.read() as tx:
            if storage.postgres:
                return dict(tx.all("SELECT table_name, data_type FROM information_schema.columns WHERE table_schema "
                                   "= current_schema() AND column_name = 'ticket' AND table_name = ANY(?)",
                                   (list(tables),)))
            return {t: next(c[2] for c in tx.all(f"PRAGMA table_info({t})") if c[1] == "ticket") for t in tables}

    assert {t: kind.lower() for t, kind in ticket_columns().items()} == dict.fromkeys(tables, "text")
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 26
    assert {t: kind.lower() for t, kind in ticket_columns().items()} == dict.fromkeys(tables, "bigint")
    with storage.read() as tx:
        ids = [i for (i,) in tx.all("SELECT id FROM ticket_state ORDER BY id")]
        held = {i for (i,) in tx.all(" UNION ".join(f"SELECT ticket FROM {table}" for table in tables))}
    assert len(ids) == len(set(ids)) == 3 and None not in ids and held == set(ids)
    assert readmodels.snapshot(storage) == built
    clerk = office(storage, "clerk")
    for query in ({"q": "sn-2"}, {"counter": desk.uid}, {"clerk": "li"}, {"field": "L"}, {}):
        got = client.get("/api/v1/office/tickets", params=query, headers=clerk).json()
        assert [i["number"] for i in got["items"]] == ([numbers[1]] if "q" in query else numbers[::-1]), query
    later = kiosk.registered(at=T0 + timedelta(hours=9))
    assert push(client, kiosk, later).status_code == 200
    with storage.read() as tx:
        assert tx.one("SELECT id FROM ticket_state WHERE uid = ?", (later["payload"]["ticket"]["uid"],))[0] > max(ids)
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    pages_agree(storage)


def test_a_version_25_database_upgrades_to_the_certificate_checks_sums_and_shows_the_same_figures(client, storage,
                                                                                                  monkeypatch):
    """Schema 27: certificate_check_sum built from the check rows in force in the upgrade's
    transaction (a voided check left out); the office's page and JSON say what they said."""
    import central.api.certificate_checks as route
    from central import certificate_checks
    from central.devices import revoke
    from central.voiding import void

    from .office_users import office
    from .test_certificate_checks import checked
    from .test_read_models import back_to
    from .test_trust import ticket_of

    monkeypatch.setattr(route, "today", lambda: date(2026, 12, 30))
    kiosk, desk, other = enrol(client, storage), enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    assert push(client, kiosk, reg).status_code == 200
    ticket, number = ticket_of(reg)
    assert push(client, desk, checked(desk, ticket, number), checked(desk, ticket, number, instrument=1,
                outcome="returned", wrong=("serial",), at=T0 + timedelta(days=8))).status_code == 200
    assert push(client, other, checked(other, ticket, number, line=1, code="C-003-001")).status_code == 200
    revoke(storage, other.uid)
    void(storage, other.uid, T0)
    director, period = office(storage), {"from": "2026-10-05", "to": "2026-12-30"}
    api = client.get("/api/v1/office/certificate-checks", params=period, headers=director).json()
    html = client.get("/office/certificate-checks", params=period, headers=director).text
    with storage.read() as tx:
        kept = certificate_checks.sums_snapshot(tx)
    assert [(week, field, n) for week, field, _, _, _, _, n in kept] == [
        ("2026-11-23", "L", 1), ("2026-11-30", "L", 1)]  # the voided C check left out
    back_to(storage, 25)
    assert "certificate_check_sum" not in str(indexes(storage))
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 27
    with storage.read() as tx:
        assert certificate_checks.sums_snapshot(tx) == kept
    assert client.get("/api/v1/office/certificate-checks", params=period, headers=director).json() == api
    assert client.get("/office/certificate-checks", params=period, headers=director).text == html


def test_a_version_27_database_upgrades_to_the_appeals_by_state_and_lists_the_same(client, storage):
    """Schema 28: the appeal read model built from the appeal events in force in the upgrade's
    transaction (a decision of a voided desk's left out, a decision before its filing ignored);
    the office's appeals by state say what they said."""
    from central import appeals
    from central.devices import revoke
    from central.readmodels import appeal
    from central.voiding import void

    from .office_users import office
    from .test_ratings_paged import _appeal, _decided
    from .test_read_models import back_to
    from .test_window_ratings_office import ALL_TIME, served, window_rating

    _, desk, reg = served(client, storage)
    other = enrol(client, storage, "clerk", name="2号窗口")
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    assert push(client, desk, poor).status_code == 200
    filings = [_appeal(desk, poor, T0 + timedelta(hours=3, minutes=n)) for n in range(4)]
    early = _decided(desk, filings[3], "upheld")  # arrives before its filing: ignored
    assert push(client, desk, early).status_code == 200
    assert push(client, desk, *filings, _decided(desk, filings[0], "upheld")).status_code == 200
    assert push(client, other, _decided(other, filings[1], "rejected")).status_code == 200
    revoke(storage, other.uid)
    void(storage, other.uid, T0)  # filings[1] waits again
    appeals.decide(storage, filings[2]["payload"]["appeal"], "rejected", "监控", "赵主任")
    with storage.read() as tx:
        kept = appeal.snapshot(tx)
    assert [row[4] for row in kept] == [{0: "upheld", 2: "rejected"}.get(n) for n in sorted(
        range(4), key=lambda n: filings[n]["payload"]["appeal"])]
    director = office(storage, "director")
    answers = {state: client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state={state}", headers=director).json()
               for state in appeals.STATES}
    assert [a["appeal"] for a in answers["waiting"]["appeals"]] == [filings[n]["payload"]["appeal"] for n in (1, 3)]
    back_to(storage, 27)
    assert "appeal_waiting" not in indexes(storage)
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 28
    with storage.read() as tx:
        assert appeal.snapshot(tx) == kept
    for state, answer in answers.items():
        got = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state={state}", headers=director).json()
        assert got == answer, state
