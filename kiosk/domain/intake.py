"""What was taken in at the receiving counter: a line as received, and when it falls due again.

Plain data: the pickup slip prints it (kiosk/printing/receipts.py), the due list counts from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.domain.workdays import add_months


@dataclass(frozen=True)
class CounterLine:
    """One line as taken in at the receiving counter."""

    name_zh: str
    name_en: str
    code: str
    quantity: int
    unit: str
    service: str
    condition: str
    accessories: str
    serial_number: str
    refused: bool
    cycle_months: int | None  # verification cycle of its fee row


def next_due(line: CounterLine, picked_up: date) -> date | None:
    """When the instrument must be verified again: only verification lines with a cycle."""
    if line.refused or line.service != "verification" or not line.cycle_months:
        return None
    return add_months(picked_up, line.cycle_months)


def certificates_of(payload: dict) -> dict[int, tuple[str, ...]]:
    """A pickup step's certificate numbers (kiosk/domain/events.py PickedUp): intake position ->
    one per instrument, in order ("": none noted for that one). A step written before numbers
    were per instrument gives its line's one number as the first instrument's."""
    return {int(k): (v,) if isinstance(v, str) else tuple(v) for k, v in (payload.get("certificates") or {}).items()}
