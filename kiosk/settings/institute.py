"""The institute's file for this device: the one its config names (`[kiosk] info_file`), else the
demo's shipped with the package, and its holiday list. What the file says and how it is checked:
kiosk/domain/institute.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kiosk.domain.holidays import load_calendar
from kiosk.domain.institute import InstituteFileError, InstituteInfo, Text, parse_institute

__all__ = ["DEFAULT_FILE", "InstituteFileError", "InstituteInfo", "Text", "load_institute", "parse_institute"]

# The demo institute, shipped as package data beside this module.
DEFAULT_FILE = Path(__file__).parent.parent / "data" / "institute.toml"


def load_institute(path: Path | None = None, holidays: Path | None = None) -> InstituteInfo:
    """The institute's texts from `path` (None: the demo's), and its holiday list."""
    if path is None:
        info = parse_institute(DEFAULT_FILE.read_text("utf-8"), "institute.toml")
    else:
        try:
            info = parse_institute(path.read_text("utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as e:
            raise InstituteFileError(f"{path}: {e}") from None
    return replace(info, calendar=load_calendar(holidays)) if holidays is not None else info
