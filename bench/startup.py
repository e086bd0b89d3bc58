"""Cold start to the first interactive frame: `KioskApp` vs a bare Textual app.

Each start is a fresh interpreter (cold imports; the OS file cache and the .pyc files are
warm, as on a kiosk that reboots). Both apps are measured the same way, in the child:

* `t0 = time.perf_counter()` is the child's very first statement, before any import
  (interpreter start-up itself, the same for both, is not counted);
* the app runs with `App.run(headless=True)` (80x24, `TEXTUAL_ANIMATIONS=none`,
  no `LINES`/`COLUMNS`);
* a probe subclass's `on_mount` asks for `call_after_refresh`: the callback runs once the
  default screen has been composed, mounted and refreshed. That moment is the first
  interactive frame; the child records it and exits.

For the kiosk that frame is the welcome screen (institute name, hours, commitments), with
the catalogue possibly still loading in its worker thread: by design, the welcome screen
does not wait for it. Every run gets a fresh data directory. For the main figure the
database is created once beforehand and copied in, so the first-start migration and demo
catalogue import are not counted; a second figure is the very first start (empty data
directory), against the same floor. Runs are interleaved, alternating which goes first.

Bytecode: this environment sets PYTHONDONTWRITEBYTECODE=1, so the project's own modules
(kiosk, db, screens: not installed as a wheel) would be compiled from source at every start,
which an installed kiosk never does. The children therefore use a bytecode cache outside
the tree (PYTHONPYCACHEPREFIX, in the temp directory; nothing is written into the
checkout), warmed by one unmeasured start of each app: both apps load every module from .pyc.

`python -m bench.startup --imports [N]` prints the kiosk's import-time breakdown instead
(`python -X importtime`), each module marked eager (paid before the first frame, beyond
what the bare app imports) or deferred (imported later, by the screen or the worker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Figure, median

RUNS = 15  # of each: bare app, kiosk with its database already created
FIRST_RUNS = 5  # kiosk very first start (empty data directory)
GOAL = 1.25
ROOT = Path(__file__).resolve().parent.parent
MARK = "FIRST_FRAME_MS"
PYCACHE = Path(tempfile.gettempdir()) / "kiosk-bench-pycache"

# The probe: the same for both apps but for what is imported and which class is probed.
# Textual calls the on_mount of every class in the MRO, so KioskApp's own still runs.
_CHILD = """\
import time
t0 = time.perf_counter()
{imports}

class Probe({base}):
    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        self.first_frame_ms = (time.perf_counter() - t0) * 1000
        self.exit()

app = Probe({args})
app.run(headless=True)
print("{mark}", app.first_frame_ms, flush=True)
"""

BARE = _CHILD.format(
    imports="from textual.app import App\nfrom textual.widgets import Static\n\n"
            "class Bare(App):\n    def compose(self):\n        yield Static('x')",
    base="Bare", args="", mark=MARK,
)
KIOSK = _CHILD.format(
    imports="from screens.app import KioskApp\nfrom kiosk.ops.config import load_config",
    base="KioskApp", args="load_config()", mark=MARK,
)

_PREPARE = """\
import sys
from db.connection import open_database
from kiosk.store.catalog import ensure_catalog
from kiosk.store.registration import ensure_device

db = open_database(sys.argv[1])
ensure_catalog()
ensure_device("")
db.close()
"""


def _env(data_dir: Path) -> dict[str, str]:
    dropped = ("LINES", "COLUMNS", "PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "KIOSK_")) and k not in dropped}
    env.update(TEXTUAL_ANIMATIONS="none", KIOSK_DATA_DIR=str(data_dir), PYTHONPYCACHEPREFIX=str(PYCACHE),
               XDG_CONFIG_HOME=str(data_dir / "config"))  # no kiosk.toml from this machine's user
    return env


def _start(code: str, data_dir: Path) -> float:
    """One fresh interpreter; the milliseconds it reports to its first interactive frame."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(data_dir), capture_output=True,
                          text=True, timeout=60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return float(line.split()[1])
    raise RuntimeError(f"start-up child failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def run() -> list[Figure]:
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-startup-"))
    try:
        template = tmp / "template"
        template.mkdir()
        subprocess.run([sys.executable, "-c", _PREPARE, str(template / "kiosk.sqlite3")], cwd=ROOT,
                       env=_env(template), check=True, timeout=60)
        _start(BARE, tmp / "warm-up-bare")  # fills the bytecode cache; not measured
        _start(KIOSK, tmp / "warm-up-kiosk")  # first start: the worker imports and compiles the rest
        bare, kiosk, first = [], [], []
        for i in range(RUNS):
            fresh = tmp / f"warm-{i}"
            shutil.copytree(template, fresh)
            if i % 2:
                kiosk.append(_start(KIOSK, fresh))
                bare.append(_start(BARE, tmp / f"bare-{i}"))
            else:
                bare.append(_start(BARE, tmp / f"bare-{i}"))
                kiosk.append(_start(KIOSK, fresh))
            if i % (RUNS // FIRST_RUNS) == 0 and len(first) < FIRST_RUNS:
                first.append(_start(KIOSK, tmp / f"first-{i}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    floor = median(bare)
    floor_name = "bare Textual App + one Static, same probe"
    figures = []
    warm = f"start to first frame, median of {RUNS} (welcome screen; database created beforehand; .pyc cached)"
    cold = f"very first start to first frame, median of {len(first)} (empty data dir: migration + import in worker)"
    for name, samples in ((warm, kiosk), (cold, first)):
        value = median(samples)
        figures.append(Figure(name, value, "ms", floor_name, floor, f"ratio <= {GOAL}", value / floor <= GOAL))
    return figures


# What the kiosk's start imports, in order, and when: (module, when). The bare app's
# imports come first so that only what the kiosk adds is attributed to it.
_PROFILED = (
    ("textual.app", "floor"), ("textual.widgets._static", "floor"),
    ("kiosk.ops.config", "eager: python -m kiosk (cli -> load_config)"),
    ("screens.app", "eager: import screens.app"),
    ("screens.welcome", "deferred: get_default_screen (before 1st frame)"),
    ("db.connection", "deferred: catalogue worker"), ("kiosk.store.catalog", "deferred: catalogue worker"),
    ("kiosk.domain.fees", "deferred: catalogue worker"), ("kiosk.store.registration", "deferred: catalogue worker"),
    ("kiosk.domain.search", "deferred: catalogue worker"), ("pypinyin", "deferred: catalogue worker (SearchIndex)"),
)


def import_profile(top: int = 25) -> str:
    """`python -X importtime` of the kiosk's start path, the bare app's imports excluded."""
    code = "\n".join(f"import {module}" for module, _ in _PROFILED)
    env = _env(Path(tempfile.gettempdir()))
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)  # warm .pyc
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    when = dict(_PROFILED)
    rows, pending = [], []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        pending.append((int(cumulative), int(own.split(":")[1]), depth, name.strip()))
        if depth == 0:  # a top-level import ends: everything since belongs to it
            group = when.get(name.strip(), "interpreter start-up")
            rows += [(*row, group) for row in pending]
            pending = []
    rows = [row for row in rows if row[-1] not in ("floor", "interpreter start-up")]
    rows.sort(reverse=True)
    eager = sum(own for _, own, _, _, group in rows if group.startswith("eager"))
    lines = [f"kiosk's own imports beyond the bare app's, .pyc cached; eager total {eager / 1000:.1f} ms",
             f"{'cumulative ms':>14} {'self ms':>8}  {'when':<48} module"]
    lines += [f"{c / 1000:14.1f} {o / 1000:8.1f}  {g:<48} {'  ' * d}{n}" for c, o, d, n, g in rows[:top]]
    return "\n".join(lines)


if __name__ == "__main__":
    if "--imports" in sys.argv[1:]:
        print(import_profile(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 25))
    else:
        for figure in run():
            print(figure.line())
