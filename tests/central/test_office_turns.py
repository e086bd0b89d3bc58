"""Back-office requests take turns in a worker (central/api/limits.py Lanes: OFFICE_AT_ONCE), so
report users never hold the worker's Python from the devices' pushes; a device's request never
waits for a turn. bench/office_load.py measures what it is for."""

from __future__ import annotations

import asyncio

from central.api.limits import Lanes, office_at_once
from central.storage import OFFICE, _asking


def test_office_requests_take_turns_and_device_requests_pass_them():
    async def scenario():
        started: list[str] = []
        release = {name: asyncio.Event() for name in ("report 1", "report 2", "push")}

        async def app(scope, receive, send):
            started.append(f"{scope['name']} ({_asking.get().name})")
            await release[scope["name"]].wait()

        lanes = Lanes(app, at_once=1)

        def request(name: str, path: str):
            return asyncio.create_task(lanes({"type": "http", "path": path, "name": name}, None, None))

        first = request("report 1", "/office/satisfaction")
        second = request("report 2", "/api/v1/office/summary")
        push = request("push", "/api/v1/events")
        await asyncio.sleep(0)  # one turn of the loop: everything that may start has started
        assert started == ["report 1 (office)", "push (device)"]
        release["push"].set()
        await push
        release["report 1"].set()
        await first
        await asyncio.sleep(0)
        assert started[-1] == "report 2 (office)"
        release["report 2"].set()
        await second

    asyncio.run(scenario())


def test_a_request_that_waits_too_long_for_its_turn_is_told_to_retry(monkeypatch):
    """As long as a page may wait for a database connection (the office lane's wait), then 503."""
    from dataclasses import replace

    import central.api.limits

    monkeypatch.setattr(central.api.limits, "OFFICE", replace(OFFICE, wait=0.01))

    async def scenario():
        hold = asyncio.Event()
        sent: list[dict] = []

        async def app(scope, receive, send):
            await hold.wait()

        async def send(message):
            sent.append(message)

        lanes = Lanes(app, at_once=1)
        first = asyncio.create_task(lanes({"type": "http", "path": "/office"}, None, send))
        await asyncio.sleep(0)
        await lanes({"type": "http", "path": "/api/v1/office/due"}, None, send)
        assert sent[0]["status"] == 503 and (b"retry-after", b"2") in sent[0]["headers"]
        assert b'"error": "busy"' in sent[1]["body"]
        await lanes({"type": "http", "path": "/office/due"}, None, send)  # a person reads it: a page, in words
        assert sent[2]["status"] == 503 and (b"content-type", b"text/html; charset=utf-8") in sent[2]["headers"]
        assert "后台正忙" in sent[3]["body"].decode() and "busy" in sent[3]["body"].decode()
        hold.set()
        await first

    asyncio.run(scenario())


def test_the_number_of_turns_is_a_setting(monkeypatch):
    assert office_at_once() == 1
    monkeypatch.setenv("CENTRAL_OFFICE_AT_ONCE", "3")
    assert office_at_once() == 3
    monkeypatch.setenv("CENTRAL_OFFICE_AT_ONCE", "0")  # no limit
    assert Lanes(None).office_turns is None
