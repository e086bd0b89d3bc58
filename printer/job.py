"""What every printer backend shares: the Job it prints and the Backend interface
(`check()`, `send()`, `close()`). The backends themselves are in printer.backends (file,
CUPS, preview) and printer.escpos_backend (usb, serial, tcp through python-escpos).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .document import Document
    from .labels.document import LabelSheet, Media
    from .profiles import Profile

CHUNK_SIZE = 4096  # a job goes out in pieces of this size, each within the timeout

_JOB_NAME = re.compile(r"[\w][\w.-]{0,119}")


@dataclass(frozen=True)
class Job:
    """One receipt to print: `data` is the ESC/POS bytes, already rendered from `document`
    for `profile`; or a sheet of labels, `data` its TSPL or ZPL for the label stock `profile`
    (a LabelSheet goes with its Media: kiosk/printing/labels.py). `name` names preview files
    and log lines: a ticket number and job id, never personal data; letters, digits, '.', '_'
    and '-' only."""

    name: str
    data: bytes = field(repr=False)
    document: Document | LabelSheet = field(repr=False)
    profile: Profile | Media = field(repr=False)

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name or "") or ".." in self.name:
            raise ValueError(f"print job name {self.name!r} is not a safe file name")
        if not isinstance(self.data, bytes | bytearray | memoryview):
            raise TypeError("Job.data must be bytes")


class Backend:
    """Where jobs go. `check()` before printing, `send()` to print, `close()` (or `with`)."""

    description = "printer"

    def check(self) -> None:
        """Raise PrinterError offline / paper_out / cover_open if the printer says so;
        return if it is ready or cannot tell."""

    def send(self, job: Job) -> None:
        """Return once the printer has the job; else raise PrinterError, with `delivered`
        when every byte went out but the printer did not confirm it (printer.uri)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"
