"""Cold start to the first interactive frame: `KioskApp` vs a bare Textual app.

Each start is a fresh interpreter (cold imports; the OS file cache and the .pyc files are
warm, as on a kiosk that reboots). Both apps are measured the same way, in the child:

* `t0 = time.perf_counter()` is the child's very first statement, before any import
  (interpreter start-up itself, the same for both, is not counted);
* the app runs with `App.run(headless=True, size=(80, 24))` (`TEXTUAL_ANIMATIONS=none`, no
  `LINES`/`COLUMNS`). The size is given as a terminal gives it: without it a child with no terminal
  is laid out at Rich's default 80x25 first and then resized to the driver's 80x24, two extra
  layouts and full repaints that no kiosk on a screen ever does (they cost the kiosk's richer
  welcome screen ~24 M instructions more than the bare app's one line);
* a probe subclass's `on_mount` asks for `call_after_refresh`: the callback runs once the
  default screen has been composed, mounted and refreshed. That moment is the first
  interactive frame; the child records it and exits.

For the kiosk that frame is the welcome screen (institute name, hours, commitments), with
the catalogue possibly still loading in its worker thread: by design, the welcome screen
does not wait for it. Every run gets a fresh data directory. For the main figure the
database is created once beforehand and copied in, so the first-start migration and demo
catalogue import are not counted; a second figure is the very first start (empty data
directory), against the same floor. Runs are interleaved, alternating which goes first.

On a shared machine the wall-clock ratio moves with the load: the kiosk's start has more
round trips through the event loop and Textual's 60 Hz screen-update timer than the bare
app's, and each one waits its turn for a CPU, so the same code read 1.2x to 1.5x here under
a load of 4 to 12. The CPU time the child has used at its first frame (`time.process_time()`
from t0, every thread) is much less sensitive to that; it is the third figure, against the
bare app's CPU time, with the same goal. On a quiet machine the two ratios agree.

Bytecode: this environment sets PYTHONDONTWRITEBYTECODE=1, so the project's own modules
(kiosk, db, screens: not installed as a wheel) would be compiled from source at every start,
which an installed kiosk never does. The children therefore use a bytecode cache outside
the tree (PYTHONPYCACHEPREFIX, in the temp directory; nothing is written into the
checkout), warmed by one unmeasured start of each app: both apps load every module from .pyc.

Where the time goes (the same children, nothing else in them):

* `python -m bench.startup --phases` prints, beside the figures, the median of each phase for
  both apps: imports, building the App object, `run()` to the app's `on_mount`, and `on_mount`
  to the first frame (composing the first screen, parsing CSS, layout, the first render);
* `python -m bench.startup --imports [N]` runs both children under `python -X importtime` N
  times (default 5) and lists every module the kiosk imports before its first frame that the
  bare app does not, with its median own time: what a lazy import could still take off.

Steady on a loaded machine: `python -m bench.startup --instructions [N]` runs the same two children
under valgrind (cachegrind, no cache simulation; ~30 s a child) and counts the instructions each
executes up to its first frame, less those of an interpreter that only starts (the `t0` above). The
count moves by well under 1 % from run to run whatever else the machine does, where the CPU time
moves by 10 %: the figure to compare two versions of the code with. It counts work, not waiting
(the event loop's round trips and the screen-update timer are in the wall time only).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import Figure, median

RUNS = 15  # of each: bare app, kiosk with its database already created
FIRST_RUNS = 5  # kiosk very first start (empty data directory)
GOAL = 1.25
ROOT = Path(__file__).resolve().parent.parent
MARK = "FIRST_FRAME_MS"
PYCACHE = Path(tempfile.gettempdir()) / "kiosk-bench-pycache"

PHASES = ("imports", "build the App", "run() to on_mount", "on_mount to first frame")
FRAME_LINE = "FIRST_FRAME"  # written to stderr at the first frame by --imports' children: what came before

# The probe: the same for both apps but for what is imported and which class is probed.
# Textual calls the on_mount of every class in the MRO, so KioskApp's own still runs.
# It prints when each of PHASES ended, from t0 (the last one is the first frame), then the CPU time used.
_CHILD = """\
import time
t0, cpu0 = time.perf_counter(), time.process_time()
{imports}
imported = time.perf_counter()

class Probe({base}):
    def on_mount(self) -> None:
        self.mounted = time.perf_counter()
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        self.first_frame, self.cpu = time.perf_counter(), time.process_time() - cpu0{at_first_frame}
        self.exit()

app = Probe({args})
built = time.perf_counter()
app.run(headless=True, size=(80, 24))
print("{mark}", *((t - t0) * 1000 for t in (imported, built, app.mounted, app.first_frame)), app.cpu * 1000,
      flush=True)
"""


def _child(imports: str, base: str, args: str, at_first_frame: str = "") -> str:
    return _CHILD.format(imports=imports, base=base, args=args, mark=MARK, at_first_frame=at_first_frame)


_BARE = ("from textual.app import App\nfrom textual.widgets import Static\n\n"
         + "class Bare(App):\n    def compose(self):\n        yield Static('x')", "Bare", "")
_KIOSK = ("from screens.app import KioskApp\nfrom kiosk.settings.config import load_config", "KioskApp",
          "load_config()")
BARE, KIOSK = _child(*_BARE), _child(*_KIOSK)

# What a kiosk that has started before has in its data directory: its database, and its
# institute file kept decoded (kiosk/settings/decoded.py), as its first start left them.
_PREPARE = """\
import sys
from pathlib import Path
from db.connection import open_database
from kiosk.settings.institute import kept_file, load_institute
from kiosk.store.catalog import ensure_catalog
from kiosk.store.registration import ensure_device

db = open_database(sys.argv[1])
ensure_catalog()
ensure_device("")
db.close()
load_institute(kept=kept_file(Path(sys.argv[1]).parent))
"""


def _env(data_dir: Path) -> dict[str, str]:
    dropped = ("LINES", "COLUMNS", "PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "KIOSK_")) and k not in dropped}
    env.update(TEXTUAL_ANIMATIONS="none", KIOSK_DATA_DIR=str(data_dir), PYTHONPYCACHEPREFIX=str(PYCACHE),
               XDG_CONFIG_HOME=str(data_dir / "config"))  # no kiosk.toml from this machine's user
    return env


@dataclass(frozen=True)
class Start:
    """One start, in ms: how long each of PHASES took, and the CPU time used by the first frame."""

    phases: tuple[float, ...]
    cpu: float

    @property
    def first_frame(self) -> float:
        return sum(self.phases)


def _start(code: str, data_dir: Path) -> Start:
    """One fresh interpreter, and what it reports at its first interactive frame."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(data_dir), capture_output=True,
                          text=True, timeout=60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            *ends, cpu = (float(x) for x in line.split()[1:])
            return Start(tuple(end - begin for begin, end in zip([0.0, *ends], ends)), cpu)
    raise RuntimeError(f"start-up child failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def run() -> list[Figure]:
    return _figures(*_measure())


def _prepared(tmp: Path) -> Path:
    """A prepared data directory (tmp/template) to copy for each kiosk start, after one start of each
    child, not measured: it fills the bytecode cache, and the kiosk's worker imports and compiles the rest."""
    template = tmp / "template"
    template.mkdir()
    subprocess.run([sys.executable, "-c", _PREPARE, str(template / "kiosk.sqlite3")], cwd=ROOT,
                   env=_env(template), check=True, timeout=60)
    _start(BARE, tmp / "warm-up-bare")
    _start(KIOSK, tmp / "warm-up-kiosk")
    return template


def _measure() -> tuple[list[Start], list[Start], list[Start]]:
    """Interleaved starts: the bare app's, the kiosk's, and the kiosk's very first ones."""
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-startup-"))
    try:
        template = _prepared(tmp)
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
    return bare, kiosk, first


def _figures(bare: list[Start], kiosk: list[Start], first: list[Start]) -> list[Figure]:
    floor_name = "bare Textual App + one Static, same probe"
    warm = f"start to first frame, median of {len(kiosk)} (welcome screen; database created beforehand; .pyc cached)"
    cold = f"very first start to first frame, median of {len(first)} (empty data dir: migration + import in worker)"
    cpu = f"CPU time to first frame, median of {len(kiosk)} (as the first; steadier on a shared machine)"
    wall, cpu_time = (lambda start: start.first_frame), (lambda start: start.cpu)
    figures = []
    for name, starts, pick in ((warm, kiosk, wall), (cold, first, wall), (cpu, kiosk, cpu_time)):
        value, floor = median([pick(start) for start in starts]), median([pick(start) for start in bare])
        figures.append(Figure(name, value, "ms", floor_name, floor, f"ratio <= {GOAL}", value / floor <= GOAL))
    return figures


def phase_table(bare: list[Start], kiosk: list[Start]) -> str:
    """The median of each phase for both apps, and what the kiosk adds to it."""
    rows = [*((phase, lambda start, k=k: start.phases[k]) for k, phase in enumerate(PHASES)),
            ("first frame", lambda start: start.first_frame), ("CPU time to first frame", lambda start: start.cpu)]
    lines = [f"{f'median ms of {len(bare)} starts each':<28} {'bare':>7} {'kiosk':>7} {'added':>7}"]
    for name, pick in rows:
        b, k = median([pick(start) for start in bare]), median([pick(start) for start in kiosk])
        lines.append(f"{name:<28} {b:7.1f} {k:7.1f} {k - b:+7.1f}")
    return "\n".join(lines)


def _imports_before_first_frame(child: tuple[str, str, str], data_dir: Path, runs: int) -> dict[str, float]:
    """Each module the child imports before its first frame, with its median own time in ms."""
    code = _child(*child, at_first_frame=f"\n        import sys; print({FRAME_LINE!r}, file=sys.stderr, flush=True)")
    env = _env(data_dir)
    own: dict[str, list[int]] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True, timeout=60)
        for line in done.stderr.split(FRAME_LINE)[0].splitlines():
            if line.startswith("import time:") and "cumulative" not in line:
                us, _, name = line[len("import time:"):].split("|")
                own.setdefault(name.strip(), []).append(int(us))
    return {name: median(times) / 1000 for name, times in own.items()}


def _instructions(code: str, data_dir: Path) -> float:
    """Millions of instructions the child executes under valgrind, to its first frame (then it stops)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                           f"--cachegrind-out-file={data_dir / 'cachegrind.out'}", sys.executable, "-c", code],
                          cwd=ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=900, check=False)
    counted = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if counted is None or FRAME_LINE not in done.stdout:
        raise RuntimeError(f"start-up child under valgrind failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return int(counted.group(1).replace(",", "")) / 1e6


def instruction_counts(runs: int = 2) -> Figure:
    """The kiosk's instructions to its first frame against the bare app's, interpreter start-up left out.
    Each child stops at its first frame: nothing after it (the catalogue worker, exiting) is counted."""
    stop = f"\n        print({FRAME_LINE!r}, flush=True); import os; os._exit(0)"
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-instructions-"))
    try:
        template = _prepared(tmp)
        start_only = f"print({FRAME_LINE!r})"  # an interpreter that starts, and nothing else
        interpreter = median([_instructions(start_only, tmp / f"python-{i}") for i in range(runs)])
        bare, kiosk = [], []
        for i in range(runs):
            bare.append(_instructions(_child(*_BARE, at_first_frame=stop), tmp / f"bare-{i}"))
            shutil.copytree(template, tmp / f"kiosk-{i}")
            kiosk.append(_instructions(_child(*_KIOSK, at_first_frame=stop), tmp / f"kiosk-{i}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    value, floor = median(kiosk) - interpreter, median(bare) - interpreter
    return Figure(f"instructions to first frame, median of {runs} under valgrind (interpreter start-up, "
                  f"{interpreter:.0f} M, left out of both)", value, "M instr",
                  "bare Textual App + one Static, same probe", floor, f"ratio <= {GOAL}", value / floor <= GOAL)


def import_profile(runs: int = 5) -> str:
    """What the kiosk imports before its first frame beyond the bare app's imports, .pyc cached."""
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-imports-"))
    try:
        subprocess.run([sys.executable, "-c", _PREPARE, str(tmp / "kiosk.sqlite3")], cwd=ROOT, env=_env(tmp),
                       check=True, timeout=60)
        _start(BARE, tmp)  # warms the bytecode cache
        _start(KIOSK, tmp)
        bare = _imports_before_first_frame(_BARE, tmp, runs)
        kiosk = _imports_before_first_frame(_KIOSK, tmp, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    added = sorted(((ms, name) for name, ms in kiosk.items() if name not in bare), reverse=True)
    summary = (f"before its first frame the kiosk imports {len(added)} modules the bare app does not "
               f"({sum(ms for ms, _ in added):.1f} ms own time, median of {runs} runs under -X importtime, "
               f"which inflates it); the bare app's {len(bare)} modules take {sum(bare.values()):.1f} ms")
    lines = [summary, f"{'own ms':>8}  module"]
    lines += [f"{ms:8.2f}  {name}" for ms, name in added]
    return "\n".join(lines)


if __name__ == "__main__":
    if "--imports" in sys.argv[1:]:
        print(import_profile(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 5))
    elif "--instructions" in sys.argv[1:]:
        print(instruction_counts(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 2).line())
    else:
        measured = _measure()
        for figure in _figures(*measured):
            print(figure.line())
        if "--phases" in sys.argv[1:]:
            print(phase_table(*measured[:2]))
