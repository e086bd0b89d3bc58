"""The on-screen QR: half blocks that decode back to exactly the QR matrix, quiet zone included."""

from hypothesis import given, settings
from hypothesis import strategies as st

from screens.qrtext import QUIET_ZONE, qr_half_blocks, qr_matrix

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


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["K1A-261124-0007", "K1A-261124-0007.3F9QZ2XW7M4K8C1VJ6TB5NRH0GD2Y9PLA7E3SU8W4QX6F",
                        "https://example.org/t/K1A-0007?s=3f9qz2xw", "计量院 K1A-0007"]))
def test_half_blocks_scan_back_to_the_data_with_a_real_decoder(data):
    """Each character cell drawn as it shows on screen, top half over bottom half (dark
    modules black on white), scaled up; zxing-cpp reads it back to exactly the data."""
    import zxingcpp
    from PIL import Image

    lines = qr_half_blocks(data).split("\n")
    image = Image.new("L", (len(lines[0]), 2 * len(lines)), 255)
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            top, bottom = TOP[ch]
            if top:
                image.putpixel((x, 2 * y), 0)
            if bottom:
                image.putpixel((x, 2 * y + 1), 0)
    image = image.resize((image.width * 6, image.height * 6), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [data]
