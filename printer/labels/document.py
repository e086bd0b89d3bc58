"""A label as plain data, the label stock it goes on, and how a sheet prints on a receipt printer.

Every text may hold Chinese: label printers rarely have a Chinese font, so text is drawn as an
image (printer/labels/draw.py) and sent as a bitmap; the QR code is sent as the printer's own
command unless the printer is told to take it as an image too (`qr="image"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..document import QR, Cut, Document, Feed, Text

DOTS_PER_MM = 8  # 203 dpi, the resolution of almost every thermal label printer
QrWay = Literal["native", "image"]
# What a label's QR code may carry: what every scanner types alike, and nothing TSPL's quotes or
# ZPL's ^ and ~ would take apart.
SAFE_QR = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ")


@dataclass(frozen=True)
class Label:
    """One label: `title` bold on top (what names the item), `lines` under it, each cut to the
    room beside the boxes and the QR code, a QR code of `qr` (digits, capitals and spaces, which
    every scanner types alike), and a box for each of `boxes` (captions of 4 columns: wider ones
    narrow the title) for the lab to tick by hand, the one at `ticked` printed already marked."""

    title: str
    lines: tuple[str, ...]
    qr: str
    boxes: tuple[str, ...] = ()
    ticked: int | None = None

    def __post_init__(self) -> None:
        if not self.qr or not set(self.qr) <= SAFE_QR:
            raise ValueError(f"label QR data {self.qr!r}: digits, capital letters and spaces only")
        if self.ticked is not None and not 0 <= self.ticked < len(self.boxes):
            raise ValueError(f"label box {self.ticked} ticked, of {len(self.boxes)}")


@dataclass(frozen=True)
class LabelSheet:
    """Labels printed one after the other, in order. `name`: for preview files and logs."""

    labels: tuple[Label, ...]
    name: str = "labels"


@dataclass(frozen=True)
class Media:
    """A label stock: its size and the gap between labels, in mm, at 203 dpi."""

    name: str
    width_mm: int
    height_mm: int
    gap_mm: int = 2
    # How the printer says it has a job (printer/profiles.py Profile.confirm): the label
    # printer's language ("tspl", "zpl": printer/labels/status.py), set when a job is sent to one
    # (kiosk/printing/labels.py send_labels); "none" until then.
    confirm: str = "none"

    @property
    def width(self) -> int:
        return self.width_mm * DOTS_PER_MM

    @property
    def height(self) -> int:
        return self.height_mm * DOTS_PER_MM


MEDIA: dict[str, Media] = {m.name: m for m in (Media("40x30", 40, 30), Media("50x30", 50, 30))}
DEFAULT_MEDIA = "40x30"


def on_receipt(sheet: LabelSheet) -> Document:
    """The sheet on a receipt printer (no label printer configured): each label its own piece of
    paper, cut off after it, in the receipt's own text and QR, the boxes as text (box_row)."""
    blocks: list = []
    for label in sheet.labels:
        blocks += [Text(label.title, bold=True, size=2), *(Text(line) for line in label.lines)]
        if label.boxes:
            blocks.append(Text(box_row(label)))
        blocks += [QR(label.qr), Feed(1), Cut()]
    return Document(tuple(blocks), name=sheet.name)


def box_row(label: Label) -> str:
    """The label's boxes as one line of text, `待检 [■]  在检 [ ]  已检 [ ]`: brackets, which every
    printer font has, and room between them for a pen's tick; ■ is in GB 2312 (every Chinese
    printer font) and drawn solid where a profile draws it as raster. Not □, whose one-dot
    bottom edge raster drawing loses."""
    return "  ".join(f"{caption} [{'■' if i == label.ticked else ' '}]" for i, caption in enumerate(label.boxes))
