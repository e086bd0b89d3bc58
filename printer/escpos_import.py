"""Importing python-escpos, the one way: never at start-up (it costs 50-185 ms), and with
its capabilities cache in our cache directory (by default every import pickles its printer
database into a fresh temporary directory: escpos/capabilities.py).

That cache is written here, atomically, before escpos is imported. python-escpos writes it
itself by opening the file for writing (truncating it) and dumping ~100 ms later; another
process importing meanwhile reads an empty pickle and fails, and a process killed in that
window (a power cut at the first receipt) leaves an empty pickle that every later import
fails on: no receipt would ever print again. So: a complete, newer pickle is always in
place when escpos looks, and a damaged one is replaced."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import ModuleType


def import_escpos() -> ModuleType:
    """The `escpos` package, its printer classes, constants and exceptions loaded."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        folder = _cache_dir()
        try:
            _ensure_pickle(folder)
        except OSError:  # a full or read-only disk: escpos' own way, a folder for this process
            folder = Path(tempfile.mkdtemp(prefix="metrology-kiosk-escpos-"))
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)
    # python-escpos ships no type information (no py.typed, no stubs in typeshed)
    import escpos.constants  # type: ignore[import-untyped]
    import escpos.escpos  # type: ignore[import-untyped]
    import escpos.exceptions  # type: ignore[import-untyped]
    import escpos.printer  # type: ignore[import-untyped]

    return escpos


def _ensure_pickle(folder: Path) -> None:
    """The capabilities pickle escpos will look for, complete and newer than its source."""
    import importlib.util
    import pickle
    import platform

    target = folder / f"{platform.python_version()}.capabilities.pickle"  # escpos' own name
    given = os.environ.get("ESCPOS_CAPABILITIES_FILE")
    if given:
        source = Path(given)
    else:
        spec = importlib.util.find_spec("escpos")  # finds it without importing it
        # No spec (or a plain module, not a package) only without python-escpos installed: fail
        # as importing it would, not with an AttributeError on None.
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("No module named 'escpos'", name="escpos")
        source = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
    try:
        if target.stat().st_mtime >= source.stat().st_mtime:
            with target.open("rb") as f:
                pickle.load(f)
            return  # complete and current
    except FileNotFoundError:
        pass
    except (EOFError, pickle.UnpicklingError, ValueError, AttributeError, IndexError):
        pass  # cut off or damaged: written again below
    # escpos' own dependency, and how escpos reads the file. Untyped here: PyYAML ships no
    # py.typed and types-PyYAML is not among the dev dependencies (once it is, mypy flags this).
    import yaml  # type: ignore[import-untyped]

    with source.open(encoding="utf-8") as f:
        capabilities = yaml.safe_load(f)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".capabilities-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(capabilities, f, protocol=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir

        cache = Path(user_cache_dir("metrology-kiosk", appauthor=False)) / "escpos"
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.access(cache, os.W_OK):
            return cache
    except OSError:
        pass
    cache = Path(tempfile.gettempdir()) / f"metrology-kiosk-escpos-{os.getuid() if hasattr(os, 'getuid') else 0}"
    cache.mkdir(exist_ok=True, mode=0o700)
    return cache
