"""Labels in TSPL (TSC's language, spoken by most label printers made in China: TSC, Gprinter,
Xprinter, HPRT...). One job: the label size and gap once, then per label CLS, its text rows as
BITMAPs, its boxes as BARs (filled rectangles: a box's outline is four), its QR code (QRCODE, or
a BITMAP with `qr="image"`) and PRINT. Commands end with CRLF.

BITMAP data is binary, rows of whole bytes, the leftmost dot in the high bit, and in TSPL a 0
bit prints (black) and a 1 bit is paper: the inverse of ESC/POS and ZPL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .document import LabelSheet, Media, QrWay
from .draw import Placed, layout_label, qr_image

if TYPE_CHECKING:
    from ..fonts import FontChain

_INVERT = bytes(255 - i for i in range(256))


def render_tspl(sheet: LabelSheet, media: Media, fonts: FontChain, qr: QrWay = "native") -> bytes:
    out = [f"SIZE {media.width_mm} mm,{media.height_mm} mm\r\n".encode(),
           f"GAP {media.gap_mm} mm,0 mm\r\n".encode(), b"REFERENCE 0,0\r\n"]
    for label in sheet.labels:
        placed = layout_label(label, media, fonts)
        out.append(b"CLS\r\n")
        out += [bitmap(piece) for piece in placed.texts]
        # After the bitmaps, whose paper bits overwrite what is under them.
        out += [f"BAR {b.x},{b.y},{b.width},{b.height}\r\n".encode() for b in placed.bars]
        code = placed.qr
        if qr == "image":
            out.append(bitmap(Placed(code.x, code.y, qr_image(code.data, code.module))))
        else:
            out.append(f'QRCODE {code.x},{code.y},M,{code.module},A,0,"{code.data}"\r\n'.encode())
        out.append(b"PRINT 1,1\r\n")
    return b"".join(out)


def bitmap(piece: Placed) -> bytes:
    """BITMAP x,y,width in bytes,height,0 (overwrite),data."""
    img = piece.image
    if img.width % 8:
        raise ValueError("a label bitmap is whole bytes wide")
    head = f"BITMAP {piece.x},{piece.y},{img.width // 8},{img.height},0,".encode()
    return head + img.tobytes().translate(_INVERT) + b"\r\n"
