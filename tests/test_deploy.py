"""deploy/ and the README's Deploy section: the units are valid systemd units, and every
`kiosk …` command they and the README give is one the CLI takes."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.cli import build_parser

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer"))


def deploy_section() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    return text[text.index("## Deploy"):text.index("\n## ", text.index("## Deploy") + 1)]


def kiosk_commands() -> list[tuple[str, list[str]]]:
    """(where, arguments after `kiosk`) for every kiosk command in the units and the section."""
    found = []
    for unit in DEPLOY.glob("*.service"):
        for line in unit.read_text("utf-8").splitlines():
            if line.startswith("ExecStart="):
                words = shlex.split(line.removeprefix("ExecStart="))
                found += [(unit.name, words[i + 1:]) for i, w in enumerate(words) if w.endswith("/bin/kiosk")]
    section = deploy_section().replace("\\\n", " ")
    for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            words = shlex.split(line.split(" #")[0]) if "kiosk" in line else []
            found += [("README", words[i + 1:]) for i, w in enumerate(words) if w.endswith("/bin/kiosk")]
    return found


def test_the_deploy_files_are_there():
    assert {p.name for p in DEPLOY.iterdir()} >= {"kiosk.service", "kiosk-central.service", "kiosk-backup.service",
                                                  "kiosk-backup.timer", "60-kiosk-printer.rules"}


@pytest.mark.parametrize("where,args", kiosk_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_every_kiosk_command_in_deploy_is_one_the_cli_takes(where, args):
    build_parser().parse_args(args)  # argparse exits (SystemExit) on an unknown command or option


def test_the_readme_and_the_units_name_the_commands_an_operator_needs():
    def command(args):  # the sub-command's words: `kiosk --log journal run` -> "run"
        words = [w for i, w in enumerate(args) if not w.startswith("-") and args[i - 1:i] != ["--log"]]
        return " ".join(words[:2]) if words[0] == "central" else words[0]

    named = {command(args) for _, args in kiosk_commands()}
    assert {"run", "backup", "doctor", "enroll", "central serve", "central add-device"} <= named, named


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_units_are_valid_systemd_units(tmp_path):
    """`systemd-analyze verify`, with the programs the units start (not installed here)
    pointed at one that exists; a misspelt key or section is an error."""
    copies = []
    for unit in UNITS:
        text = re.sub(r"/(?:usr/bin|opt/kiosk/\.venv/bin)/(?:cage|kiosk)\b", "/bin/true", unit.read_text("utf-8"))
        (tmp_path / unit.name).write_text(text, "utf-8")
        copies.append(str(tmp_path / unit.name))
    done = subprocess.run(["systemd-analyze", "verify", *copies], check=False, capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if str(tmp_path) in line or "Unknown" in line or "Invalid" in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_the_udev_rule_gives_group_lp_printers_and_nothing_else():
    rules = [line for line in (DEPLOY / "60-kiosk-printer.rules").read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules
    for rule in rules:
        assert 'SUBSYSTEM=="usb"' in rule and 'GROUP="lp"' in rule and 'MODE="0660"' in rule
        assert "RUN" not in rule and "0666" not in rule  # never world-writable, never a program
    assert any("*:0701*" in rule for rule in rules)  # any device with a printer interface
