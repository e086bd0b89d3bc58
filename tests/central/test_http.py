"""Over real HTTP on loopback: uvicorn in a thread (SQLite and PostgreSQL), and
`kiosk central serve --workers 2` as its own process on PostgreSQL."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from central.devices import add_device
from central.server import serve_in_thread

from .nodes import Node, signed_enrolment


def call(url: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def round_trip(url: str, kiosk_code: str, clerk_code: str) -> None:
    """Enrol a kiosk and a desk, push, repeat, pull: the whole protocol once."""
    nodes = []
    for code, prefix in ((kiosk_code, "H1"), (clerk_code, "H2")):
        enrolment = signed_enrolment(code, str(uuid.uuid4()), prefix)
        status, got = call(url, "/api/v1/enroll", enrolment)
        assert status == 200, got
        nodes.append(Node(enrolment["device_uid"], prefix, got["role"], got["token"], enrolment["public_key"]))
    kiosk, desk = nodes
    batch = [kiosk.registered() for _ in range(20)]
    for _ in range(2):
        status, got = call(url, "/api/v1/events", {"events": batch}, kiosk.token)
        assert status == 200 and got["acked"] == [e["uid"] for e in batch]
    status, got = call(url, "/api/v1/changes?after=0&limit=7", token=desk.token)
    assert status == 200 and got["more"] and len(got["changes"]) == 7
    seen, cursor = got["changes"], got["next"]
    while True:
        status, got = call(url, f"/api/v1/changes?after={cursor}&limit=7", token=desk.token)
        seen, cursor = seen + got["changes"], got["next"]
        if not got["more"]:
            break
    assert [c["kind"] for c in seen].count("ticket.registered") == 20
    assert call(url, "/api/v1/health") == (200, {"ok": True})
    assert call(url, "/api/v1/events", {"events": batch}, "wrong")[0] == 401


def test_the_protocol_over_real_http(storage):
    with serve_in_thread(storage) as server:
        round_trip(server.url, add_device(storage, "kiosk"), add_device(storage, "clerk"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("log", [None, "json"])
def test_kiosk_central_serve_with_two_workers_on_postgresql(pg_schema_url, tmp_path, log):
    """With `--log json` (what the journal gets under systemd), uvicorn's own lines, in the
    main process and in each worker, are JSON too: the access log included."""
    from central.schema import open_storage

    storage = open_storage(pg_schema_url)
    codes = add_device(storage, "kiosk"), add_device(storage, "clerk")
    storage.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg_schema_url, "KIOSK_DATA_DIR": str(tmp_path)}
    env.pop("KIOSK_LOG", None)
    logging = ["--log", log] if log else []
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", *logging, "central", "serve", "--port", str(port),
                             "--workers", "2", "--log-level", "info"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    entries: list[dict] = []

    def message(line: str) -> str:
        if not log:
            return line
        entry = json.loads(line)  # every line: not JSON fails the test
        entries.append(entry)
        return entry["message"]

    try:
        bound, ready = False, 0
        for line in proc.stderr:  # uvicorn says when it listens and each worker is ready: no polling
            text = message(line)
            bound = bound or "Uvicorn running on" in text
            ready += "Application startup complete" in text
            if bound and ready == 2:
                break
        assert bound and ready == 2, "the workers did not start"
        rest = threading.Thread(target=lambda: [message(line) for line in proc.stderr], daemon=True)
        rest.start()  # keep the pipe from filling up
        round_trip(f"http://127.0.0.1:{port}", *codes)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if proc.returncode not in (0, -15):
        pytest.fail(f"serve exited with {proc.returncode}")
    if log:
        rest.join(timeout=30)
        access = [e for e in entries if e["logger"] == "uvicorn.access"]
        assert any("/api/v1/events" in e["message"] and "200" in e["message"] for e in access), entries
        assert {e["logger"] for e in entries} >= {"uvicorn.error", "uvicorn.access"}


def test_the_back_office_on_its_own_port_runs_in_its_own_process_at_a_lower_priority(pg_schema_url, tmp_path):
    """`kiosk central serve --office-port`: the devices' port serves the devices only and sends
    a person opening an office page to the office's port (a redirect) and the office's API
    callers a 404 saying where; the office's process is niced; stopping serve stops both."""
    import http.client

    from central.schema import open_storage

    storage = open_storage(pg_schema_url)
    codes = add_device(storage, "kiosk"), add_device(storage, "clerk")
    storage.close()
    port, office_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": pg_schema_url, "KIOSK_DATA_DIR": str(tmp_path)}
    env.pop("KIOSK_LOG", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--port", str(port),
                             "--office-port", str(office_port), "--log-level", "info"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        bound, ready = 0, 0
        for line in proc.stderr:  # both processes write here: each says when it listens and is ready
            bound += "Uvicorn running on" in line
            ready += "Application startup complete" in line
            if bound == ready == 2:
                break
        assert bound == ready == 2, "the two processes did not start"
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        round_trip(f"http://127.0.0.1:{port}", *codes)  # the devices are served as before

        def get(at: int, path: str) -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection("127.0.0.1", at, timeout=30)
            conn.request("GET", path)
            return conn.getresponse()

        sent = get(port, "/office/due?within=30d")
        assert sent.status == 307 and sent.getheader("Location") == f"http://127.0.0.1:{office_port}/office/due?within=30d"
        api = get(port, "/api/v1/office/summary")
        assert api.status == 404 and json.loads(api.read())["error"] == "office_elsewhere"
        assert get(office_port, "/office").status in (200, 303)  # the sign-in page, or sent to it
        assert get(office_port, "/api/v1/office/summary").status == 401  # the office's API, asking who
        assert get(office_port, "/api/v1/health").status == 404  # no device is served there
        children = subprocess.run(["ps", "-o", "pid=,ni=", "--ppid", str(proc.pid)], capture_output=True,
                                  text=True, check=True).stdout.split()
        office_pid, office_nice = int(children[0]), int(children[1])
        own = subprocess.run(["ps", "-o", "ni=", "-p", str(proc.pid)], capture_output=True, text=True, check=True)
        assert office_nice == int(own.stdout) + 10
        office_ends = os.pidfd_open(office_pid)  # readable once that process has ended
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    waiting = select.poll()
    waiting.register(office_ends, select.POLLIN)
    assert waiting.poll(30_000), "the office's process outlived serve"  # sent SIGTERM as its parent ended
