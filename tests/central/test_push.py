"""Push: a batch is validated whole, applied at most once per event, in one transaction."""

from __future__ import annotations

import json
import uuid

from central.devices import revoke

from .nodes import T0, enrol, event, pull_all, push


def count(storage, table: str) -> int:
    with storage.read() as tx:
        if table == "ticket":
            return tx.one("SELECT count(DISTINCT ticket) FROM event")[0]
        return tx.one(f"SELECT count(*) FROM {table}")[0]


def test_a_batch_is_acked_and_applied_once_however_often_it_is_sent(client, storage):
    kiosk = enrol(client, storage)
    batch = [kiosk.registered() for _ in range(3)]
    first = push(client, kiosk, *batch)
    assert first.status_code == 200, first.text
    assert first.json() == {"acked": [e["uid"] for e in batch]}
    for _ in range(2):  # a lost response: the device sends the same batch again
        again = push(client, kiosk, *batch)
        assert again.json() == {"acked": [e["uid"] for e in batch]}
    assert (count(storage, "event"), count(storage, "ticket")) == (3, 3)
    desk = enrol(client, storage, "clerk")
    published = [c for c in pull_all(client, desk)[0] if c["kind"] == "ticket.registered"]
    assert [c["data"]["ticket"]["uid"] for c in published] == [e["payload"]["ticket"]["uid"] for e in batch]


def test_a_repeat_inside_a_batch_is_acked_twice_and_stored_once(client, storage):
    kiosk = enrol(client, storage)
    one = kiosk.registered()
    got = push(client, kiosk, one, kiosk.registered(), one)
    assert got.status_code == 200 and got.json()["acked"][0] == got.json()["acked"][2] == one["uid"]
    assert count(storage, "event") == 2


def test_a_bad_event_is_named_nothing_is_applied_and_the_rest_goes_through_when_resent(client, storage):
    kiosk = enrol(client, storage)
    good = [kiosk.registered() for _ in range(3)]
    bad = kiosk.registered()
    bad["payload"]["ticket"]["uid"] = "not-a-uuid"
    strange = event("ticket.teleported", T0, {"device": kiosk.uid})
    got = push(client, kiosk, good[0], bad, good[1], strange, good[2])
    assert got.status_code == 422
    body = got.json()
    assert [r["uid"] for r in body["rejected"]] == [bad["uid"], strange["uid"]]
    assert body["rejected"][0]["error"].startswith("invalid: payload.ticket.uid")
    assert body["rejected"][1]["error"].startswith("unknown_kind")
    assert "nothing was applied" in body["detail"]
    assert (count(storage, "event"), count(storage, "ticket")) == (0, 0)
    # The device parks the two and sends the rest.
    again = push(client, kiosk, *good)
    assert again.status_code == 200 and again.json()["acked"] == [e["uid"] for e in good]
    assert count(storage, "event") == 3


def test_a_device_may_only_push_its_own_events(client, storage):
    kiosk, other = enrol(client, storage), enrol(client, storage)
    theirs = other.registered()
    got = push(client, kiosk, kiosk.registered(), theirs)
    assert got.status_code == 422
    assert got.json()["rejected"] == [{"uid": theirs["uid"], "error": "not_your_event: the event belongs to another "
                                                                      "device"}]
    desk = enrol(client, storage, "clerk")
    step = kiosk.step("received", theirs["payload"]["ticket"]["uid"], theirs["payload"]["ticket"]["number"])
    assert push(client, desk, step).json()["rejected"][0]["error"].startswith("not_your_event")
    assert count(storage, "event") == 0


def test_bad_fields_are_named(client, storage):
    kiosk = enrol(client, storage)
    cases = {
        "created_at: not an ISO-8601 time with a UTC offset": lambda e: e.update(created_at="2026-11-24T09:30:00"),
        "created_at: not an ISO-8601": lambda e: e.update(created_at="2026-11-24 09:30+08:00"),  # as the schema says
        "uid: 1–64": lambda e: e.update(uid="x" * 65),
        "payload.customer.organisation: expected text, not blank":
            lambda e: e["payload"]["customer"].update(organisation=" "),
        "payload.lines: Expected `array` of length >= 1": lambda e: e["payload"].update(lines=[]),
        "payload.lines[0].quantity: Expected `int` >= 1": lambda e: e["payload"]["lines"][0].update(quantity=0),
        "payload.ticket.number: expected a ticket number like": lambda e: e["payload"]["ticket"].update(number="X"),
        "payload.ticket.created_at: Invalid RFC3339": lambda e: e["payload"]["ticket"].update(created_at="today"),
        "payload.ticket.device: expected a UUID": lambda e: e["payload"]["ticket"].update(device="K1"),
        "payload: Expected `object`, got `array`": lambda e: e.update(payload=[1]),
        "payload.customer.phone: contains control": lambda e: e["payload"]["customer"].update(phone="1\n2"),
    }
    for expected, spoil in cases.items():
        bad = kiosk.registered()
        spoil(bad)
        got = push(client, kiosk, bad)
        assert got.status_code == 422, expected
        assert expected in got.json()["rejected"][0]["error"], got.json()


def test_a_malformed_body_is_a_422_without_rejected(client, storage):
    kiosk = enrol(client, storage)
    for body in (b"not json", b"{}", b'{"events": []}', b'{"events": "x"}', b'{"events": [{"uid": 1}]}',
                 json.dumps({"events": [kiosk.registered() for _ in range(501)]}).encode()):
        got = client.post("/api/v1/events", content=body, headers={**kiosk.headers,
                                                                   "Content-Type": "application/json"})
        assert got.status_code == 422, body[:40]
        assert "rejected" not in got.json()
    assert count(storage, "event") == 0


def test_an_oversized_body_is_a_413(client, storage):
    kiosk = enrol(client, storage)
    got = client.post("/api/v1/events", content=b"x" * (16 * 1024 * 1024 + 1),
                      headers={**kiosk.headers, "Content-Type": "application/json"})
    assert got.status_code == 413


def test_no_token_a_wrong_one_or_a_revoked_device_is_a_401(client, storage):
    kiosk = enrol(client, storage)
    one = kiosk.registered()
    assert client.post("/api/v1/events", json={"events": [one]}).status_code == 401
    for header in ("Bearer nope", "Basic abc", "Bearer", kiosk.token):
        got = client.post("/api/v1/events", json={"events": [one]}, headers={"Authorization": header})
        assert got.status_code == 401 and got.headers["WWW-Authenticate"] == "Bearer"
    assert push(client, kiosk, one).status_code == 200
    assert revoke(storage, kiosk.uid)
    assert push(client, kiosk, kiosk.registered()).status_code == 401
    assert client.get("/api/v1/changes", headers=kiosk.headers).status_code == 401
    assert not revoke(storage, kiosk.uid)  # already revoked


def test_a_push_in_flight_when_its_device_is_revoked_stores_nothing(client, storage):
    """The token is checked before the push's transaction; a revocation in between (the
    operator voiding a stolen device's events) must not let that push land after the voiding."""
    from central import ingest
    from central.tokens import authenticate

    kiosk = enrol(client, storage)
    checked_before = authenticate(storage, kiosk.token)
    events, _ = ingest.validate(checked_before, ingest.parse_batch(json.dumps({"events": [kiosk.registered()]})
                                                                   .encode()))
    assert revoke(storage, kiosk.uid)
    try:
        ingest.apply(storage, checked_before, events)
        raise AssertionError("applied for a revoked device")
    except ingest.Revoked:
        pass
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM event")[0] == 0


def test_every_authenticated_call_records_when_the_device_was_last_seen(client, storage):
    kiosk = enrol(client, storage)

    def seen():
        with storage.read() as tx:
            return tx.one("SELECT last_seen_at, last_push_at, last_pull_at FROM device WHERE uid = ?", (kiosk.uid,))

    assert seen() == (None, None, None)
    push(client, kiosk, kiosk.registered())
    seen_at, push_at, pull_at = seen()
    assert seen_at is not None and push_at is not None and pull_at is None
    pull_all(client, kiosk)
    assert seen()[2] is not None


def test_health_needs_no_token(client):
    assert client.get("/api/v1/health").json() == {"ok": True}


def raw_push(client, node, events_json: str):
    return client.post("/api/v1/events", content=('{"events":[' + events_json + "]}").encode("utf-8", "surrogatepass"),
                       headers={**node.headers, "Content-Type": "application/json"})


def test_control_characters_anywhere_in_a_payload_are_refused_and_lookalikes_are_not(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    refused = {"a field": (kiosk, lambda p: p["customer"].update(address="a\tb")),
               "in a list": (kiosk, lambda p: p["lines"][0].update(model="x\u0001y")),
               "deep down": (desk, lambda p: p.update(estimate={"list": ["ok", {"x": "x\u0001y"}]})),
               "a key": (desk, lambda p: p.update(estimate={"k\u0007": 1})),
               "a raw DEL": (kiosk, lambda p: p["customer"].update(contact="del\u007f")),
               # what every device refuses as typed (kiosk/domain/validation.py hidden): a name that
               # reads backwards on the next desk's screen, a zero-width space, a C1 control
               "right-to-left": (kiosk, lambda p: p["customer"].update(organisation="示范\u202e司公")),
               "zero width": (desk, lambda p: p.update(clerk={"username": "a\u200bb", "name": "王"})),
               "a C1 control": (kiosk, lambda p: p["lines"][0].update(serial_number="A\u009b1"))}
    for where, (node, spoil) in refused.items():
        bad = node.registered() if node is kiosk else node.step("received", str(uuid.uuid4()), "X-261124-0001")
        spoil(bad["payload"])
        got = push(client, node, bad)
        assert got.status_code == 422 and "contains control characters" in got.json()["rejected"][0]["error"], where
    fine = kiosk.registered()
    fine["payload"]["customer"]["address"] = "C:\\new\\table 中文 \u2028 \"quoted\""  # a backslash, then n
    assert push(client, kiosk, fine).status_code == 200
    ticket = fine["payload"]["ticket"]
    worded = desk.step("received", ticket["uid"], ticket["number"])  # the catalogue's wording, typed by no device
    worded["payload"]["estimate"] = {"lines": [{"name": "压力表\u00ad（精密）"}]}
    got = push(client, desk, worded)
    assert got.status_code == 200, got.text


def test_text_the_database_would_choke_on_is_refused_by_uid_not_with_a_500(client, storage):
    kiosk = enrol(client, storage)
    good = kiosk.registered()
    body = json.dumps(good, ensure_ascii=False)
    nul = body.replace('"李工"', '"\\u0000"')  # PostgreSQL's jsonb refuses \u0000
    assert "\\u0000" in nul
    got = raw_push(client, kiosk, nul)
    assert got.status_code == 422 and got.json()["rejected"][0]["uid"] == good["uid"]
    surrogate = body.replace('"李工"', '"\\ud800"')  # a lone surrogate: not text at all
    got = raw_push(client, kiosk, surrogate)
    assert got.status_code == 422
    not_utf8 = client.post("/api/v1/events",
                           content=b'{"events":[' + body.encode().replace("李工".encode(), b"\xff\xfe") + b"]}",
                           headers={**kiosk.headers, "Content-Type": "application/json"})
    assert not_utf8.status_code == 422
    nan = body.replace('"total_fen": 12000', '"total_fen": NaN')
    assert raw_push(client, kiosk, nan).status_code == 422
    deep = body.replace('"李工"', "[" * 2000 + "]" * 2000)
    assert raw_push(client, kiosk, deep).status_code == 422
    assert count(storage, "event") == 0
    assert raw_push(client, kiosk, body).status_code == 200


def test_a_payload_is_stored_and_relayed_as_sent(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    reg["payload"]["customer"]["address"] = "贵阳市 \u2028 \"quoted\" C:\\new"
    push(client, kiosk, reg)
    step = desk.step("received", reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"])
    step["payload"]["estimate"] = {"nested": [1, 2.5, None, True], "文字": "保留"}  # a free-form field
    push(client, desk, step)
    changes, _ = pull_all(client, enrol(client, storage, "clerk"))
    assert [c["data"] for c in changes if c["kind"] == "ticket.registered"] == [reg["payload"]]
    assert [c["data"] for c in changes if c["kind"] == "ticket.event"] == [step["payload"] | {"kind": "received"}]


def test_content_type_must_be_json(client, storage):
    kiosk = enrol(client, storage)
    got = client.post("/api/v1/events", content=json.dumps({"events": [kiosk.registered()]}),
                      headers={**kiosk.headers, "Content-Type": "text/plain"})
    assert got.status_code == 422


def test_an_oversized_chunked_body_is_a_413_too(client, storage):
    kiosk = enrol(client, storage)

    def chunks():
        for _ in range(17):
            yield b" " * (1024 * 1024)

    got = client.post("/api/v1/events", content=chunks(), headers={**kiosk.headers, "Content-Type": "application/json"})
    assert got.status_code == 413
