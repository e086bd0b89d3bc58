"""The due list's words (周检提醒): its table for a terminal and its CSV for a spreadsheet, in
either language. Privacy: the table masks the phone; the CSV, for the staff who make the
calls, carries it in full.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from kiosk.domain.clock import today as institute_today
from kiosk.domain.due import DueInstrument
from kiosk.domain.spreadsheet import safe_row
from kiosk.domain.validation import mask_phone
from kiosk.i18n import date_text, t
from kiosk.i18n.keys import DUE_COLUMNS
from kiosk.i18n.textwidth import pad

COLUMNS = ("due_on", "number", "organisation", "contact", "phone", "instrument", "code", "serial", "quantity")


def _cells(item: DueInstrument, lang: str, *, full_phone: bool) -> list[str]:
    return [item.due_on.isoformat(), item.number, item.organisation, item.contact,
            item.phone if full_phone else mask_phone(item.phone), item.name_zh if lang == "zh" else item.name_en,
            item.code, item.serial_number, str(item.quantity)]


def format_table(items: list[DueInstrument], lang: str, today: date | None = None) -> str:
    """For a terminal: columns by display width (a hanzi takes two), the phone masked."""
    today = today or institute_today()
    widths = (11, 16, 26, 8, 13, 24, 11, 14, 4)
    lines = [" ".join(pad(t(DUE_COLUMNS[c], lang), w, ">" if c == "quantity" else "<")
                      for c, w in zip(COLUMNS, widths)).rstrip()]
    for item in items:
        cells = _cells(item, lang, full_phone=False)
        if item.due_on < today:
            cells[0] = f"{cells[0]}!"
        lines.append(" ".join(pad(c, w, ">" if name == "quantity" else "<")
                              for c, w, name in zip(cells, widths, COLUMNS)).rstrip())
    lines.append(t("due.count", lang, count=len(items), date=date_text(today, lang)))
    return "\n".join(lines)


def to_csv(items: list[DueInstrument], lang: str) -> str:
    """For the institute's staff (a spreadsheet): the full phone number, nothing cut."""
    return csv_rows(items, lang, header=True)


def csv_rows(items: list[DueInstrument], lang: str, *, header: bool) -> str:
    """A part of the CSV (a streamed export writes it a chunk at a time), the header first if asked."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([t(DUE_COLUMNS[c], lang) for c in COLUMNS])
    for item in items:
        writer.writerow(safe_row(_cells(item, lang, full_phone=True)))
    return out.getvalue()
