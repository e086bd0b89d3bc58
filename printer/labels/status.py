"""What a label printer says when asked, after a job, whether it has it: TSPL's `<ESC>!?` and
ZPL's `~HS`. Both are immediate commands, answered as they arrive, so after every byte before
them (like ESC/POS DLE EOT). printer/escpos_backend.py asks; this reads the answers.

A reading is READY (idle, no fault: the labels came out), BUSY (still printing: ask again) or
None (not an answer); a fault raises the PrinterError of its kind, so the desk's reason words fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..uri import PrinterError

if TYPE_CHECKING:
    from collections.abc import Callable

READY, BUSY = "ready", "busy"

# TSPL <ESC>!?: one status byte, 0x00 ready (TSC TSPL/TSPL2 programming manual).
TSPL_QUERY = b"\x1b!?"
TSPL_HEAD_OPEN, TSPL_PAPER_JAM, TSPL_PAPER_OUT, TSPL_RIBBON_OUT = 0x01, 0x02, 0x04, 0x08
TSPL_PAUSE, TSPL_PRINTING, TSPL_OTHER_ERROR = 0x10, 0x20, 0x80

# ZPL ~HS: three <STX>...<ETX><CR><LF> strings of comma-separated fields (ZPL II manual).
ZPL_QUERY = b"~HS"
STX, ETX = b"\x02", b"\x03"
# String 1: aaa comms, b paper out, c pause, dddd label length, eee formats in the receive
# buffer, f buffer full, g diagnostic mode, h partial format, iii unused, j corrupt RAM,
# k under temperature, l over temperature.
Z1_PAPER_OUT, Z1_PAUSE, Z1_FORMATS, Z1_PARTIAL, Z1_UNDER_TEMP, Z1_OVER_TEMP = 1, 2, 4, 7, 10, 11
# String 2: mmm function settings, n unused, o head up, p ribbon out, q thermal transfer,
# r print mode, s width mode, t label waiting, uuuuuuuu labels remaining in the batch, ...
Z2_HEAD_UP, Z2_RIBBON_OUT, Z2_REMAINING = 2, 3, 8


# The faults a TSPL status byte reports, in the order they are said (the one a person fixes first).
TSPL_FAULTS = ((TSPL_HEAD_OPEN, ": the print head is open", "cover_open"),
               (TSPL_PAPER_OUT, ": out of labels", "paper_out"),
               (TSPL_PAPER_JAM, ": the labels are jammed", "error"),
               (TSPL_RIBBON_OUT, ": out of ribbon", "error"),
               (TSPL_PAUSE, " is paused", "offline"),
               (TSPL_OTHER_ERROR, " reports an error", "error"))


def read_tspl(answer: bytes, where: str) -> str | None:
    byte = answer[-1]  # the latest, should an earlier answer have come late
    for bit, says, kind in TSPL_FAULTS:
        if byte & bit:
            raise PrinterError(f"{where}{says}", kind=kind)
    return BUSY if byte & TSPL_PRINTING else READY if byte == 0 else None


def zpl_strings(answer: bytes) -> list[list[str]]:
    """The framed strings of a ~HS answer received so far, each split into its fields."""
    strings = []
    for part in answer.split(STX)[1:]:
        body, end, _ = part.partition(ETX)
        if end:
            strings.append(body.decode("ascii", "replace").split(","))
    return strings


def read_zpl(answer: bytes, where: str) -> str | None:
    strings = zpl_strings(answer)
    if len(strings) != 3 or len(strings[0]) < 12 or len(strings[1]) < 9:
        return None
    first, second = strings[0], strings[1]

    def flag(fields: list[str], i: int) -> bool:
        return fields[i].strip() == "1"

    def count(fields: list[str], i: int) -> int | None:
        value = fields[i].strip()
        return int(value) if value.isdigit() else None

    if flag(second, Z2_HEAD_UP):
        raise PrinterError(f"{where}: the print head is open", kind="cover_open")
    if flag(first, Z1_PAPER_OUT):
        raise PrinterError(f"{where}: out of labels", kind="paper_out")
    if flag(second, Z2_RIBBON_OUT):
        raise PrinterError(f"{where}: out of ribbon", kind="error")
    if flag(first, Z1_UNDER_TEMP) or flag(first, Z1_OVER_TEMP):
        raise PrinterError(f"{where}: the print head is too cold or too hot", kind="error")
    if flag(first, Z1_PAUSE):
        raise PrinterError(f"{where} is paused", kind="offline")
    formats, remaining = count(first, Z1_FORMATS), count(second, Z2_REMAINING)
    if formats is None or remaining is None:
        return None
    return BUSY if formats or remaining or flag(first, Z1_PARTIAL) else READY


@dataclass(frozen=True)
class LabelStatus:
    """A label language's status query: what to send, when its answer is whole, how to read it."""

    query: bytes
    complete: Callable[[bytes], bool]
    read: Callable[[bytes, str], str | None]


LABEL_STATUS = {  # by the label printer's language, which is also its Media.confirm
    "tspl": LabelStatus(TSPL_QUERY, lambda answer: len(answer) >= 1, read_tspl),
    "zpl": LabelStatus(ZPL_QUERY, lambda answer: len(zpl_strings(answer)) >= 3, read_zpl),
}
