"""The receipt's figure beside the counter's, line by line, and why they differ.

A clerk who corrects a line at intake (kiosk/store/desk.py price_intake) prices the ticket
again; the customer holds a receipt with the kiosk's figures. Never a second total without
saying why: for each line whose figure or details changed, `differences` names what changed
(the fee row, quantity, use, points, ranges, metres, AC+DC, extra data, refused), and when
nothing the clerk did explains a different figure, the reason is the price basis: this desk's
catalogue or policy is not the one the kiosk priced with (`basis`), else a re-pricing that
should have agreed and did not.

Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# How a desk's catalogue and policy compare with what the kiosk priced a ticket with (the hashes
# its code carries): the same | another catalogue | another policy | not known (a format 2 code).
BASES = ("same", "catalogue_differs", "policy_differs", "unknown")

# What may change in a line, in the order a clerk reads them.
DETAILS = ("code", "service", "use", "quantity", "points", "ranges", "metres", "ac_dc", "extra_data")


@dataclass(frozen=True)
class PricedLine:
    """A line with what its price depends on, and its figures (None: not priced: quoted or refused)."""

    code: str
    quantity: int
    service: str
    use: str
    points: int | None = None
    ranges: int | None = None
    metres: Decimal | None = None
    ac_dc: bool = False
    extra_data: bool = False
    amount_fen: int | None = None  # before urgent
    urgent_fen: int | None = None
    refused: bool = False

    @property
    def figure_fen(self) -> int | None:
        """What the line costs, urgent included."""
        return None if self.refused or self.amount_fen is None else self.amount_fen + (self.urgent_fen or 0)


@dataclass(frozen=True)
class Change:
    what: str  # one of DETAILS, or refused | added | basis | repriced
    before: object = None
    after: object = None


@dataclass(frozen=True)
class LineDifference:
    position: int  # in the intake
    receipt: PricedLine | None  # None: a line the receipt does not have
    now: PricedLine
    changes: tuple[Change, ...]


def differences(receipt: Sequence[PricedLine | None], now: Sequence[PricedLine],
                basis: str) -> tuple[LineDifference, ...]:
    """The lines whose details or figures differ from the receipt's, each with why.
    `receipt[i]`: the registered line intake line i stands for (None: added at the counter)."""
    if basis not in BASES:
        raise ValueError(f"unknown price basis {basis!r}")
    found = []
    for position, (before, after) in enumerate(zip(receipt, now)):
        if before is None:
            found.append(LineDifference(position, None, after, (Change("added"),)))
            continue
        changes = [Change(what, getattr(before, what), getattr(after, what)) for what in DETAILS
                   if getattr(before, what) != getattr(after, what)]
        if after.refused:
            changes.append(Change("refused"))
        same_figures = (before.amount_fen, before.urgent_fen) == (after.amount_fen, after.urgent_fen)
        if not changes and not same_figures:
            changes.append(Change("basis", basis) if basis != "same" else Change("repriced"))
        if changes:
            found.append(LineDifference(position, before, after, tuple(changes)))
    return tuple(found)
