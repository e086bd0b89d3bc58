"""The instrument labels printed at intake (ISO/IEC 17025 §7.4.2: each item identified while the
lab holds it): one per instrument taken in, refused lines none, composed here from the stored
intake and printed on the label printer (`[labels]` in the configuration: TSPL or ZPL) or, when
none is configured, on the receipt printer, one label per cut (kiosk/printing/spool.py).

A label's QR code is the ticket number, the line and the instrument, separated by spaces (which
every keyboard-wedge scanner types alike): `K1A 261124 0007 2 1` is line 2's first instrument.
kiosk/store/desk.py identify reads it back. No personal data on a label.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.i18n import t
from kiosk.printing.receipts import CounterFacts, counter_facts, voucher_qr
from printer.labels.document import Label, LabelSheet, QrWay

if TYPE_CHECKING:
    from collections.abc import Callable


def label_qr(number: str, line: int, instrument: int) -> str:
    """What a label's QR code carries: line and instrument counted from 1."""
    return f"{voucher_qr(number)} {line} {instrument}"


def instrument_labels(facts: CounterFacts, lang: str) -> LabelSheet:
    """One label per instrument of each line taken in, in the voucher's line numbers, each with
    the boxes the lab ticks as the instrument moves (待检 在检 已检), 待检 already marked: the
    instrument waits from the moment it is taken in."""
    labels = []
    count = len(facts.lines)
    received = t("label.received", lang, date=facts.at.date().isoformat())
    boxes = (t("label.awaiting", lang), t("label.testing", lang), t("label.tested", lang))
    for i, ln in enumerate(facts.lines):
        if ln.refused:
            continue
        name = ln.name_zh if lang == "zh" else ln.name_en
        for k in range(ln.quantity):
            where = t("label.line", lang, line=f"{i + 1}/{count}")
            if ln.quantity > 1:
                where += t("label.instrument", lang, instrument=f"{k + 1}/{ln.quantity}")
            lines = [where, name]
            if ln.serial_number:
                lines.append(t("label.serial", lang, serial=ln.serial_number))
            lines.append(received)
            labels.append(Label(facts.number, tuple(lines), label_qr(facts.number, i + 1, k + 1), boxes,
                                ticked=0))
    return LabelSheet(tuple(labels), name=f"labels-{facts.number}")


def ticket_labels(ticket_id: int, lang: str) -> LabelSheet:
    return instrument_labels(counter_facts(ticket_id, "received"), lang)


@dataclass(frozen=True)
class LabelPrinter:
    """A configured label printer: its URI, language (tspl | zpl), stock and QR way."""

    uri: str
    language: str = "tspl"
    media: str = "40x30"
    qr: str = "native"

    @classmethod
    def from_config(cls, config) -> LabelPrinter | None:
        """None: no label printer, the labels go to the receipt printer."""
        if not config.label_uri:
            return None
        return cls(config.label_uri, config.label_language, config.label_size, config.label_qr)

    def render(self, sheet: LabelSheet, font) -> bytes:
        from printer.fonts import font_chain
        from printer.labels.document import MEDIA
        from printer.labels.tspl import render_tspl
        from printer.labels.zpl import render_zpl

        render = render_zpl if self.language == "zpl" else render_tspl
        # The configuration allows "native" or "image" (kiosk/settings/config.py), and the
        # renderers take anything but "image" as native: the same, spelled as their QrWay.
        qr: QrWay = "image" if self.qr == "image" else "native"
        return render(sheet, MEDIA[self.media], font_chain(font), qr)


def send_labels(sheet: LabelSheet, job_id: int, printer: LabelPrinter, base_dir: Path, font=None,
                open_printer: Callable | None = None):
    """Render and print on the label printer; None when it says it printed them, else the
    PrinterError (`delivered` when it did not confirm). No database."""
    from printer.backends import Job, attempt, open_backend, parse_printer_uri
    from printer.labels.document import MEDIA

    def send() -> None:
        data = printer.render(sheet, font)
        spec = parse_printer_uri(printer.uri)
        backend = open_printer() if open_printer else open_backend(spec, base_dir=base_dir, font=font)
        # Asked after the job in its own language (printer/labels/status.py), never DLE EOT:
        # check() is not called, and the job's confirm is the language's status query.
        media = replace(MEDIA[printer.media], confirm=printer.language)
        with backend:
            backend.send(Job(f"{sheet.name}-{job_id}", data, sheet, media))

    return attempt(send)
