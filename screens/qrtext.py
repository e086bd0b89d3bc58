"""A QR code as text: two modules per character cell with half blocks, quiet zone included.

Block elements (▀ ▄ █) are "ambiguous" width: Textual counts them as one cell, as we do.
Draw dark-on-light (the caller styles it black on white): scanners expect dark modules.
"""

from __future__ import annotations

QUIET_ZONE = 4  # modules, as the QR standard asks

_CELLS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(data: str, correction: str = "M") -> list[list[bool]]:
    """`correction`: the error correction level, "L" (7 %) or "M" (15 %)."""
    from printer.qrmatrix import import_qrcode

    qrcode = import_qrcode()  # deferred: only the ticket screen and receipts need it; without PIL

    level = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}[correction]
    code = qrcode.QRCode(error_correction=level, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_half_blocks(data: str, correction: str = "M") -> str:
    matrix = qr_matrix(data, correction)
    if len(matrix) % 2:
        matrix = [*matrix, [False] * len(matrix[0])]
    return "\n".join(
        "".join(_CELLS[(top, bottom)] for top, bottom in zip(matrix[i], matrix[i + 1]))
        for i in range(0, len(matrix), 2)
    )
