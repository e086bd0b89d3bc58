"""`kiosk serve` without a browser: where it binds, what each connection runs, what it refuses."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

from kiosk.ops.serve import app_command, is_loopback, serve
from kiosk.settings.config import load_config


def test_it_binds_to_this_machine_unless_told_otherwise(run):
    status, _, err = run("serve", "--host", "0.0.0.0")
    assert status == 1 and "0.0.0.0" in err and "--allow-remote" in err
    assert all(is_loopback(host) for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "::", "192.168.1.20"))


def test_a_bad_port_or_host_is_said_clearly(capsys):
    config = load_config()
    args = SimpleNamespace(host="127.0.0.1", port=70000, desk=False, allow_remote=False)
    assert serve(args, config) == 1
    assert "70000" in capsys.readouterr().err
    args = SimpleNamespace(host="no-such-host.invalid", port=8000, desk=False, allow_remote=False)
    assert serve(args, config) == 1
    assert "no-such-host.invalid" in capsys.readouterr().err


def test_a_port_in_use_is_said_before_anything_starts(capsys):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        args = SimpleNamespace(host="127.0.0.1", port=port, desk=False, allow_remote=False)
        assert serve(args, load_config()) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_each_connection_runs_this_python_with_this_configuration(tmp_path):
    source = tmp_path / "kiosk.toml"
    source.write_text("[kiosk]\nlanguage = \"en\"\n", "utf-8")
    config = replace(load_config(str(source)), database=tmp_path / "k.sqlite3")
    assert shlex.split(app_command(config, desk=False)) == [
        sys.executable, "-m", "kiosk", "--config", str(source.resolve()), "--db", str(tmp_path / "k.sqlite3"), "run"]
    assert shlex.split(app_command(config, desk=True))[-1] == "clerk"


def test_the_kiosk_never_imports_textual_serve():
    probe = ("import sys, json, kiosk.cli, screens.app\n"
             "kiosk.cli.build_parser().parse_args(['run'])\n"
             "print(json.dumps([m for m in ('textual_serve', 'aiohttp', 'kiosk.ops.serve') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
