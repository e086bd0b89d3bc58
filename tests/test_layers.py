"""The layering the architecture promises, checked in a fresh interpreter."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("textual", "escpos", "pypinyin", "rich")


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_the_layer_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts, over whole folders: pure rules import no
    storage, Textual or escpos; nothing in kiosk/ but the command line imports screens/; central
    imports only pure code from kiosk; printer/ knows no tickets; no import circles anywhere."""
    # In its own process: import-linter configures logging, which the log tests then inherit.
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", str(ROOT / "pyproject.toml"),
                           "--no-cache"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout[-4000:]


def test_central_takes_from_kiosk_only_its_pure_folders():
    """What pyproject's contract forbids, turned round over whole folders: central imports (at any
    level, deferred imports too) kiosk/domain, kiosk/i18n and kiosk/settings/logs, nothing else."""
    import grimp

    graph = grimp.build_graph("central", "kiosk", cache_dir=None)
    allowed = ("kiosk.domain", "kiosk.i18n", "kiosk.settings.logs")
    taken = {imported for importer in graph.find_descendants("central") | {"central"}
             for imported in graph.find_modules_directly_imported_by(importer) if imported.split(".")[0] == "kiosk"}
    assert taken and sorted(m for m in taken if not any(m == a or m.startswith(f"{a}.") for a in allowed)) == []


def test_central_loads_neither_peewee_nor_the_devices_database():
    modules = imported_after("import central.app, central.cli")
    assert [m for m in modules if m.split(".")[0] in ("peewee", "db", "screens", "textual", "escpos")] == []


def test_printer_knows_nothing_of_tickets_and_loads_escpos_only_to_print():
    modules = imported_after("import printer.document, printer.profiles, printer.layout, printer.backends, "
                             "printer.escpos_render, printer.preview, printer.fonts")
    assert [m for m in modules if m.split(".")[0] in ("kiosk", "screens", "db", "textual", "escpos")] == []


def test_the_cli_defers_heavy_imports_until_a_command_needs_them():
    modules = imported_after("import kiosk.cli")
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []


def test_the_running_kiosk_loads_neither_pypinyin_nor_escpos(tmp_path):
    """Search keys are stored at import; the kiosk builds its index without pypinyin (~58 MB).
    Nothing is printed here, so python-escpos is not loaded either."""
    db = tmp_path / "kiosk.sqlite3"
    subprocess.run([sys.executable, "-m", "kiosk", "--db", str(db), "db", "status"], check=True,
                   capture_output=True)
    probe = f"""
import asyncio, sys, json
from dataclasses import replace
from pathlib import Path
from screens.app import KioskApp
from kiosk.settings.config import load_config
app = KioskApp(replace(load_config(), database=Path({str(db)!r})))
async def main():
    async with app.run_test() as pilot:
        for _ in range(100):  # the catalogue worker starts after the first frame: wait for it, not a time
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.index is not None:
                break
        assert app.index is not None and app.index.search("ylb")
asyncio.run(main())
print(json.dumps(["pypinyin" in sys.modules, "escpos" in sys.modules]))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    pypinyin, escpos = json.loads(done.stdout.strip().splitlines()[-1])
    assert not pypinyin
    assert not escpos, "python-escpos (~185 ms) is for printing, not for starting"
