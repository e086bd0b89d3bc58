"""Operations: doctor, backup, restore, upgrade on start, full / read-only / damaged databases.

Faults are made for real where this machine allows it, and the test is skipped where it does
not: a full disk is a small tmpfs, a read-only disk a read-only bind mount, both in a private
mount namespace (`unshare -rm`, no root needed where user namespaces are allowed). Tests run as
root here, where chmod stops no write; a mount does."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def make_v1(path: Path) -> Path:
    """A database exactly as the first released schema wrote it (tests/fixtures/schema_v1.sql)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "schema_v1.sql").read_text("utf-8"))
    conn.close()
    return path


def registration(organisation: str = "示范燃气有限公司"):
    from kiosk.domain.fees import LineRequest
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration

    return Registration(CustomerDetails(organisation, "", "", "李工", "13812345678"),
                        (InstrumentLine(LineRequest("L-001-001", use="safety")),))


def register_one(prefix: str = "K1"):
    """Register a ticket on the open database (catalogue and device made if missing)."""
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import ensure_device, register

    ensure_catalog()
    return register(registration(), load_catalog(), default_policy(), ensure_device(prefix))


def ticket_numbers(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT number FROM ticket ORDER BY id")]
    finally:
        conn.close()


def integrity_of(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                          capture_output=True, check=False)
    return done.returncode == 0


CAN_MOUNT = _can_unshare()
needs_mounts = pytest.mark.skipif(not CAN_MOUNT, reason="no private mount namespace here (unshare -rm)")


def in_namespace(setup: str, script: str, env: dict[str, str] | None = None, timeout: float = 120):
    """Run `setup` (shell: mounts) and then `script` (Python, the repository importable) in a
    private user and mount namespace; (exit status, stdout, stderr)."""
    code = textwrap.dedent(script)
    shell = f"set -e\n{setup}\nexec \"$0\" -c \"$1\""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("LINES", None)
    environment.pop("COLUMNS", None)
    done = subprocess.run(["unshare", "-rm", "sh", "-c", shell, sys.executable, code], capture_output=True,
                          text=True, env=environment, timeout=timeout, check=False)
    return done.returncode, done.stdout, done.stderr
