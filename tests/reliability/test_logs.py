"""Structured logs (kiosk/settings/logs.py): JSON lines for journald, and no personal data in them.

The full run (at DEBUG, more than the product's INFO): a customer registers through the real
app (pilot), the receipt prints on the preview printer, the sync loop pushes the ticket to a
real central (uvicorn in a thread, its logs in the same stream), then `kiosk reprint` and
`kiosk sync` run as commands of their own with KIOSK_LOG=json. Every line they all logged
parses, and none carries the customer's organisation, credit code, contact or phone, the
ticket's signed code, or the device token.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.settings.logs import JsonFormatter, configure_logging

KIOSK = Path(sys.executable).with_name("kiosk")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root_logger():
    """The root logger as it was, restored after the test (its handlers and level)."""
    root, peewee = logging.getLogger(), logging.getLogger("peewee")
    handlers, level, peewee_level = list(root.handlers), root.level, peewee.level
    yield root
    peewee.setLevel(peewee_level)
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def parse(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        entry = json.loads(line)  # every line, one object
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    return entries


def test_json_lines_carry_time_level_logger_message_and_extra_fields(root_logger):
    stream = io.StringIO()
    configure_logging(Path("/nonexistent"), "json", tui=False, stream=stream)
    log = logging.getLogger("kiosk.test")
    log.info("job %d printed", 7, extra={"job": 7, "level": "clash", "path": Path("/x")})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    log.debug("not at INFO")
    first, second = parse(stream.getvalue())
    assert first["message"] == "job 7 printed" and first["level"] == "INFO" and first["logger"] == "kiosk.test"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert (first["job"], first["extra.level"], first["path"]) == (7, "clash", "/x")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]
    assert "\n" not in stream.getvalue().rstrip("\n").split("\n")[0]  # the traceback stays inside its line


def test_configured_again_it_replaces_its_own_handler_only(root_logger, tmp_path):
    other = logging.NullHandler()
    root_logger.addHandler(other)
    first = configure_logging(tmp_path, "text", tui=False, stream=io.StringIO())
    second = configure_logging(tmp_path, "json", tui=True)
    assert first not in root_logger.handlers and second in root_logger.handlers and other in root_logger.handlers
    logging.getLogger("kiosk.test").warning("to the file")
    second.flush()
    (entry,) = parse((tmp_path / "kiosk.log").read_text("utf-8"))
    assert entry["message"] == "to the file"


def test_a_command_leaves_logging_alone_unless_asked(root_logger, monkeypatch, tmp_path):
    monkeypatch.delenv("KIOSK_LOG", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    assert configure_logging(tmp_path, None, tui=False) is None
    monkeypatch.setenv("KIOSK_LOG", "json")
    handler = configure_logging(tmp_path, None, tui=False)
    assert isinstance(handler.formatter, JsonFormatter)
    assert not (tmp_path / "kiosk.log").exists()  # not a TUI: stderr, not the file


def test_the_kiosk_logs_json_to_the_journal_socket_when_asked(root_logger, monkeypatch, tmp_path):
    """`kiosk --log journal run` (deploy/kiosk.service): the TUI's stderr is its screen, so
    the lines go to the syslog socket journald listens on; here a socket the test binds."""
    import socket

    import kiosk.settings.logs

    path = tmp_path / "log.sock"
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(str(path))
    journal.settimeout(5)
    monkeypatch.setattr(kiosk.settings.logs, "JOURNAL_SOCKET", str(path))
    configure_logging(tmp_path, "journal", tui=True)
    logging.getLogger("kiosk.test").info("ticket %s registered", 7, extra={"lines": 3})
    datagram = journal.recv(65536).decode("utf-8")
    journal.close()
    priority, _, rest = datagram.partition(">")
    assert priority == "<14" and rest.startswith("kiosk: ")  # user.info, tagged kiosk
    entry = json.loads(rest.removeprefix("kiosk: ").rstrip("\x00"))
    assert entry["message"] == "ticket 7 registered" and entry["lines"] == 3
    assert not (tmp_path / "kiosk.log").exists()


def test_without_a_journal_socket_the_kiosk_logs_to_its_file(root_logger, monkeypatch, tmp_path, capsys):
    import kiosk.settings.logs

    monkeypatch.setattr(kiosk.settings.logs, "JOURNAL_SOCKET", str(tmp_path / "absent.sock"))
    configure_logging(tmp_path, "journal", tui=True)
    logging.getLogger("kiosk.test").info("started")
    assert "unusable" in capsys.readouterr().err
    assert json.loads((tmp_path / "kiosk.log").read_text("utf-8").splitlines()[-1])["message"] == "started"


def test_under_journald_a_command_logs_json_to_stderr(tmp_path):
    """systemd's JOURNAL_STREAM names stderr's device:inode; the command sees it and writes JSON."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import ensure_device, register
    from tests.test_registration import sample

    path = tmp_path / "kiosk.sqlite3"
    db = open_database(path)
    ensure_catalog()
    number = register(sample(), load_catalog(), default_policy(), ensure_device("K1")).number
    db.close()
    stderr = tmp_path / "journal"
    with stderr.open("w") as err:
        st = os.fstat(err.fileno())
        env = {k: v for k, v in os.environ.items() if k != "KIOSK_LOG"} | {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        done = subprocess.run([KIOSK, "--db", path, "reprint", number], env=env, stdout=subprocess.PIPE,
                              stderr=err, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 0, stderr.read_text()
    entries = parse(stderr.read_text("utf-8"))
    assert any(e["logger"] == "kiosk.printing.spool" and "printed" in e["message"] for e in entries), entries
    assert not (Path(os.environ["KIOSK_DATA_DIR"]) / "kiosk.log").exists()


async def test_a_registration_and_its_sync_log_no_personal_data(root_logger, tmp_path):
    pytest.importorskip("fastapi", reason="the sync half needs the central extra: pip install -e '.[test]'")
    from central.devices import add_device
    from central.schema import open_storage
    from central.server import serve_in_thread
    from db.connection import open_database
    from db.models import OutboxEvent, Ticket
    from kiosk.store.catalog import ensure_catalog
    from kiosk.store.registration import ensure_device
    from kiosk.sync.enrolment import enroll, enrolment
    from tests.kiosk_pilot import CUSTOMER, make_app, next_sync, register_one, settle

    stream = io.StringIO()
    configure_logging(tmp_path, "json", tui=False, stream=stream)
    root_logger.setLevel(logging.DEBUG)  # more than the product logs (INFO): every library's DEBUG too
    path = tmp_path / "kiosk.sqlite3"
    store = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    try:
        with serve_in_thread(store) as central:
            db = open_database(path)
            ensure_catalog()
            device = ensure_device("K1")
            enroll(central.url, add_device(store, "kiosk"), device)
            token = enrolment().token
            db.close()

            app = make_app(database=path)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                await register_one(pilot)
                for _ in range(20):
                    state = await next_sync(pilot)
                    if state.online and state.waiting == 0:
                        break
                assert state.online and state.waiting == 0, state
                ticket = Ticket.get()
                number, code = ticket.number, ticket.code
                assert ticket.customer.organisation == CUSTOMER["organisation"]  # it was really registered
                assert ticket.print_jobs.get().state == "printed"
                assert OutboxEvent.get().acked_at is not None

            env = {**os.environ, "KIOSK_LOG": "json"}
            commands: dict[str, str] = {}
            for args in (["reprint", number], ["sync"]):
                done = await asyncio.to_thread(subprocess.run, [KIOSK, "--db", path, *args], env=env,
                                               capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
                assert done.returncode == 0, done.stderr
                commands[args[0]] = done.stderr
    finally:
        store.close()

    entries = parse(stream.getvalue())
    logged = stream.getvalue() + "".join(commands.values())
    # What was logged is there (so the check below looks at something): the receipt, the
    # enrolment at central, the reprint.
    loggers = {e["logger"] for e in entries}
    assert {"kiosk.printing.spool", "central"} <= loggers, loggers
    assert any("printed" in e["message"] for e in parse(commands["reprint"])), commands["reprint"]
    parse(commands["sync"])
    phone_digits = "".join(ch for ch in CUSTOMER["phone"] if not ch.isspace())
    secrets = {
        **{f"customer {k}": v for k, v in CUSTOMER.items()},
        "phone, normalised": "13812345678",
        "phone, full-width, unspaced": phone_digits,
        "phone, tail": "12345678",
        "organisation, short": "示范燃气",
        "ticket code": code,
        "ticket code, head": code[:24],
        "device token": token,
    }
    print(f"\n{len(entries)} lines logged in process ({', '.join(sorted(loggers))}), "
          f"{sum(len(text.splitlines()) for text in commands.values())} by the commands")
    leaked = {what: value for what, value in secrets.items() if value and value in logged}
    assert not leaked, f"personal data or secrets in the logs: {leaked}"
