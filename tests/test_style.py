"""The checks the README's test command carries: ruff (the line length pyproject.toml declares, 120)
and mypy on the layers [tool.mypy] names (pure rules, wording, settings, storage). Each runs from
the repository root in its own process, with the tools installed beside this interpreter."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.mark.terminal
def test_ruff_is_clean():
    done = run("ruff", "check", ".", "--output-format", "concise")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


@pytest.mark.terminal
def test_types_are_clean():
    done = run("mypy")  # files and options: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
