"""The layering the architecture promises, checked in a fresh interpreter."""

import json
import subprocess
import sys

HEAVY = ("textual", "escpos", "pypinyin", "rich")


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_domain_code_imports_neither_textual_nor_escpos():
    modules = imported_after("import kiosk.catalog, kiosk.fees, kiosk.search, kiosk.registration, "
                             "kiosk.catalog_store, kiosk.estimate_text, kiosk.i18n")
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []


def test_the_cli_defers_heavy_imports_until_a_command_needs_them():
    modules = imported_after("import kiosk.cli")
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []
