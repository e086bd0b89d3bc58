"""The institute's rules for 好差评 (the institute file's `[ratings]`, kiosk/settings/institute.py),
apart from the rest of kiosk/domain/feedback.py (which re-exports them): the institute file is read
before the kiosk's first frame, and feedback's rules are not needed until a customer rates."""

from __future__ import annotations

from dataclasses import dataclass

FOLLOWUP_WORKING_DAYS = 15


@dataclass(frozen=True)
class RatingRules:
    """The institute's rules for 好差评 (the institute file's `[ratings]`): a poor rating's work
    order is due `days` days after the rating, working days (weekends and the holiday list
    excluded) or calendar days; the customer is called back within `callback_hours` hours (None:
    no such rule). `department`: the institute's name or code as the provincial platform knows it,
    in the export. The default is the rule followed so far: 15 working days, no call-back hours."""

    days: int = FOLLOWUP_WORKING_DAYS
    working_days: bool = True
    callback_hours: int | None = None
    department: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int) or not 1 <= self.days <= 365:
            raise ValueError(f"days: 1 to 365, not {self.days!r}")
        hours = self.callback_hours
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720):
            raise ValueError(f"callback_hours: 1 to 720, or none, not {hours!r}")


DEFAULT_RULES = RatingRules()
