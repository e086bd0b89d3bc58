import functools
import inspect
import itertools
import os
import sys
from pathlib import Path
from types import CodeType

import pytest

# The app and CLI must never touch the developer's real data or config during tests.
os.environ.pop("KIOSK_CONFIG", None)
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

TESTS = Path(__file__).parent

if "faketime" in os.environ.get("LD_PRELOAD", ""):  # tests/faketime_lanes.sh
    # libfaketime 0.9.10 with --exclude-monotonic fails time.sleep with EINVAL (Python sleeps
    # with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which it shifts; its issue #426).
    # select's relative timeout is left alone.
    import select
    import time

    def _sleep(seconds: float) -> None:
        select.select([], [], [], seconds)

    time.sleep = _sleep
    # The same for the Python processes a test starts (the print worker's child): its sitecustomize.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(TESTS / "faketime_site"),
                                                              os.environ.get("PYTHONPATH"))))

# ---- lanes: the markers (pyproject.toml) come from what a test uses, so a new test lands in its
# lane without anyone remembering to mark it; a file marks itself only where no rule can tell.
LANE_BY_FOLDER = {"reliability": "reliability"}
LANE_BY_FIXTURE = {"snap_compare": "snapshot", "pg_schema_url": "postgres", "chromium": "browser",
                   "db": "store", "run": "store", "storage": "store"}
# Names in a test's code (or in the tests/ helpers, classes and fixtures it uses) that say what it does.
# PrintWorker: the print spool's child process (kiosk/printing/worker.py), started by the test itself.
# PtyPrinter: a serial printer on a real pseudo terminal, paced by the clock (tests/printer_peers.py).
LANE_BY_NAME = {"run_test": "pilot", "subprocess": "terminal", "Popen": "terminal", "PrintWorker": "terminal",
                "PtyPrinter": "terminal", "open_database": "store", "open_storage": "store"}


# The fast lane (`pytest --fast`, the README's quick loop): the tests of no lane, each hypothesis
# property on a tenth of its examples (at least 10, never more than it asks). The whole suite, and
# any run without --fast, keeps every property's own count.
FAST = "not (store or snapshot or pilot or postgres or terminal or browser or reliability)"


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help=f"the fast lane: -m '{FAST}' (unless -m is given), hypothesis on a tenth of the examples")


def pytest_configure(config):
    if not config.getoption("fast"):
        return
    if not config.option.markexpr:
        config.option.markexpr = FAST
    cache = getattr(config, "cache", None)
    if sys.dont_write_bytecode and cache is not None:
        # A loop run again and again keeps what it compiled: the test modules as pytest rewrote
        # their asserts (~9 s of CPU a worker here, half its collection) and the modules they import.
        # PYTHONDONTWRITEBYTECODE=1 (this environment sets it) keeps __pycache__ out of the
        # checkout, so the cache goes to pytest's own folder instead (.pytest_cache/d/pycache),
        # as bench/startup.py does for its children; --cache-clear drops it.
        sys.pycache_prefix = str(cache.mkdir("pycache"))
        sys.dont_write_bytecode = False


def pytest_report_header(config):
    if config.getoption("fast"):
        return f"fast lane: -m '{config.option.markexpr}', a tenth of each property's examples (at least 10)"
    return None


def fast_examples(max_examples: int) -> int:
    return min(max_examples, max(10, max_examples // 10))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for lane in sorted(lanes_of(item)):
            item.add_marker(lane)
    if config.getoption("fast"):
        for test in {id(t): t for t in map(hypothesis_test, items) if t is not None}.values():
            fewer_examples(test)


def hypothesis_test(item):
    """The function @given made for `item` (the one hypothesis runs), if it is a property."""
    test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    # schemathesis' tests are properties of their own (tests/central/test_schemathesis.py, not in this lane)
    return test if hasattr(test, "_hypothesis_internal_use_settings") else None


def fewer_examples(test) -> None:
    from hypothesis import settings

    # What @settings sets and @given reads at each call: a second @settings is refused, so the
    # attribute is replaced by one with the same settings and fewer examples.
    own = test._hypothesis_internal_use_settings
    test._hypothesis_internal_use_settings = settings(own, max_examples=fast_examples(own.max_examples))


def lanes_of(item) -> set[str]:
    lanes = set()
    folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
    if folder in LANE_BY_FOLDER:
        lanes.add(LANE_BY_FOLDER[folder])
    names = getattr(item, "fixturenames", ())
    lanes |= {lane for fixture, lane in LANE_BY_FIXTURE.items() if fixture in names}
    params = getattr(getattr(item, "callspec", None), "params", {})
    if params.get("database_url") == "postgresql":  # tests/central/conftest.py: SQLite, then PostgreSQL
        lanes.add("postgres")
    function = getattr(item, "function", None)
    if function is not None:
        fixtures = [d.func for defs in item._fixtureinfo.name2fixturedefs.values() for d in defs]
        used = frozenset().union(*map(names_used, [function, *fixtures]))
        lanes |= {LANE_BY_NAME[name] for name in used if name in LANE_BY_NAME}
    return lanes


@functools.cache
def names_used(function) -> frozenset[str]:
    """Every global and attribute name in `function`'s code, its nested functions and the
    helpers (functions, classes' methods) of tests/ that it names, followed to the end."""
    names: set[str] = set()
    todo, seen = [unwrapped(function)], set()
    while todo:
        function = todo.pop()
        code = getattr(function, "__code__", None)
        if code is None or code in seen or not from_tests(function):
            continue
        seen.add(code)
        codes = [code]
        while codes:
            code = codes.pop()
            names.update(code.co_names)
            codes += [const for const in code.co_consts if isinstance(const, CodeType)]
            for name in code.co_names:
                helper = function.__globals__.get(name)
                if inspect.isclass(helper) and from_tests(helper):
                    todo += [unwrapped(f) for cls in helper.__mro__ if from_tests(cls) for f in vars(cls).values()
                             if inspect.isfunction(f)]
                elif inspect.isfunction(helper):
                    todo.append(unwrapped(helper))
    return frozenset(names)


def from_tests(thing) -> bool:
    return getattr(thing, "__module__", "").startswith("tests")


def unwrapped(function):
    """The test's own function, under functools.wraps and under hypothesis' @given."""
    function = inspect.unwrap(function)
    return getattr(getattr(function, "hypothesis", None), "inner_test", function)


@pytest.fixture(scope="session")
def isolated_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("isolated", numbered=False)


ISOLATED = itertools.count()


@pytest.fixture(autouse=True)
def isolated_dirs(request, monkeypatch) -> Path:
    """Every test's data and config folders are its own, empty: in its tmp_path when it uses one,
    else in a folder of its own. Not a tmp_path for each: pytest numbers a new one by listing all
    it made before, which took ~7 ms a test once a worker had made 1,800 (the fast lane's wording
    tests spent more time there than testing)."""
    if "tmp_path" in request.fixturenames:
        folder = request.getfixturevalue("tmp_path")
    else:
        folder = request.getfixturevalue("isolated_root") / str(next(ISOLATED))
        folder.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(folder / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    return folder


@pytest.fixture(autouse=True)
def builtin_policy():
    """Every test starts on the built-in pricing policy: loading a configuration makes its policy
    the process's (kiosk/settings/pricing.py), and one test's must not price the next one's."""
    yield
    from kiosk.settings.pricing import use_policy_file

    use_policy_file(None)


@pytest.fixture(autouse=True)
def steady_cursor(request, monkeypatch):
    """A snapshot shows an input's cursor, as it is right after a key: never blinked off. The
    blink is a 0.5 s timer, and on a busy machine (the suite runs on every core) the screenshot
    can come later than that."""
    if "snap_compare" not in request.fixturenames:
        return
    from textual.widgets import Input

    made = Input.__init__

    def without_blink(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self.cursor_blink = False

    monkeypatch.setattr(Input, "__init__", without_blink)


@pytest.fixture
def db(tmp_path):
    from db.connection import open_database

    database = open_database(tmp_path / "kiosk.sqlite3")
    yield database
    database.close()


@pytest.fixture
def catalog(db):
    from kiosk.store.catalog import ensure_catalog, load_catalog

    ensure_catalog()
    return load_catalog()


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """The `kiosk` command, in process: main() with stdin; (exit status, stdout, stderr)."""
    import io
    import sys

    from kiosk.cli import main

    def invoke(*argv: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(["--db", str(tmp_path / "k.sqlite3"), *argv])
        out = capsys.readouterr()
        return status, out.out, out.err

    return invoke


# ---- figures: a test that measures something a reader wants to see (taps counted, say) records it with
# request.node.user_properties.append(("figures", "…")); the line is printed at the end of the run, from
# xdist's workers too (their reports carry user_properties to the controller).
def pytest_terminal_summary(terminalreporter):
    lines = [f"{report.nodeid}: {value}" for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == "figures"]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
