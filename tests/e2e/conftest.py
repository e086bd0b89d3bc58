"""End to end in a real browser: Debian's Chromium, installed once per session if missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def _say(config, text: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(text, yellow=True)


@pytest.fixture(scope="session")
def chromium(pytestconfig) -> Path:
    """/usr/bin/chromium; installed with apt-get (as root) when it is not there yet. CI runs on a
    clean machine of this kind, so a missing browser is installed, never a reason to skip."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here "
                    f"({'no apt-get' if apt is None else 'not root'}): apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", "chromium"]
    _say(pytestconfig, f"\n{CHROMIUM} is missing: installing Debian's chromium once for the e2e tests "
                       f"({' '.join(install)}) …")
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:  # perhaps no package lists yet on a fresh machine
        _say(pytestconfig, "apt-get install failed; apt-get update, then again …")
        subprocess.run([apt, "update"], env=env, capture_output=True, text=True, timeout=600, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"could not install chromium with apt-get (exit {result.returncode}):\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    _say(pytestconfig, f"installed {CHROMIUM}")
    return CHROMIUM
