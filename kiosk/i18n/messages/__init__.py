"""The zh/en message catalogue, one module per feature, each a plain dict (key -> (zh, en)): Chinese
first, and every user-visible string lives here. Plain Python, so start-up reads compiled bytecode and
parses no .po file. tests/test_i18n.py checks no key is in two modules and both texts of each key take
the same placeholders.

Read by feature: kiosk.i18n loads the FIRST features at start-up (all that the kiosk's first frame
says) and the others when a key not among them is first asked for; `MESSAGES` here is the whole
catalogue, loaded when first named."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

# The modules of this package, by feature (kiosk/i18n/messages/<feature>.py).
FEATURES = ("app", "welcome", "estimate", "registration", "ticket", "progress", "feedback", "desk", "followups",
            "worklist", "due", "satisfaction", "ops", "maintenance", "keyboard", "notices", "checks", "pad",
            "ledger", "prepared")
FIRST = ("app", "welcome")  # the words of the kiosk's first frame: its title bar and welcome screen


def load(features: Iterable[str] = FEATURES) -> dict[str, tuple[str, str]]:
    """The messages of these features, merged (dict.update: ~750 keys copied in C)."""
    merged: dict[str, tuple[str, str]] = {}
    for feature in features:
        merged.update(import_module(f"{__name__}.{feature}").MESSAGES)
    return merged


def __getattr__(name: str) -> dict[str, tuple[str, str]]:
    if name == "MESSAGES":  # the whole catalogue
        messages = globals()["MESSAGES"] = load()
        return messages
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
