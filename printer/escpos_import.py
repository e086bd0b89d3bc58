"""Importing python-escpos, the one way: never at start-up (it costs 50-185 ms), and with
its capabilities cache in our cache directory (by default every import pickles its printer
database into a fresh temporary directory: escpos/capabilities.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def import_escpos():
    """The `escpos` package, its printer classes, constants and exceptions loaded."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(_cache_dir())
    import escpos.constants
    import escpos.escpos
    import escpos.exceptions
    import escpos.printer

    return escpos


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
