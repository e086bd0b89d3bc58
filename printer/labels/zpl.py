"""Labels in ZPL II (Zebra's language, and the one printers sold abroad emulate). One ^XA..^XZ
format per label: its width and length (^PW, ^LL), each text row as a graphic field at its
origin (^FO ^GFA: hexadecimal, 1 bits print), the boxes as filled graphic boxes (^GB), the QR
code as ^BQ (model 2, error correction M, automatic input: `^FDMA,<data>`) or, with
`qr="image"`, as one more graphic field. ZPL has no
Chinese font unless one is downloaded to the printer, hence the graphic fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .document import LabelSheet, Media, QrWay
from .draw import Placed, layout_label, qr_image

if TYPE_CHECKING:
    from ..fonts import FontChain


def render_zpl(sheet: LabelSheet, media: Media, fonts: FontChain, qr: QrWay = "native") -> bytes:
    out: list[str] = []
    for label in sheet.labels:
        placed = layout_label(label, media, fonts)
        out += ["^XA", f"^PW{media.width}", f"^LL{media.height}", "^LH0,0"]
        out += [graphic_field(piece) for piece in placed.texts]
        # A graphic box as thick as it is narrow is filled: a bar.
        out += [f"^FO{b.x},{b.y}^GB{b.width},{b.height},{min(b.width, b.height)}^FS" for b in placed.bars]
        code = placed.qr
        if qr == "image":
            out.append(graphic_field(Placed(code.x, code.y, qr_image(code.data, code.module))))
        else:
            out.append(f"^FO{code.x},{code.y}^BQN,2,{code.module}^FDMA,{code.data}^FS")
        out += ["^PQ1", "^XZ"]
    return ("\r\n".join(out) + "\r\n").encode("ascii")


def graphic_field(piece: Placed) -> str:
    """^FOx,y^GFA,total bytes,total bytes,bytes a row,hex^FS."""
    img = piece.image
    if img.width % 8:
        raise ValueError("a label bitmap is whole bytes wide")
    data = img.tobytes()
    return f"^FO{piece.x},{piece.y}^GFA,{len(data)},{len(data)},{img.width // 8},{data.hex().upper()}^FS"
