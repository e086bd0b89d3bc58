"""What a receipt printer can do: paper width, columns, a Chinese font, native QR.

Columns are those of the printer's standard font A (12x24 dots): an ASCII character
takes one column, a Chinese character (any GB18030 double-byte character) two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    dots: int  # printable width in dots (8 dots/mm at 203 dpi)
    columns: int  # font A characters per line
    chinese_font: bool  # has a GB18030 font: text is sent as text; else drawn as an image
    native_qr: bool  # understands GS ( k: the QR is sent as data; else drawn as an image
    # How the printer says it has a job, asked after the job's bytes: "dle_eot" (real-time
    # status DLE EOT 1, 2, 4: answered as the query arrives, so after every byte before it),
    # "gs_r" (transmit status GS r 1: answered once the printer has processed the job), or
    # "tspl" / "zpl" (a label printer's own status query, printer/labels/status.py), or
    # "none" (it cannot answer: its jobs are unconfirmed).
    confirm: str = "dle_eot"


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("58mm", 384, 32, chinese_font=True, native_qr=True),
        Profile("80mm", 576, 48, chinese_font=True, native_qr=True),
        Profile("80mm-512", 512, 42, chinese_font=True, native_qr=True),
        # The same papers on printers sold abroad: no Chinese font, QR as an image.
        Profile("58mm-raster", 384, 32, chinese_font=False, native_qr=False),
        Profile("80mm-raster", 576, 48, chinese_font=False, native_qr=False),
    )
}
DEFAULT_PROFILE = "58mm"
