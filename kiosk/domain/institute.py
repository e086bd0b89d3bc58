"""The institute's file (institute.toml, which the institute edits; central keeps a version of it and
syncs it to every device): its own words for the welcome screen, receipts and the public site, its
place names and its 好差评 rules, checked. One parser for every reader: the kiosk and the desks
(kiosk/settings/institute.py loads the file), central (central/institute.py) and its notices.

Pure: no database, no screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from kiosk.domain.hidden_text import hidden_at  # not validation's patterns: read before the first frame
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.rating_rules import DEFAULT_RULES, RatingRules  # not all of feedback's: read before the first frame


class InstituteFileError(ValueError):
    pass


# Each dataclass read before the first frame has a docstring: without one, @dataclass writes one
# from inspect.signature(cls), some 1.5 M instructions each (bench/startup.py --instructions).
# Making one costs some 3.5 M all the same (it compiles each method it writes): a plain pair is a
# NamedTuple, some 0.7 M.


class Text(NamedTuple):
    """A text in both languages."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class InstituteInfo:
    """The institute's own words (the welcome screen, receipts), its days off and its rating rules."""

    name: Text
    hours: Text
    receiving_counter: Text
    dispatch_counter: Text
    commitments: tuple[Text, ...]
    notices: tuple[Text, ...]
    # Its days off (config `holidays_file`): the ready date promised on screen and on the
    # receipt, and a follow-up's deadline, count working days by it.
    calendar: Calendar = WEEKENDS_ONLY
    # Place names of its province (cities, counties, districts), in Chinese: the on-screen keyboard
    # offers them first (kiosk.ime.institute_vocabulary), as customers' organisations are named by them.
    places: tuple[str, ...] = ()
    # 好差评 (the optional `[ratings]` table): a poor rating's work-order deadline, working or
    # calendar days, the call-back hours, the department named in the provincial export.
    ratings: RatingRules = DEFAULT_RULES
    # What the institute offers, in a sentence each (the optional `[[services]]`): the public site's list.
    services: tuple[Text, ...] = ()


def _text(table, where: str, zh: str = "zh", en: str = "en") -> Text:
    if not isinstance(table, dict):
        raise InstituteFileError(f"{where}: missing")
    values = [v.strip() if isinstance(v, str) else "" for v in (table.get(zh), table.get(en))]
    if not all(values):
        raise InstituteFileError(f"{where}: needs both {zh} and {en} text")
    return Text(values[0], values[1])


def _texts(value, where: str) -> tuple[Text, ...]:
    if not isinstance(value, list):
        raise InstituteFileError(f"{where}: must be a list of tables")
    return tuple(_text(item, where) for item in value)


def _places(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InstituteFileError(f"{where}: must be a list of names")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _ratings(table, where: str) -> RatingRules:
    """`[ratings]`: days (15), working_days (true), callback_hours (none), department ("")."""
    if not isinstance(table, dict):
        raise InstituteFileError(f"{where}: must be a table")
    unknown = set(table) - {"days", "working_days", "callback_hours", "department"}
    if unknown:
        raise InstituteFileError(f"{where}: unknown {', '.join(sorted(unknown))}")
    working = table.get("working_days", True)
    department = table.get("department", "")
    if not isinstance(working, bool) or not isinstance(department, str):
        raise InstituteFileError(f"{where}: working_days is true or false, department is text")
    try:
        return RatingRules(table.get("days", DEFAULT_RULES.days), working, table.get("callback_hours"),
                           department.strip())
    except ValueError as e:
        raise InstituteFileError(f"{where}: {e}") from None


def read_toml(text: str) -> dict:
    """The text's TOML tables (tomllib.TOMLDecodeError, a ValueError, if it is not TOML)."""
    import tomllib  # here: a kiosk whose file was kept decoded (kiosk/settings/decoded.py) never needs it

    return tomllib.loads(text)


def parse_institute(text: str, source: str, decode: Callable[[str], dict] = read_toml) -> InstituteInfo:
    """The file's `text`, checked. `decode`: its tables (`read_toml`, or the same kept between starts)."""
    try:
        data = decode(text)
    except ValueError as e:
        raise InstituteFileError(f"{source}: not valid TOML: {e}") from None
    # Every text here is shown to customers and printed: a control or invisible format character
    # (a U+202E pasted with a name, a zero-width space) would show as nothing, or turn text round.
    hidden = hidden_at(data, "")
    if hidden:
        raise InstituteFileError(f"{source}: {hidden[1:]}: contains an invisible character (control or format)")
    counters = data.get("counters")
    return InstituteInfo(
        name=_text(data.get("name"), f"{source}: [name]"),
        hours=_text(data.get("hours"), f"{source}: [hours]"),
        receiving_counter=_text(counters, f"{source}: [counters]", "receiving_zh", "receiving_en"),
        dispatch_counter=_text(counters, f"{source}: [counters]", "dispatch_zh", "dispatch_en"),
        commitments=_texts(data.get("commitments", []), f"{source}: [[commitments]]"),
        notices=_texts(data.get("notices", []), f"{source}: [[notices]]"),
        places=_places(data.get("places", []), f"{source}: places"),
        ratings=_ratings(data.get("ratings", {}), f"{source}: [ratings]"),
        services=_texts(data.get("services", []), f"{source}: [[services]]"),
    )
