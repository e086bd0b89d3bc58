"""The on-screen QR: half blocks that decode back to exactly the QR matrix, quiet zone included."""

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.qrtext import QUIET_ZONE, qr_half_blocks, qr_matrix

TOP = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def decode(text: str) -> list[list[bool]]:
    rows: list[list[bool]] = []
    for line in text.split("\n"):
        rows.append([TOP[ch][0] for ch in line])
        rows.append([TOP[ch][1] for ch in line])
    return rows


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ-", min_size=1, max_size=120))
def test_half_blocks_carry_every_module(data):
    matrix = qr_matrix(data)
    decoded = decode(qr_half_blocks(data))
    assert decoded[: len(matrix)] == matrix
    assert all(not any(row) for row in decoded[len(matrix):])  # only a padding row, if any


def test_the_quiet_zone_is_four_light_modules():
    matrix = qr_matrix("K1A-261124-0007")
    assert all(not any(row) for row in matrix[:QUIET_ZONE] + matrix[-QUIET_ZONE:])
    assert all(not any(row[:QUIET_ZONE] + row[-QUIET_ZONE:]) for row in matrix)


def test_a_ticket_number_fits_a_small_screen():
    lines = qr_half_blocks("K1A-261124-0007").split("\n")
    assert len(lines) <= 15 and all(len(line) <= 29 for line in lines)  # version 1: 21 + 8 modules
