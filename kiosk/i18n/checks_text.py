"""The words of certificate checks (kiosk/domain/certificate_check.py): the points and the
conclusions by name, for the desk's screen, the back office and the CLI."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.i18n import t

POINT_KEYS = {"instrument": "check.point.instrument", "serial": "check.point.serial", "holder": "check.point.holder",
              "conclusion": "check.point.conclusion", "due_date": "check.point.due_date",
              "copies": "check.point.copies"}
CONCLUSION_KEYS = {"pass": "check.conclusion.pass", "fail": "check.conclusion.fail",
                   "results": "check.conclusion.results"}


def point_words(points: Iterable[str], lang: str) -> str:
    """The points, worded, in the order given."""
    return ("、" if lang == "zh" else ", ").join(t(POINT_KEYS[p], lang) for p in points if p in POINT_KEYS)


def reasons_text(reasons: dict[str, int], lang: str) -> str:
    """`{point: times}` as "编号 2、单位 1"."""
    return ("、" if lang == "zh" else ", ").join(f"{t(POINT_KEYS[p], lang)} {n}" for p, n in reasons.items()
                                                if p in POINT_KEYS)
