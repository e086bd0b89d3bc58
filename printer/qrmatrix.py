"""The `qrcode` library without PIL, for a process that only needs a QR code's modules (the
kiosk's ticket screen draws them as text: screens/qrtext.py). `import qrcode` loads PIL and
FreeType for backwards compatibility (qrcode/image/styles/moduledrawers/__init__.py imports
its PIL drawers, or skips them on ImportError): ~4 MB of a kiosk's RSS (bench/memory.py) for
nothing it draws. Receipts drawn as images import PIL themselves, in the print worker.
"""

from __future__ import annotations

import importlib
import sys
import threading

_PIL_DRAWERS = "qrcode.image.styles.moduledrawers.pil"
_lock = threading.Lock()


def import_qrcode():
    """The `qrcode` package; if this imports it, its PIL drawers are skipped (they still import
    later, by their own module name, for whoever asks)."""
    if "qrcode" in sys.modules:
        return sys.modules["qrcode"]
    with _lock:
        hidden = _PIL_DRAWERS not in sys.modules
        if hidden:
            # An ImportError for qrcode's backwards-compatible import. typeshed types sys.modules
            # as ModuleType values only, though None there is documented (the import system's
            # "module cache"): as in db/__init__.py.
            sys.modules[_PIL_DRAWERS] = None  # type: ignore[assignment]
        try:
            return importlib.import_module("qrcode")
        finally:
            if hidden and sys.modules.get(_PIL_DRAWERS, 0) is None:
                del sys.modules[_PIL_DRAWERS]
