"""Who may say what (central/trust.py): every rule refuses a device of the wrong role, or of the
right role on a ticket it does not own, with its word, and nothing of the batch is applied.
Each attack of issue 17 is played by an enrolled device with its own valid token."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import pytest

from central.satisfaction import ratings
from central.tickets import current, history
from kiosk.domain.clock import utc_now

from .nodes import T0, enrol, pull_all, push


def stored(storage) -> tuple[int, int, int]:
    """What a push can change: events, ticket owners, feed rows."""
    with storage.read() as tx:
        return tuple(tx.one(f"SELECT count(*) FROM {table}")[0] for table in ("event", "ticket", "feed"))


def refused(client, storage, node, events: list[dict], bad: dict, word: str, detail: str = "") -> str:
    """Push `events`: 422, `bad` alone named with `word`, and nothing of the batch stored. The error."""
    before = stored(storage)
    got = push(client, node, *events)
    assert got.status_code == 422, got.text
    body = got.json()
    assert [r["uid"] for r in body["rejected"]] == [bad["uid"]], body
    error = body["rejected"][0]["error"]
    assert error.startswith(f"{word}: ") and detail in error, error
    assert "nothing was applied" in body["detail"]
    assert stored(storage) == before
    return error


def ticket_of(registration: dict) -> tuple[str, str]:
    t = registration["payload"]["ticket"]
    return t["uid"], t["number"]


class Http:
    """Real HTTP to a running central, answering like the TestClient `nodes.enrol` and `push` take."""

    def __init__(self, url: str):
        import requests  # schemathesis' HTTP client, in the test extra

        self.url, self.session = url, requests.Session()

    def post(self, path: str, **kwargs):
        return self.session.post(self.url + path, timeout=60, **kwargs)

    def get(self, path: str, **kwargs):
        return self.session.get(self.url + path, timeout=60, **kwargs)


@pytest.fixture
def two_sites(monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,north")


# ---- roles ---------------------------------------------------------------------------------------


def test_only_a_lobby_kiosk_registers_tickets(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = desk.registered()  # its own device and prefix: only the role is wrong
    refused(client, storage, desk, [reg], reg, "wrong_role", "a clerk may not push ticket.registered (kiosk only)")
    assert push(client, kiosk, kiosk.registered()).status_code == 200


def test_a_kiosk_cannot_mark_a_ticket_picked_up(client, storage):
    """The issue's attack: a lobby kiosk's token marked another kiosk's ticket picked up."""
    owner, other, desk = enrol(client, storage), enrol(client, storage), enrol(client, storage, "clerk")
    reg = owner.registered()
    push(client, owner, reg)
    ticket, number = ticket_of(reg)
    for kind in ("received", "ready", "picked_up"):
        step = other.step(kind, ticket, number)
        refused(client, storage, other, [other.registered(), step], step, "wrong_role",
                f"a kiosk may not push ticket.{kind} (clerk only)")
        own = owner.step(kind, ticket, number)  # not even on its own ticket
        refused(client, storage, owner, [own], own, "wrong_role")
    assert current(storage, ticket).status == "registered"
    assert push(client, desk, desk.step("received", ticket, number)).status_code == 200


def test_kiosks_and_desks_give_ratings_and_only_a_desk_closes_followups(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    # a desk gives ratings too: its counter's pad's (一次一评, issue 21)
    assert push(client, desk, desk.feedback(1)).status_code == 200
    poor = kiosk.feedback(1)
    push(client, kiosk, poor)
    close = kiosk.closed(poor)  # the kiosk closing its own rating's follow-up
    refused(client, storage, kiosk, [kiosk.feedback(5), close], close, "wrong_role",
            "a kiosk may not push followup.closed (clerk only)")
    assert push(client, desk, desk.closed(poor)).status_code == 200


def kiosk_appeal(kiosk, rating: dict) -> dict:
    """An appeal against a rating, as only a desk may push it (kiosk/store/window_ratings.py appeal)."""
    from .nodes import event

    return event("rating.appealed", T0 + timedelta(days=9), {
        "appeal": str(uuid.uuid4()), "feedback": rating["payload"]["feedback"], "device": kiosk.uid,
        "at": (T0 + timedelta(days=9)).isoformat(), "reason": "恶意差评", "clerk": None})


def test_a_device_pushes_only_its_own_events(client, storage):
    kiosk, other = enrol(client, storage), enrol(client, storage)
    desk, other_desk = enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    theirs = other.registered()
    refused(client, storage, kiosk, [kiosk.registered(), theirs], theirs, "not_your_event")
    step = other_desk.step("received", str(uuid.uuid4()), f"{kiosk.prefix}-261124-0001")
    refused(client, storage, desk, [step], step, "not_your_event")
    rating = other.feedback(5)
    refused(client, storage, kiosk, [rating], rating, "not_your_event")


# ---- ticket uids and numbers -----------------------------------------------------------------


def test_a_number_carries_the_pushing_kiosks_prefix(client, storage):
    """The issue's attack: a registration with another kiosk's number."""
    kiosk, other = enrol(client, storage, prefix="KA"), enrol(client, storage, prefix="KB")
    reg = kiosk.registered(number="KB-261124-0001")
    refused(client, storage, kiosk, [kiosk.registered(), reg], reg, "wrong_prefix",
            "payload.ticket.number: KB-261124-0001 is not this device's (its numbers start with KA-)")
    assert push(client, other, other.registered(number="KB-261124-0001")).status_code == 200


def test_a_number_issued_again_after_a_restore_is_refused_and_the_desks_keep_pulling(client, storage):
    """The issue's attack: after `kiosk restore` a kiosk issued a number again under a new uid;
    central took it and every desk's pull then failed on UNIQUE ticket.number."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    first = kiosk.registered(number=f"{kiosk.prefix}-261124-0007")
    assert push(client, kiosk, first).status_code == 200
    again = kiosk.registered(number=f"{kiosk.prefix}-261124-0007", at=T0 + timedelta(hours=3))
    refused(client, storage, kiosk, [kiosk.registered(), again], again, "number_taken",
            f"payload.ticket.number: {kiosk.prefix}-261124-0007 is another ticket's")
    twice = [kiosk.registered(number=f"{kiosk.prefix}-261124-0008") for _ in range(2)]  # in one batch
    refused(client, storage, kiosk, twice, twice[1], "number_taken")
    new_desk = enrol(client, storage, "clerk")
    for node in (desk, new_desk):
        registered = [c["data"] for c in pull_all(client, node)[0] if c["kind"] == "ticket.registered"]
        assert registered == [first["payload"]]


def test_a_registration_cannot_take_over_a_ticket_with_an_earlier_time(client, storage):
    """The issue's attack: a second `ticket.registered` with an existing ticket uid and an
    earlier time won, and the office showed the second organisation and phone."""
    kiosk, other, desk = enrol(client, storage), enrol(client, storage), enrol(client, storage, "clerk")
    real = kiosk.registered(at=T0)
    push(client, kiosk, real)
    ticket, number = ticket_of(real)
    takeover = other.registered(ticket=ticket, at=T0 - timedelta(days=1), organisation="冒名顶替有限公司",
                                phone="13900000000")
    refused(client, storage, other, [takeover], takeover, "ticket_taken",
            f"payload.ticket.uid: ticket {ticket} was registered before by another event")
    again = kiosk.registered(ticket=ticket, at=T0 - timedelta(days=1))  # the owner too: one registration
    refused(client, storage, kiosk, [again], again, "ticket_taken")
    assert [(f.status, f.device, f.number) for f in history(storage, ticket)] == [("registered", kiosk.uid, number)]
    push(client, desk, desk.step("received", ticket, number))
    kiosks_changes = [c for c in pull_all(client, other)[0] if c["kind"] == "ticket.event"]
    assert kiosks_changes == []  # the step goes to the ticket's owner, not to the would-be owner
    assert [c["data"]["kind"] for c in pull_all(client, kiosk)[0] if c["kind"] == "ticket.event"] == ["received"]


def race(storage, running, pushers: list, batches: list[list[dict]]) -> list:
    """Both pushes held at the same moment (PostgreSQL: a lock on the feed clock, which every push
    takes last; SQLite: a write transaction), so both are in flight together. Their answers."""
    answers: list = [None, None]

    def send(i: int) -> None:
        answers[i] = push(Http(running.url), pushers[i], *batches[i])  # a connection each

    with _feed_clock_held(storage) as held:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        held.wait_for_waiters(2)
    for thread in threads:
        thread.join(60)
    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    return answers


def test_two_pushes_racing_for_one_number_or_ticket_get_one_winner_and_a_named_refusal(storage):
    """The keys of `ticket` decide, never a 5xx: a kiosk's two pushes of one number (a restored
    kiosk's queue sent twice), and two kiosks' registrations of one ticket uid, on PostgreSQL
    each waiting on the other's uncommitted key."""
    from central.server import serve_in_thread

    with serve_in_thread(storage) as running:
        kiosk, other = enrol(Http(running.url), storage), enrol(Http(running.url), storage)
        number = f"{kiosk.prefix}-261124-0042"
        batches = [[kiosk.registered(), kiosk.registered(number=number)] for _ in range(2)]
        answers = race(storage, running, [kiosk, kiosk], batches)
        loser = next(i for i, a in enumerate(answers) if a.status_code == 422)
        assert answers[loser].json()["rejected"] == [
            {"uid": batches[loser][1]["uid"], "error": f"number_taken: payload.ticket.number: {number} is another "
                                                       "ticket's"}]
        ticket = str(uuid.uuid4())
        batches = [[node.registered(ticket=ticket)] for node in (kiosk, other)]
        answers = race(storage, running, [kiosk, other], batches)
        loser = next(i for i, a in enumerate(answers) if a.status_code == 422)
        assert answers[loser].json()["rejected"][0]["error"].startswith("ticket_taken: payload.ticket.uid")
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM ticket WHERE number = ?", (number,))[0] == 1
        assert tx.one("SELECT count(*) FROM ticket WHERE uid = ?", (ticket,))[0] == 1
        assert tx.one("SELECT count(*) FROM event")[0] == 3  # the winners' batches, nothing of the losers'


class _Held:
    def __init__(self, storage, conn):
        self.storage, self.conn = storage, conn

    def wait_for_waiters(self, count: int) -> None:
        """PostgreSQL: until `count` sessions wait on this one, or on one that waits on it (the
        pushes: the first on the clock, the second on the first's number). SQLite cannot say;
        its pushes wait for the write lock (busy timeout) and then go one after the other."""
        if not self.storage.postgres:
            return
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.conn.execute("SELECT pg_stat_clear_snapshot()")  # else the transaction sees its first look
            waiting = self.conn.execute(
                "WITH RECURSIVE blocked (pid) AS ("
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)) UNION "
                "SELECT a.pid FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid))) "
                "SELECT count(*) FROM blocked", (self.conn.info.backend_pid,)).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.02)  # polling the server's lock table, not waiting for time to pass
        raise AssertionError("the pushes never waited on each other")


class _feed_clock_held:
    """A second connection holding the feed clock's row (every push writes it last)."""

    def __init__(self, storage):
        self.storage = storage

    def __enter__(self) -> _Held:
        if self.storage.postgres:
            import psycopg

            self.conn = psycopg.connect(self.storage.url, autocommit=True, application_name="holder")
            self.conn.execute("BEGIN")
        else:
            import sqlite3

            self.conn = sqlite3.connect(self.storage.path, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE feed_clock SET seq = seq WHERE id = 1")
        return _Held(self.storage, self.conn)

    def __exit__(self, *exc) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


# ---- sites --------------------------------------------------------------------------------------


def test_steps_and_ratings_stay_in_the_tickets_site(client, storage, two_sites):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    far_kiosk, far_desk = enrol(client, storage, site="north"), enrol(client, storage, "clerk", site="north")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    step = far_desk.step("received", ticket, number)
    refused(client, storage, far_desk, [step], step, "other_site",
            "payload.ticket: the ticket is of site main; this device serves north")
    rating = far_kiosk.feedback(1, ticket=ticket, number=number)
    refused(client, storage, far_kiosk, [far_kiosk.feedback(5), rating], rating, "other_site")
    # A ticket central does not know yet (taken in from its code while its kiosk was offline): taken.
    unknown = far_desk.step("received", str(uuid.uuid4()), f"{far_kiosk.prefix}-261124-0001")
    assert push(client, far_desk, unknown).status_code == 200
    # ... judged by its number: another site's kiosk's, or no enrolled kiosk's (a made-up ticket).
    elsewhere = far_desk.step("received", str(uuid.uuid4()), f"{kiosk.prefix}-261124-0002")
    refused(client, storage, far_desk, [elsewhere], elsewhere, "other_site", "the ticket is of site main")
    made_up = desk.step("picked_up", str(uuid.uuid4()), "ZZZ-261124-0001")
    refused(client, storage, desk, [made_up], made_up, "unknown_ticket", "no enrolled kiosk's")
    rating = far_kiosk.feedback(1, ticket=str(uuid.uuid4()), number=f"{kiosk.prefix}-261124-0003")
    refused(client, storage, far_kiosk, [rating], rating, "other_site")
    assert push(client, desk, desk.step("received", ticket, number)).status_code == 200
    assert push(client, kiosk, kiosk.feedback(5, ticket=ticket, number=number)).status_code == 200


# ---- follow-ups and ratings ------------------------------------------------------------------------


def test_a_followup_is_closed_only_if_central_knows_it_by_a_desk_of_its_site(client, storage, two_sites):
    """The issue's attack: a kiosk closed another kiosk's follow-up in someone else's name."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    far_desk = enrol(client, storage, "clerk", site="north")
    poor = kiosk.feedback(1)
    push(client, kiosk, poor)
    made_up = desk.closed(poor)
    made_up["payload"]["followup"] = str(uuid.uuid4())
    refused(client, storage, desk, [made_up], made_up, "no_followup", "payload.followup: central has no follow-up")
    mismatched = desk.closed(poor)  # the follow-up's uid with another rating's
    mismatched["payload"]["feedback"] = str(uuid.uuid4())
    refused(client, storage, desk, [mismatched], mismatched, "no_followup")
    elsewhere = far_desk.closed(poor)
    refused(client, storage, far_desk, [elsewhere], elsewhere, "other_site",
            "payload.followup: the rating was given at site main; this device serves north")
    assert push(client, desk, desk.closed(poor)).status_code == 200


def test_the_first_close_received_counts_not_the_earliest_dated(client, storage):
    from central.followups import followups

    kiosk, desk, other_desk = enrol(client, storage), enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    poor = kiosk.feedback(1, due_on="2026-12-23")
    push(client, kiosk, poor)
    real = desk.closed(poor, at=T0 + timedelta(days=9), note="已回电，客户满意")
    push(client, desk, real)
    backdated = other_desk.closed(poor, at=T0 + timedelta(days=8, hours=12), note="伪造的记录")
    assert push(client, other_desk, backdated).status_code == 200  # stored (both happened), counts for nothing
    closed = followups(storage)["closed"]
    assert [(f["closed"]["note"], f["closed"]["event"]) for f in closed] == [("已回电，客户满意", real["uid"])]


def test_a_backdated_rating_does_not_replace_the_first_received(client, storage):
    """The issue's attack: a backdated rating replaced the real one for the same ticket."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    push(client, desk, desk.step("picked_up", ticket, number))
    push(client, kiosk, kiosk.feedback(5, at=T0 + timedelta(days=8), ticket=ticket, number=number))
    backdated = kiosk.feedback(1, at=T0 + timedelta(days=2), ticket=ticket, number=number)
    assert push(client, kiosk, backdated).status_code == 200
    assert [(r.rating, r.number) for r in ratings(storage)] == [(5, number)]


# ---- event uids, unknown fields, clocks -------------------------------------------------------------


def test_an_event_uid_another_device_pushed_is_refused(client, storage):
    """The issue's attack: a different event reusing another device's uid was acknowledged and dropped."""
    kiosk, other = enrol(client, storage), enrol(client, storage)
    mine = kiosk.registered()
    push(client, kiosk, mine)
    reused = other.registered()
    reused["uid"] = mine["uid"]
    refused(client, storage, other, [other.registered(), reused], reused, "uid_taken",
            "uid: another device pushed an event with this uid")
    assert push(client, kiosk, mine).json() == {"acked": [mine["uid"]]}  # its own repeat: acked, applied once
    assert stored(storage)[0] == 1


def test_unknown_payload_fields_are_refused_by_name(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    cases = {
        "payload.quota_filler": (kiosk, kiosk.registered, lambda p: p.update(quota_filler="x" * 1000)),
        "payload.ticket.owner": (kiosk, kiosk.registered, lambda p: p["ticket"].update(owner="someone")),
        "payload.lines[0].discount": (kiosk, kiosk.registered, lambda p: p["lines"][0].update(discount=100)),
        "payload.clerk.role": (desk, lambda: desk.step("received", ticket, number),
                               lambda p: p["clerk"].update(role="admin")),
        "payload.steps[...].name": (kiosk, lambda: kiosk.feedback(5),
                                        lambda p: p.update(steps={"received": {"device": None, "name": "x"}})),
    }
    for where, (node, make, spoil) in cases.items():
        bad = make()
        spoil(bad["payload"])
        refused(client, storage, node, [bad], bad, "invalid", f"{where}: unknown field")


def test_device_clocks_before_2020_are_refused_and_far_ahead_are_stored_as_received(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    old = kiosk.registered()
    old["created_at"] = "2019-12-31T23:59:00+00:00"
    refused(client, storage, kiosk, [old], old, "bad_clock", "created_at: 2019-12-31T23:59:00+00:00 is before "
                                                             "2020-01-01: the device's clock is wrong")
    year_2000 = kiosk.feedback(5)
    year_2000["payload"]["at"] = "2000-01-01T00:00:00+00:00"
    refused(client, storage, kiosk, [year_2000], year_2000, "bad_clock", "payload.at: 2000-01-01")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    before = utc_now()
    ahead = desk.step("picked_up", ticket, number, at=before + timedelta(days=365 * 900))  # the year 2926
    assert push(client, desk, ahead).status_code == 200
    after = utc_now()
    picked = [f for f in history(storage, ticket) if f.status == "picked_up"]
    assert len(picked) == 1 and before <= picked[0].at <= after  # stored as when central received it
    assert current(storage, ticket).since == picked[0].at
    desks = [c["data"] for c in pull_all(client, enrol(client, storage, "clerk"))[0] if c["kind"] == "ticket.event"]
    assert desks[0]["at"] == ahead["payload"]["at"]  # the payload stays as sent
    near = desk.step("ready", ticket, number, at=utc_now() + timedelta(minutes=5))  # within the window: kept
    push(client, desk, near)
    assert [f.at for f in history(storage, ticket) if f.status == "ready"] == [
        datetime.fromisoformat(near["created_at"])]


# ---- the adversary, over real HTTP ---------------------------------------------------------------


def test_an_adversary_with_a_valid_token_of_each_role_is_refused_over_http(storage, two_sites):
    """Real uvicorn; a lobby kiosk, a clerk desk (each of the other site too) and the office, each
    with its own valid token, try every write of issue 17 their role should not make."""
    from central.auth import rotate_office_token
    from central.server import serve_in_thread

    with serve_in_thread(storage) as running:
        http = Http(running.url)
        kiosk, victim = enrol(http, storage), enrol(http, storage)
        desk, far_desk = enrol(http, storage, "clerk"), enrol(http, storage, "clerk", site="north")
        far_kiosk = enrol(http, storage, site="north")
        office = rotate_office_token(storage)
        reg = victim.registered()
        poor = victim.feedback(1)
        assert push(http, victim, reg, poor).status_code == 200
        ticket, number = ticket_of(reg)
        reused = kiosk.registered()
        reused["uid"] = reg["uid"]
        unknown = kiosk.registered()
        unknown["payload"]["ticket"]["paid"] = True
        stale = kiosk.registered()
        stale["created_at"] = "2000-01-01T00:00:00+00:00"
        not_pushed = kiosk.feedback(1)
        attacks = {
            "a kiosk marks another kiosk's ticket picked up": (kiosk, kiosk.step("picked_up", ticket, number)),
            "a kiosk pushes a step in the owner's name": (kiosk, victim.step("picked_up", ticket, number)),
            "a kiosk registers another kiosk's number": (kiosk, kiosk.registered(number=number)),
            "a restored kiosk reissues its number": (victim, victim.registered(number=number)),
            "a kiosk takes over a ticket with an earlier time": (
                kiosk, kiosk.registered(ticket=ticket, at=T0 - timedelta(days=3))),
            "a kiosk closes another kiosk's follow-up": (kiosk, kiosk.closed(poor)),
            "a desk registers a ticket": (desk, desk.registered()),
            "a kiosk appeals a rating": (kiosk, kiosk_appeal(kiosk, poor)),
            "a desk closes a follow-up central does not know": (desk, desk.closed(not_pushed)),
            "a desk of another site takes a step": (far_desk, far_desk.step("received", ticket, number)),
            "a desk of another site closes a follow-up": (far_desk, far_desk.closed(poor)),
            "a kiosk of another site rates the ticket": (far_kiosk, far_kiosk.feedback(1, ticket=ticket,
                                                                                        number=number)),
            "a kiosk reuses another device's event uid": (kiosk, reused),
            "a kiosk adds a field": (kiosk, unknown),
            "a kiosk's clock says 2000": (kiosk, stale),
        }
        expected = {
            "a kiosk marks another kiosk's ticket picked up": "wrong_role",
            "a kiosk pushes a step in the owner's name": "wrong_role",
            "a kiosk registers another kiosk's number": "wrong_prefix",
            "a restored kiosk reissues its number": "number_taken",
            "a kiosk takes over a ticket with an earlier time": "ticket_taken",
            "a kiosk closes another kiosk's follow-up": "wrong_role",
            "a desk registers a ticket": "wrong_role",
            "a kiosk appeals a rating": "wrong_role",
            "a desk closes a follow-up central does not know": "no_followup",
            "a desk of another site takes a step": "other_site",
            "a desk of another site closes a follow-up": "other_site",
            "a kiosk of another site rates the ticket": "other_site",
            "a kiosk reuses another device's event uid": "uid_taken",
            "a kiosk adds a field": "invalid",
            "a kiosk's clock says 2000": "bad_clock",
        }
        answers = {}
        for name, (node, attack) in attacks.items():
            got = push(http, node, attack)
            answers[name] = (got.status_code, got.json()["rejected"][0]["error"].split(":")[0]
                             if got.status_code == 422 else got.text)
        assert answers == {name: (422, word) for name, word in expected.items()}
        office_push = http.post("/api/v1/events", json={"events": [kiosk.registered()]},
                                headers={"Authorization": f"Bearer {office}"})
        assert office_push.status_code == 401  # the office token pushes nothing
        before = stored(storage)
        assert before[0] == 2  # the victim's registration and rating, nothing else
        assert current(storage, ticket).status == "registered"


def test_an_adversary_with_a_valid_token_of_each_role_reads_and_enrols_only_what_its_role_may_over_http(
        storage, two_sites):
    """Real uvicorn: the reading half of issue 17's attacks. Another kiosk and another site's desk
    page the whole feed from 0 and find neither the customer's phone nor the ticket's steps; a
    device token opens no back-office data; the victim's uid, prefix and public key, read from
    the feed, enrol nobody as it; a revoked device reads and writes nothing."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from central.devices import add_device, revoke
    from central.server import serve_in_thread

    from .nodes import signed_enrolment

    with serve_in_thread(storage) as running:
        http = Http(running.url)
        victim, kiosk, desk = enrol(http, storage), enrol(http, storage), enrol(http, storage, "clerk")
        far_desk = enrol(http, storage, "clerk", site="north")
        reg = victim.registered(phone="13987654321")
        ticket, number = ticket_of(reg)
        assert push(http, victim, reg, victim.feedback(1, ticket=ticket, number=number, phone="13700001111"))\
            .status_code == 200
        assert push(http, desk, desk.step("received", ticket, number)).status_code == 200

        def feed_text(node) -> str:
            return repr(pull_all(http, node)[0])

        own_site = feed_text(desk)
        assert "13987654321" in own_site and "13700001111" in own_site  # the desk that needs them has them
        for node in (kiosk, far_desk):
            seen = feed_text(node)
            assert "13987654321" not in seen and "13700001111" not in seen and ticket not in seen
        for node in (victim, kiosk, desk):  # a device token is no back-office session
            for path in ("/api/v1/office/followups", "/api/v1/office/due", "/api/v1/office/tickets"):
                got = http.get(path, headers=node.headers)
                assert (got.status_code, got.json()["error"]) == (401, "bad_token"), (path, got.text)

        known = next(c["data"] for c in pull_all(http, desk)[0]
                     if c["kind"] == "device.key" and c["data"]["device_uid"] == victim.uid)
        code, own_key = add_device(storage, "clerk"), Ed25519PrivateKey.generate()
        as_victim = signed_enrolment(code, known["device_uid"], known["prefix"], own_key)
        got = http.post("/api/v1/enroll", json=as_victim | {"public_key": known["public_key"]})
        assert (got.status_code, got.json()["error"]) == (403, "bad_proof")
        got = http.post("/api/v1/enroll", json=as_victim)
        assert (got.status_code, got.json()["error"]) == (409, "key_changed")
        assert push(http, victim, victim.registered()).status_code == 200  # the real one keeps working

        assert revoke(storage, kiosk.uid)
        for got in (push(http, kiosk, kiosk.registered()), http.get("/api/v1/changes", headers=kiosk.headers)):
            assert (got.status_code, got.json()["error"]) == (401, "bad_token")
