"""The institute's file for this device: the one its config names (`[kiosk] info_file`), else the
demo's shipped with the package, and its holiday list. What the file says and how it is checked:
kiosk/domain/institute.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kiosk.domain.holidays import load_calendar
from kiosk.domain.institute import InstituteFileError, InstituteInfo, Text, parse_institute, read_toml
from kiosk.settings.decoded import kept_in

__all__ = ["DEFAULT_FILE", "InstituteFileError", "InstituteInfo", "Text", "kept_file", "load_institute",
           "parse_institute"]

# The demo institute, shipped as package data beside this module.
DEFAULT_FILE = Path(__file__).parent.parent / "data" / "institute.toml"


def kept_file(data_dir: Path) -> Path:
    """Where a station keeps its institute file decoded between starts (`load_institute`'s `kept`)."""
    return data_dir / "cache" / "institute.marshal"


def load_institute(path: Path | None = None, holidays: Path | None = None, kept: Path | None = None) -> InstituteInfo:
    """The institute's texts from `path` (None: the demo's), and its holiday list. `kept`: a file
    where its decoded text is kept between starts (kiosk/settings/decoded.py), for a station."""
    decode = read_toml if kept is None else kept_in(kept, read_toml)
    if path is None:
        info = parse_institute(DEFAULT_FILE.read_text("utf-8"), "institute.toml", decode)
    else:
        try:
            info = parse_institute(path.read_text("utf-8"), str(path), decode)
        except (OSError, UnicodeDecodeError) as e:
            raise InstituteFileError(f"{path}: {e}") from None
    return replace(info, calendar=load_calendar(holidays)) if holidays is not None else info
