"""What a label printer says when asked, after a job, whether it has it: TSPL's `<ESC>!?` and
ZPL's `~HS`. Both are immediate commands, answered as they arrive: the state at that moment,
not after the commands before them, so idle may still mean "not started" (printer/escpos_backend.py
asks until idle has lasted a settle time; this reads the answers).

A reading is READY (idle, no fault), BUSY (still printing: ask again) or
None (not an answer); a fault raises the PrinterError of its kind, so the desk's reason words fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..uri import PrinterError

if TYPE_CHECKING:
    from collections.abc import Callable

READY, BUSY = "ready", "busy"

# TSPL <ESC>!?: one raw status byte, 0x00 "ready to print labels", one bit a condition (TSC
# TSPL/TSPL2 Programming Manual, "<ESC>!?"; the same table in Gprinter's, a TSPL printer sold in
# China: https://manualshive.com/en/manual/gprinter/gp-2120t/2248971?page=34): bit 0 head
# opened, 1 paper jam, 2 out of paper, 3 out of ribbon, 4 pause, 5 printing, 6 cover opened
# (option), 7 "other error" in the manual's hex table, "environment temperature over range
# (option)" in its bit table. The byte is the printer's state when the question arrives, which is
# at once (an immediate command), not after the commands before it: 0x00 is idle now.
TSPL_QUERY = b"\x1b!?"
TSPL_HEAD_OPEN, TSPL_PAPER_JAM, TSPL_PAPER_OUT, TSPL_RIBBON_OUT = 0x01, 0x02, 0x04, 0x08
TSPL_PAUSE, TSPL_PRINTING, TSPL_COVER_OPEN, TSPL_OTHER_ERROR = 0x10, 0x20, 0x40, 0x80

# ZPL ~HS: three <STX>...<ETX><CR><LF> strings of comma-separated fields (Zebra ZPL II
# Programming Guide 45541L-004, ~HS Host Status Return, pp. 171-172, and
# https://docs.zebra.com/us/en/printers/software/zpl-pg/zpl-commands/~hs4.html). Current
# firmware does not answer at all when out of media or ribbon, head open, rewinder full or head
# over temperature (same page): such a job stays unconfirmed, without the reason.
ZPL_QUERY = b"~HS"
STX, ETX = b"\x02", b"\x03"
# String 1: aaa comms, b paper out, c pause, dddd label length, eee formats in the receive
# buffer, f buffer full, g communications diagnostic mode, h partial format, iii unused,
# j corrupt RAM, k under temperature, l over temperature. A full buffer holds formats (eee),
# and lost settings (j) do not stop labels coming out: neither is read.
Z1_PAPER_OUT, Z1_PAUSE, Z1_FORMATS, Z1_DIAGNOSTIC, Z1_PARTIAL = 1, 2, 4, 6, 7
Z1_UNDER_TEMP, Z1_OVER_TEMP = 10, 11
# String 2: mmm function settings, n unused, o head up, p ribbon out, q thermal transfer,
# r print mode, s print width mode, t label waiting (peel-off: printed, not yet taken),
# uuuuuuuu labels remaining in the batch, v format while printing (always 1), www graphics
# stored. String 3: xxxx password, y static RAM installed; nothing there says what printed.
Z2_HEAD_UP, Z2_RIBBON_OUT, Z2_REMAINING = 2, 3, 8


# The faults a TSPL status byte reports, in the order they are said (the one a person fixes first).
TSPL_FAULTS = ((TSPL_HEAD_OPEN, ": the print head is open", "cover_open"),
               (TSPL_COVER_OPEN, ": the cover is open", "cover_open"),
               (TSPL_PAPER_OUT, ": out of labels", "paper_out"),
               (TSPL_PAPER_JAM, ": the labels are jammed", "error"),
               (TSPL_RIBBON_OUT, ": out of ribbon", "error"),
               (TSPL_PAUSE, " is paused", "offline"),
               (TSPL_OTHER_ERROR, " reports an error (or a temperature out of range)", "error"))


def read_tspl(answer: bytes, where: str) -> str | None:
    byte = answer[-1]  # the latest, should an earlier answer have come late
    for bit, says, kind in TSPL_FAULTS:
        if byte & bit:
            raise PrinterError(f"{where}{says}", kind=kind)
    return BUSY if byte & TSPL_PRINTING else READY  # every other bit is a fault


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
    if flag(first, Z1_DIAGNOSTIC):  # ~JD: what arrives is printed as hex, not as labels
        raise PrinterError(f"{where} is in communications diagnostic mode", kind="error")
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
