"""`kiosk central serve --public-port`: the public site in a process of its own, the only thing on
its port (no back office, no device API, no API description), the main port sending /public/ there;
stopping serve stops it."""

from __future__ import annotations

import http.client
import os
import select
import subprocess
import sys
import threading

from .test_http import free_port


def _get(port: int, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path)
    return conn.getresponse()


def test_the_public_site_on_its_own_port_serves_nothing_else(tmp_path):
    port, public_port = free_port(), free_port()
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path)}
    env.pop("KIOSK_LOG", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--db", str(tmp_path / "c.sqlite3"),
                             "--port", str(port), "--public-port", str(public_port), "--log-level", "info"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        bound = ready = 0
        for line in proc.stderr:  # both processes say when they listen and are ready: no polling
            bound += "Uvicorn running on" in line
            ready += "Application startup complete" in line
            if bound == ready == 2:
                break
        assert bound == ready == 2, "the two processes did not start"
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        home = _get(public_port, "/")
        assert home.status == 303 and home.getheader("Location") == "/public/"
        page = _get(public_port, "/public/fees")
        assert page.status == 200 and "default-src 'none'" in page.getheader("Content-Security-Policy")
        for path in ("/office", "/api/v1/health", "/api/v1/changes", "/openapi.json", "/docs"):
            assert _get(public_port, path).status == 404, path
        assert _get(public_port, "/api/v1/events", "POST").status == 404
        sent = _get(port, "/public/estimate?add=L-001-001")
        assert sent.status == 307
        assert sent.getheader("Location") == f"http://127.0.0.1:{public_port}/public/estimate?add=L-001-001"
        assert _get(port, "/api/v1/health").status == 200  # the devices' port as before
        children = subprocess.run(["ps", "-o", "pid=,ni=", "--ppid", str(proc.pid)], capture_output=True,
                                  text=True, check=True).stdout.split()
        public_pid, public_nice = int(children[0]), int(children[1])
        own = subprocess.run(["ps", "-o", "ni=", "-p", str(proc.pid)], capture_output=True, text=True, check=True)
        assert public_nice == int(own.stdout) + 10  # the devices' pushes first on a busy machine
        public_ends = os.pidfd_open(public_pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    waiting = select.poll()
    waiting.register(public_ends, select.POLLIN)
    assert waiting.poll(30_000), "the public site's process outlived serve"


def test_institute_load_from_the_command_line(tmp_path, capsys):
    from pathlib import Path

    from central.cli import main

    db = ["--db", str(tmp_path / "c.sqlite3")]
    shipped = Path(__file__).parents[2] / "kiosk" / "data" / "institute.toml"
    assert main(["institute", *db]) == 0 and "尚未载入" in capsys.readouterr().err
    assert main(["institute", "--load", str(shipped), *db]) == 0 and "第1版" in capsys.readouterr().out
    assert main(["institute", "--load", str(shipped), *db]) == 0 and "相同" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[name]\nzh = "只有中文"\n', "utf-8")
    assert main(["institute", "--load", str(bad), *db]) == 1 and "[name]" in capsys.readouterr().err
    assert main(["institute", *db]) == 0 and capsys.readouterr().out.strip() == shipped.read_text("utf-8").strip()
