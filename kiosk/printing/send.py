"""The device part of printing, with no database: a claimed job, the printer settings, and
rendering and sending one job. The print spool (kiosk/printing/spool.py) claims and finishes
jobs in the database; this runs between, in the calling process (`kiosk` commands) or in the
print worker's child process (kiosk/printing/worker.py: the kiosk and the desk), which is why
it must not import db/ or peewee.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from printer.document import Document
from printer.labels.document import LabelSheet, on_receipt

if TYPE_CHECKING:  # kiosk.printing.labels imports the receipts' composition: ~0.3 s the print worker's child
    from kiosk.printing.labels import LabelPrinter  # would wait for at each start, for a desk's labels only


@dataclass(frozen=True)
class PrinterSettings:
    uri: str
    profile: str
    font: Path | None
    base_dir: Path  # a relative preview:// directory is under it
    labels: LabelPrinter | None = None  # None: instrument labels print here, one per cut

    @classmethod
    def from_config(cls, config) -> PrinterSettings:
        from kiosk.printing.labels import LabelPrinter

        return cls(config.printer_uri, config.printer_profile, config.printer_font, config.data_dir,
                   LabelPrinter.from_config(config))


@dataclass(frozen=True)
class ClaimedJob:
    job_id: int
    ticket_id: int
    attempt: int
    document: Document | LabelSheet  # LabelSheet: a "labels" job (kiosk/printing/labels.py)


def send_job(claimed: ClaimedJob, settings: PrinterSettings, open_printer: Callable | None = None):
    """Render and print; returns None when printed, else the PrinterError. No database."""
    try:
        document = claimed.document
        if isinstance(document, LabelSheet):  # instrument labels: on the label printer if there is one
            if settings.labels is not None:
                from kiosk.printing.labels import send_labels

                return send_labels(
                    document, claimed.job_id, settings.labels, settings.base_dir, settings.font, open_printer
                )
            document = on_receipt(document)
        return send_document(document, f"{document.name}-{claimed.job_id}", settings, open_printer)
    finally:
        give_memory_back()


_malloc_trim: Callable[[int], int] | bool | None = None  # glibc's, once looked up; False: the C library has none


def give_memory_back() -> None:
    """After a print job: the memory its rendering freed (PIL images, glyphs, the PNG preview,
    escpos' buffers) stays in glibc's arenas until malloc_trim(0) returns their free pages to the
    system (~2 MB of a process that prints: the print worker's child, or a `kiosk` command). A C
    library without it (musl) keeps them, as before."""
    global _malloc_trim
    if _malloc_trim is None:
        import ctypes

        try:
            trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
            return
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        _malloc_trim = trim
    if callable(_malloc_trim):
        _malloc_trim(0)


def send_document(document: Document, name: str, settings: PrinterSettings, open_printer: Callable | None = None,
                  render: Callable | None = None):
    """Render `document` for the configured profile (or with `render(profile, font)`: a page that
    is not a receipt, printer/selftest.py) and print it as job `name`; None when the printer said
    it printed, else the PrinterError (`delivered`: unconfirmed). No database."""
    from printer.backends import Job, attempt, open_backend
    from printer.escpos_render import render_escpos
    from printer.profiles import PROFILES

    profile = PROFILES[settings.profile]

    def send() -> None:
        data = (render(profile, settings.font) if render else render_escpos(document, profile, font=settings.font))
        backend = open_printer() if open_printer else open_backend(settings.uri, base_dir=settings.base_dir,
                                                                   font=settings.font)
        with backend:
            backend.check()
            backend.send(Job(name, data, document, profile))

    return attempt(send)
