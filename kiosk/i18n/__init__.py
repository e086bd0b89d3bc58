"""Wording: t() and the catalogue it reads (kiosk/i18n/messages/, by feature), and how money, dates,
quantities and the names of things are written in either language (zh first, en second)."""

from __future__ import annotations

import logging

from kiosk.domain.vocabulary import FIELDS, SERVICE_NAMES, UNITS
from kiosk.i18n import messages as _messages
from kiosk.i18n.keys import USES

log = logging.getLogger(__name__)

# The messages t() reads: the first frame's at start-up (messages.FIRST), every feature's once a key
# not among them is asked for (`_all`). The same dict throughout: `MESSAGES` is it, whole.
_catalogue: dict[str, tuple[str, str]] = _messages.load(_messages.FIRST)
_complete = False


def _all() -> dict[str, tuple[str, str]]:
    """The whole catalogue: the features not loaded yet, added to `_catalogue`."""
    global _complete
    if not _complete:
        _catalogue.update(_messages.load(f for f in _messages.FEATURES if f not in _messages.FIRST))
        _complete = True
    return _catalogue


def __getattr__(name: str) -> dict[str, tuple[str, str]]:
    if name == "MESSAGES":  # the whole catalogue (tests, tools): every feature's words loaded
        return _all()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# A missing key or placeholder value is a bug, but in front of a customer a word in brackets beats a
# crashed screen. Tests may set `strict` to have it raise instead (KeyError, as before).
strict = False
_reported: set[tuple[str, str]] = set()


class _Blanks(dict):
    """The values a message was given; a placeholder without one is shown as [name]."""

    def __missing__(self, name: str) -> str:
        return f"[{name}]"


def _report(key: str, what: str) -> None:
    """Log a wording bug once per key and problem (names only, never a value: they may be personal)."""
    if strict:
        raise KeyError(f"{key}: {what}")
    if (key, what) not in _reported:
        _reported.add((key, what))
        log.warning("message %s: %s", key, what)


def t(key: str, lang: str = "zh", **values) -> str:
    """The message `key` in `lang` (zh, else en) with its {placeholders} filled from `values`. A key
    not in the catalogue shows as [key], a placeholder without a value as [name]; each is logged once."""
    texts = _catalogue.get(key) or _all().get(key)
    if texts is None:
        _report(key, "no such message")
        return f"[{key}]"
    text = texts[0] if lang == "zh" else texts[1]
    try:
        return text.format(**values)
    except KeyError as e:
        _report(key, f"no value for {{{e.args[0]}}}")
        return text.format_map(_Blanks(values))


def service_name(service: str, lang: str) -> str:
    zh, en = SERVICE_NAMES[service]
    return zh if lang == "zh" else en


def unit_name(unit: str, lang: str) -> str:
    return unit if lang == "zh" else UNITS.get(unit, unit)


def field_name(letter: str, lang: str) -> str:
    zh, en = FIELDS[letter]
    return zh if lang == "zh" else en


def use_name(use: str, lang: str) -> str:
    return t(USES[use], lang)


def name_of(item, lang: str) -> str:
    """A fee row's or an estimate line's name."""
    return item.name_zh if lang == "zh" else item.name_en


def spec_of(item, lang: str) -> str:
    """Spec / range band and accuracy class; English falls back to the Chinese spec. A class the
    spec names already (声级计 "2级", 砝码 "E2等级 (1mg~100g)") is not said twice."""
    spec = item.spec_zh if lang == "zh" else (item.spec_en or item.spec_zh)
    said = item.accuracy_class and item.accuracy_class in item.spec_zh
    return " ".join(x for x in (spec, None if said else item.accuracy_class) if x)


def unit_price(fen: int | None, unit: str, lang: str) -> str:
    """￥30.00/块, or 面议 when the counter quotes it."""
    return money(fen, lang) if fen is None else f"{money(fen, lang)}/{unit_name(unit, lang)}"


def quantity_text(quantity: int, unit: str, lang: str) -> str:
    """3块 in Chinese (the measure word belongs to the number); 3 in English."""
    return f"{quantity}{unit_name(unit, lang)}" if lang == "zh" else str(quantity)


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_text(day, lang: str) -> str:
    """2026年12月8日 / 8 Dec 2026: never the machine's locale."""
    month = day.month if lang == "zh" else MONTHS_EN[day.month - 1]
    return t("date.format", lang, year=day.year, month=month, day=day.day)


def money(fen: int | None, lang: str) -> str:
    """￥12.50 (full-width yen: the GB18030 receipt font prints it; see the receipts issue)."""
    if fen is None:
        return t("price.quoted", lang)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}￥{fen // 100:,}.{fen % 100:02d}"
