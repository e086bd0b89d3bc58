"""Instrument labels (issue 19 item 5): TSPL and ZPL checked by tools this project did not write,
and by strict grammars written from the manuals; the QR codes decoded by zxing-cpp from the PNG
preview and from the bitmaps sent; F5 at the desk queues one label per instrument taken in, and
a label's scan opens its ticket at its line.

No TSPL parser is on PyPI: TSPL is checked by `parse_tspl` below (TSC's TSPL/TSPL2 manual: SIZE,
GAP, REFERENCE, CLS, BITMAP, BAR, QRCODE, PRINT; nothing else is accepted). ZPL's graphic fields are
decoded by zebrafy (PyPI), the rest by `parse_zpl` below (Zebra's ZPL II manual)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PIL import Image

from printer.fonts import BUNDLED_ONLY
from printer.labels.document import MEDIA, Label, LabelSheet, on_receipt
from printer.labels.draw import label_image, layout_label
from printer.labels.preview import render_png
from printer.labels.tspl import render_tspl
from printer.labels.zpl import render_zpl

from .test_printer_escpos import decode_qr

ZH = Label("K1A-261124-0007",
           ("第2/3项 第1/2台", "数字多用表（四位半）带温度测量", "编号 SN-2024-00017", "收件 2026-11-24"),
           "K1A 261124 0007 2 1", ("待检", "在检", "已检"), ticked=0)
EN = Label("K1A-261124-0007", ("Line 2/3 item 2/2", "Digital multimeter, 4 1/2 digits", "S/N SN-2024-00017",
                               "In 2026-11-24"), "K1A 261124 0007 2 2", ("Wait", "Test", "Done"), ticked=0)
SHEET = LabelSheet((ZH, EN), name="labels-K1A-261124-0007")
SIZES = sorted(MEDIA)


def paper(ink: Image.Image) -> Image.Image:
    """An ink image (1 = black) as black on white."""
    from printer.raster import to_paper

    return to_paper(ink)


# ---- TSPL: a strict reading, from the manual ------------------------------------------------------

_NUM = r"(\d+)"
_TSPL = {
    "SIZE": re.compile(rf"SIZE {_NUM} mm,{_NUM} mm"),
    "GAP": re.compile(rf"GAP {_NUM} mm,{_NUM} mm"),
    "REFERENCE": re.compile(rf"REFERENCE {_NUM},{_NUM}"),
    "CLS": re.compile("CLS"),
    "QRCODE": re.compile(rf'QRCODE {_NUM},{_NUM},([LMQH]),([1-9]|10),([AM]),(0|90|180|270),"([^"]*)"'),
    "BAR": re.compile(rf"BAR {_NUM},{_NUM},{_NUM},{_NUM}"),
    "PRINT": re.compile(rf"PRINT {_NUM}(?:,{_NUM})?"),
}
_BITMAP = re.compile(rb"BITMAP (\d+),(\d+),(\d+),(\d+),([0-2]),")


def parse_tspl(data: bytes) -> list[dict]:
    """Each printed label: its page as ink (BITMAPs placed, 0 bits black, overwriting what is under
    them as mode 0 does; BARs filled) and its QRCODE commands. Raises AssertionError on anything the
    manual does not allow here."""
    labels, size, page, codes, pos = [], None, None, [], 0
    while pos < len(data):
        if data.startswith(b"BITMAP ", pos):
            m = _BITMAP.match(data, pos)
            assert m, data[pos:pos + 40]
            x, y, wbytes, height, mode = map(int, m.groups())
            assert page is not None, "BITMAP before CLS"
            assert mode == 0 and wbytes > 0 and height > 0
            start = m.end()
            raw = data[start:start + wbytes * height]
            assert len(raw) == wbytes * height
            assert data[start + len(raw):start + len(raw) + 2] == b"\r\n", "BITMAP data then CRLF"
            assert x + wbytes * 8 <= size[0] and y + height <= size[1], "a bitmap off the label"
            ink = Image.frombytes("1", (wbytes * 8, height), bytes(255 - b for b in raw))  # TSPL: 0 prints
            page.paste(ink, (x, y))
            pos = start + len(raw) + 2
            continue
        end = data.index(b"\r\n", pos)
        line = data[pos:end].decode("ascii")
        pos = end + 2
        name = line.split(" ")[0]
        assert name in _TSPL, f"not a TSPL command here: {line!r}"
        m = _TSPL[name].fullmatch(line)
        assert m, f"malformed: {line!r}"
        if name == "SIZE":
            assert page is None and not labels
            size = (int(m[1]) * 8, int(m[2]) * 8)
        elif name == "CLS":
            assert size is not None, "CLS before SIZE"
            page, codes = Image.new("1", size, 0), []
        elif name == "BAR":
            x, y, width, height = map(int, m.groups())
            assert page is not None and width > 0 and height > 0
            assert x + width <= size[0] and y + height <= size[1], "a bar off the label"
            page.paste(1, (x, y, x + width, y + height))
        elif name == "QRCODE":
            assert page is not None
            codes.append({"x": int(m[1]), "y": int(m[2]), "ecc": m[3], "cell": int(m[4]), "data": m[7]})
        elif name == "PRINT":
            assert page is not None and m[1] == "1"
            labels.append({"page": page, "qr": codes})
            page = None
    assert page is None, "a label drawn and never printed"
    return labels


@pytest.mark.parametrize("size", SIZES)
def test_tspl_reads_strictly_and_draws_what_the_preview_shows(size):
    media = MEDIA[size]
    data = render_tspl(SHEET, media, BUNDLED_ONLY)
    assert data.startswith(f"SIZE {media.width_mm} mm,{media.height_mm} mm\r\nGAP 2 mm,0 mm\r\n".encode())
    printed = parse_tspl(data)
    assert [p["qr"][0]["data"] for p in printed] == [ZH.qr, EN.qr]
    for label, page in zip(SHEET.labels, printed):
        placed = layout_label(label, media, BUNDLED_ONLY)
        (code,) = page["qr"]
        assert (code["x"], code["y"], code["ecc"], code["cell"]) == (placed.qr.x, placed.qr.y, "M", 4)
        assert code["x"] + placed.qr.slot <= media.width and code["y"] + placed.qr.slot <= media.height
        # What the printer draws from the bitmaps is the preview without its QR code.
        preview = label_image(placed)
        preview.paste(0, (placed.qr.x, placed.qr.y, media.width, media.height))
        assert page["page"].tobytes() == preview.tobytes()


@pytest.mark.parametrize("size", SIZES)
def test_tspl_with_the_qr_as_an_image_decodes_from_the_bitmap(size):
    printed = parse_tspl(render_tspl(SHEET, MEDIA[size], BUNDLED_ONLY, qr="image"))
    assert [p["qr"] for p in printed] == [[], []]
    assert [decode_qr(paper(p["page"])) for p in printed] == [[ZH.qr], [EN.qr]]


# ---- ZPL: graphic fields by zebrafy, the rest by a strict reading of the manual ----------------------

_ZPL = {
    "XA": re.compile(""), "XZ": re.compile(""), "PW": re.compile(r"\d+"), "LL": re.compile(r"\d+"),
    "LH": re.compile(r"0,0"), "FO": re.compile(r"(\d+),(\d+)"), "FS": re.compile(""), "PQ": re.compile("1"),
    "GFA": re.compile(r",(\d+),(\d+),(\d+),([0-9A-F]+)"), "BQN": re.compile(r",2,(\d+)"),
    "FD": re.compile(r"([HQML])A,([0-9A-Z ]+)"),
    "GB": re.compile(r"(\d+),(\d+),(\d+)"),
}


def parse_zpl(data: bytes) -> list[dict]:
    """Each format ^XA..^XZ: its width, length, graphic fields' origins, graphic boxes and QR codes."""
    text = data.decode("ascii")
    assert "~" not in text
    labels, fmt, origin = [], None, None
    for token in text.replace("\r\n", "").split("^")[1:]:
        name = "GFA" if token.startswith("GFA") else "BQN" if token.startswith("BQN") else token[:2]
        assert name in _ZPL, f"not a ZPL command here: ^{token[:10]}"
        m = _ZPL[name].fullmatch(token[len(name):])
        assert m, f"malformed: ^{token[:40]}"
        if name == "XA":
            assert fmt is None
            fmt = {"fields": [], "boxes": [], "qr": []}
        elif name == "XZ":
            labels.append(fmt)
            fmt = None
        elif name in ("PW", "LL"):
            fmt[name] = int(token[2:])
        elif name == "FO":
            origin = (int(m[1]), int(m[2]))
        elif name == "GFA":
            total, total2, row = int(m[1]), int(m[2]), int(m[3])
            assert total == total2 == len(m[4]) // 2 and total % row == 0
            fmt["fields"].append(origin)
        elif name == "GB":
            width, height, thickness = int(m[1]), int(m[2]), int(m[3])
            assert origin is not None and 1 <= thickness <= min(width, height)
            fmt["boxes"].append((*origin, width, height, thickness))
        elif name == "BQN":
            fmt["qr"].append({"at": origin, "module": int(m[1])})
        elif name == "FD":
            fmt["qr"][-1].update(ecc=m[1], data=m[2])
        elif name == "FS":
            origin = None
    assert fmt is None
    return labels


def zpl_pages(data: bytes, media) -> list[Image.Image]:
    """The graphic fields decoded by zebrafy, placed at their origins, and the graphic boxes drawn as
    the manual says (w by h from the origin, a border t thick inside it): each label as paper."""
    from zebrafy import ZebrafyZPL

    pages = []
    for fmt, chunk in zip(parse_zpl(data), data.decode("ascii").split("^XZ")):
        page = Image.new("1", (fmt["PW"], fmt["LL"]), 1)
        images = ZebrafyZPL(chunk + "^XZ").to_images()
        assert len(images) == len(fmt["fields"])
        for (x, y), image in zip(fmt["fields"], images):
            assert x + image.width <= media.width and y + image.height <= media.height
            ink = Image.eval(image.convert("L"), lambda v: 255 - v).convert("1")
            page.paste(0, (x, y), ink)
        for x, y, width, height, t in fmt["boxes"]:
            assert x + width <= media.width and y + height <= media.height
            page.paste(0, (x, y, x + width, y + height))
            if 2 * t < min(width, height):  # an outline: the inside stays paper
                page.paste(1, (x + t, y + t, x + width - t, y + height - t))
        pages.append(page)
    return pages


@pytest.mark.parametrize("size", SIZES)
def test_zpl_reads_strictly_and_zebrafy_draws_what_the_preview_shows(size):
    media = MEDIA[size]
    data = render_zpl(SHEET, media, BUNDLED_ONLY)
    formats = parse_zpl(data)
    assert [(f["PW"], f["LL"]) for f in formats] == [(media.width, media.height)] * 2
    assert [f["qr"][0]["data"] for f in formats] == [ZH.qr, EN.qr]
    for label, fmt, page in zip(SHEET.labels, formats, zpl_pages(data, media)):
        placed = layout_label(label, media, BUNDLED_ONLY)
        assert fmt["qr"] == [{"at": (placed.qr.x, placed.qr.y), "module": 4, "ecc": "M", "data": label.qr}]
        preview = label_image(placed)
        preview.paste(0, (placed.qr.x, placed.qr.y, media.width, media.height))
        assert page.tobytes() == paper(preview).tobytes()


@pytest.mark.parametrize("size", SIZES)
def test_zpl_with_the_qr_as_an_image_decodes_from_zebrafys_reading(size):
    media = MEDIA[size]
    data = render_zpl(SHEET, media, BUNDLED_ONLY, qr="image")
    assert all(f["qr"] == [] for f in parse_zpl(data))
    assert [decode_qr(page) for page in zpl_pages(data, media)] == [[ZH.qr], [EN.qr]]


# ---- the preview, the receipt printer, the label's data ----------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_png_preview_shows_each_label_at_its_size_and_its_qr_decodes(size):
    media = MEDIA[size]
    png = Image.open(io.BytesIO(render_png(SHEET, media, font=BUNDLED_ONLY)))
    assert png.size == (media.width, 2 * media.height + 1)
    first = png.crop((0, 0, media.width, media.height))
    second = png.crop((0, media.height + 1, media.width, png.height))
    assert (decode_qr(first), decode_qr(second)) == ([ZH.qr], [EN.qr])
    # Nothing drawn in the margins: label printers do not print to the edge.
    ink = Image.eval(first.convert("L"), lambda v: 255 - v).getbbox()
    assert ink[0] >= 12 and ink[1] >= 12 and ink[2] <= media.width - 12 and ink[3] <= media.height - 12


@pytest.mark.parametrize(("size", "rows"), [("40x30", 7), ("50x30", 6)])
@pytest.mark.parametrize("label", [ZH, EN], ids=["zh", "en"])
def test_the_boxes_to_tick_fit_beside_everything_else_and_nothing_overlaps(size, rows, label):
    """A long name and a serial number: every line still on the label (title, line, name on two
    rows, serial, received), the three boxes beside them, and no two pieces sharing a dot: not
    their whole bitmaps (TSPL's BITMAP overwrites what is under it), not the QR code with its
    quiet zone, none in the margins."""
    from printer.labels.draw import BOX, MARGIN, QR_GAP

    media = MEDIA[size]
    placed = layout_label(label, media, BUNDLED_ONLY)
    assert sum(t.x == MARGIN for t in placed.texts) == rows
    captions = [t for t in placed.texts if t.x != MARGIN]
    boxes = boxes_of(placed.bars)
    assert len(captions) == 3 and [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes] == [(BOX, BOX)] * 3
    pieces = [(t.x, t.y, t.x + t.image.width, t.y + t.image.height) for t in placed.texts]
    pieces += [(b.x, b.y, b.x + b.width, b.y + b.height) for b in placed.bars]
    for x0, y0, x1, y1 in pieces:
        assert MARGIN <= x0 < x1 <= media.width - MARGIN and MARGIN <= y0 < y1 <= media.height - MARGIN
    for i, a in enumerate(pieces):
        for b in pieces[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    qr = placed.qr
    zone = (qr.x - QR_GAP, qr.y - QR_GAP, qr.x + qr.slot, qr.y + qr.slot)
    assert zone[2] <= media.width - MARGIN and zone[3] <= media.height - MARGIN
    for a in pieces:
        assert a[2] <= zone[0] or a[3] <= zone[1], (a, zone)
    # Each caption sits left of its box, level with it.
    for caption, (x, y, _, _) in zip(sorted(captions, key=lambda t: t.y), boxes):
        assert caption.x + caption.image.width <= x and abs(caption.y + caption.image.height / 2 - (y + BOX / 2)) <= 4


def boxes_of(bars) -> list[tuple[int, int, int, int]]:
    """The boxes the bars draw, top first, each (x0, y0, x1, y1): bars that touch are one box."""
    boxes: list[tuple[int, int, int, int]] = []
    for bar in sorted(bars, key=lambda b: (b.y, b.x)):
        r = (bar.x, bar.y, bar.x + bar.width, bar.y + bar.height)
        for i, o in enumerate(boxes):
            if r[0] <= o[2] and o[0] <= r[2] and r[1] <= o[3] and o[1] <= r[3]:
                boxes[i] = (min(o[0], r[0]), min(o[1], r[1]), max(o[2], r[2]), max(o[3], r[3]))
                break
        else:
            boxes.append(r)
    return boxes


@pytest.mark.parametrize("size", SIZES)
def test_the_ticked_box_prints_filled_and_the_others_empty_on_every_printer(size):
    """What the label printer draws (TSPL read as the manual says, ZPL's boxes as the manual says
    and its text by zebrafy) and the preview: 待检 a filled square, 在检 and 已检 an outline with
    paper inside, for a pen."""
    from printer.labels.draw import BOX

    media = MEDIA[size]
    (x, _, _, _), *_ = boxes = boxes_of(layout_label(ZH, media, BUNDLED_ONLY).bars)
    tspl = parse_tspl(render_tspl(LabelSheet((ZH,)), media, BUNDLED_ONLY))[0]["page"]
    zpl = zpl_pages(render_zpl(LabelSheet((ZH,)), media, BUNDLED_ONLY), media)[0]
    preview = Image.open(io.BytesIO(render_png(LabelSheet((ZH,)), media, font=BUNDLED_ONLY))).convert("1")
    for ink in (tspl, paper(zpl), paper(preview)):  # paper() inverts: black on white to ink
        def inside(y, ink=ink):
            return ink.crop((x + 3, y + 3, x + BOX - 3, y + BOX - 3)).getbbox() is not None

        def edge(y, ink=ink):
            return all(ink.getpixel(p) for p in ((x, y + BOX // 2), (x + BOX - 1, y + BOX // 2),
                                                  (x + BOX // 2, y), (x + BOX // 2, y + BOX - 1)))

        assert [(inside(y), edge(y)) for _, y, _, _ in boxes] == [(True, True), (False, True), (False, True)]


def test_a_label_qr_carries_only_what_every_scanner_types_alike():
    with pytest.raises(ValueError):
        Label("K1A-261124-0007", (), "K1A-261124-0007/2/1")
    with pytest.raises(ValueError):
        Label("K1A-261124-0007", (), 'K1A"^XZ')


def test_on_the_receipt_printer_each_label_is_cut_off_by_itself():
    from printer.escpos_render import render_escpos
    from printer.profiles import PROFILES

    document = on_receipt(SHEET)
    assert sum(type(b).__name__ == "Cut" for b in document.blocks) == 2
    data = render_escpos(document, PROFILES["58mm"], font=BUNDLED_ONLY)
    assert data.count(b"\x1dV") == 2  # GS V: a cut after each label
    # The boxes as text every Chinese printer font has (GB 2312), 待检 filled.
    assert "待检 [■]  在检 [ ]  已检 [ ]".encode("gb18030") in data
    assert "Wait [■]  Test [ ]  Done [ ]".encode("gb18030") in data
    assert None not in BUNDLED_ONLY.used_for("[■]")  # and raster, where a profile lacks them, draws them


# ---- composed from a ticket, queued at the desk, scanned back -----------------------------------------


def _facts(lines):
    from kiosk.printing.receipts import CounterFacts

    return CounterFacts("K1-261206-0001", "示范燃气有限公司", datetime(2026, 12, 7, 7, 30), "王芳", lines, 0, {})


def test_one_label_per_instrument_taken_in_none_for_a_refused_line():
    from kiosk.domain.intake import CounterLine
    from kiosk.printing.labels import instrument_labels

    gauge = CounterLine(name_zh="一般压力表", name_en="Pressure gauge", code="L-001-001", quantity=2, unit="台",
                        service="verification", condition="", accessories="", serial_number="A1", refused=False,
                        cycle_months=None)
    tape = replace(gauge, name_zh="钢卷尺", name_en="Tape measure", quantity=1, serial_number="", refused=True)
    meter = replace(gauge, name_zh="数字多用表", name_en="Digital multimeter", quantity=1, serial_number="")
    facts = _facts((gauge, tape, meter))
    zh = instrument_labels(facts, "zh")
    assert [label.qr for label in zh.labels] == ["K1 261206 0001 1 1", "K1 261206 0001 1 2", "K1 261206 0001 3 1"]
    assert zh.labels[0].lines == ("第1/3项 第1/2台", "一般压力表", "编号 A1", f"收件 {facts.at.date().isoformat()}")
    assert zh.labels[2].lines[:2] == ("第3/3项", "数字多用表") and len(zh.labels[2].lines) == 3
    en = instrument_labels(facts, "en")
    assert en.labels[1].lines[:3] == ("Line 1/3 item 2/2", "Pressure gauge", "S/N A1")
    assert all(label.title == "K1-261206-0001" for label in en.labels)
    # Every label with the boxes the lab ticks, 待检 already: the instrument waits from intake on.
    assert {(label.boxes, label.ticked) for label in zh.labels} == {(("待检", "在检", "已检"), 0)}
    assert {(label.boxes, label.ticked) for label in en.labels} == {(("Wait", "Test", "Done"), 0)}


def test_label_settings_are_read_and_checked(tmp_path):
    from kiosk.settings.config import ConfigError, load_config

    path = tmp_path / "kiosk.toml"
    path.write_text('[labels]\nuri = "tcp://192.168.1.60"\nlanguage = "zpl"\nsize = "50x30"\nqr = "image"\n')
    config = load_config(str(path))
    assert (config.label_uri, config.label_language, config.label_size, config.label_qr) == (
        "tcp://192.168.1.60", "zpl", "50x30", "image")
    assert load_config().label_uri == ""  # none: labels print on the receipt printer
    for bad in ('language = "epl"', 'size = "100x150"', 'qr = "both"', 'uri = "lpt://1"'):
        path.write_text(f"[labels]\n{bad}\n")
        with pytest.raises(ConfigError, match="labels"):
            load_config(str(path))


def _intake(ticket_id, quantity: int, refuse_second: bool):
    from kiosk.store.desk import Intake, ticket_summary

    first, second = ticket_summary(ticket_id).lines
    return Intake((replace(first, quantity=quantity), replace(second, refused=refuse_second)))


def test_receive_queues_the_labels_with_the_voucher_and_none_when_all_is_refused(desk):
    from db.models import PrintJob
    from kiosk.printing.spool import claim_job
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import Intake, receive, ticket_summary

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 2, True), lang="en")
    jobs = {job.kind: job for job in PrintJob.select().where(PrintJob.ticket == ticket.id)}
    assert sorted(jobs) == ["labels", "ticket", "voucher"] and jobs["labels"].lang == "en"
    sheet = claim_job(jobs["labels"].id, load_institute(None)).document
    assert isinstance(sheet, LabelSheet)
    assert [label.qr for label in sheet.labels] == [f"{ticket.number.replace('-', ' ')} 1 {k}" for k in (1, 2)]

    other = register_another()
    lines = ticket_summary(other.id).lines
    receive(other.id, clerk, device, Intake(tuple(replace(ln, refused=True) for ln in lines)))
    assert [job.kind for job in PrintJob.select().where(PrintJob.ticket == other.id)] == ["ticket", "voucher"]


def register_another():
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import load_catalog
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    return register(sample(), load_catalog(), default_policy(), ensure_device("K1"))


def test_without_a_label_printer_the_labels_print_on_the_receipt_printer(desk, tmp_path):
    from db.models import PrintJob
    from kiosk.printing.spool import PrinterSettings, print_job
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 2, False))
    job = PrintJob.get((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
    outcome = print_job(job.id, PrinterSettings("preview://out", "58mm", None, tmp_path), load_institute(None))
    assert outcome.state == "printed"
    data = (tmp_path / "out" / f"labels-{ticket.number}-{job.id}.bin").read_bytes()
    assert data.count(b"\x1dV") == 3  # two gauges and the tape, each cut off by itself


@pytest.mark.parametrize(("language", "size", "start"), [("tspl", "40x30", b"SIZE 40 mm,30 mm\r\n"),
                                                         ("zpl", "50x30", b"^XA\r\n^PW400\r\n")])
def test_on_a_label_printer_the_labels_are_its_language_and_the_preview_decodes(desk, tmp_path, language, size,
                                                                                 start):
    from db.models import PrintJob
    from kiosk.printing.labels import LabelPrinter
    from kiosk.printing.spool import PrinterSettings, print_job
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 2, False), lang="zh")
    job = PrintJob.get((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
    settings = PrinterSettings("preview://out", "58mm", None, tmp_path,
                               LabelPrinter("preview://labels", language, size))
    assert print_job(job.id, settings, load_institute(None)).state == "printed"
    name = tmp_path / "labels" / f"labels-{ticket.number}-{job.id}"
    assert name.with_suffix(".bin").read_bytes().startswith(start)
    media = MEDIA[size]
    png = Image.open(name.with_suffix(".png"))
    found = [decode_qr(png.crop((0, i * (media.height + 1), media.width, i * (media.height + 1) + media.height)))
             for i in range(3)]
    number = ticket.number.replace("-", " ")
    assert found == [[f"{number} 1 1"], [f"{number} 1 2"], [f"{number} 2 1"]]
    assert not (tmp_path / "out").exists()  # nothing on the receipt printer


def test_a_network_label_printer_gets_the_whole_job_and_it_is_unconfirmed(desk, tmp_path):
    """A real loopback TCP printer that does not answer: every byte of the TSPL arrives, then
    TSPL's own status query, never ESC/POS's, and the job counts as unconfirmed (delivered, not
    known printed), never retried by itself into duplicates (tests/test_label_status.py: the
    answers)."""
    from db.models import PrintJob
    from kiosk.printing.labels import LabelPrinter, ticket_labels
    from kiosk.printing.spool import PrinterSettings, print_job
    from kiosk.settings.institute import load_institute
    from kiosk.store.desk import receive

    from .printer_peers import TcpPrinter

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, _intake(ticket.id, 2, False))
    job = PrintJob.get((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
    with TcpPrinter() as printer:
        settings = PrinterSettings("preview://out", "58mm", None, tmp_path,
                                   LabelPrinter(printer.uri + "?timeout=0.5", "tspl"))
        outcome = print_job(job.id, settings, load_institute(None))
        assert printer.done.wait(5)
    assert (outcome.state, outcome.error_kind) == ("unconfirmed", "unconfirmed")
    rendered = LabelPrinter(printer.uri).render(ticket_labels(ticket.id, "zh"), None)
    assert bytes(printer.received) == rendered + b"\x1b!?"
    assert printer.answerer.queries == []
    assert [p["qr"][0]["data"] for p in parse_tspl(rendered)] == [
        f"{ticket.number.replace('-', ' ')} {line} {k}" for line, k in ((1, 1), (1, 2), (2, 1))]


def test_the_received_date_on_a_label_is_the_institutes(desk):
    """Taken in at 23:30 UTC: already the next morning in Shanghai, the institute's date."""
    from kiosk.printing.labels import ticket_labels
    from kiosk.store.desk import receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    assert {label.lines[-1] for label in ticket_labels(ticket.id, "zh").labels} == {"收件 2026-12-07"}
    assert {label.lines[-1] for label in ticket_labels(ticket.id, "en").labels} == {"In 2026-12-07"}


def test_a_label_scan_names_its_ticket_and_line(desk):
    from kiosk.store.desk import ScanResult, identify, receive

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device)
    number = ticket.number.replace("-", " ")
    assert identify(f"{number} 2 1") == ScanResult(ticket.id, line=1, row=1)
    assert identify(f"{number.lower()} 1 3") == ScanResult(ticket.id, line=0, row=0)
    assert identify(ticket.number) == ScanResult(ticket.id)  # the number alone: the ticket, no line
    assert identify(f"{number} 9 1") == ScanResult(ticket.id, line=8, row=None)  # no such line: the ticket
    assert identify("K9 261206 0001 1 1").error == "not_a_code"


@pytest.fixture
def desk(catalog):
    from kiosk.domain.fees import default_policy
    from kiosk.store.clerks import add_clerk
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    device = ensure_device("K1")
    return register(sample(), catalog, default_policy(), device), add_clerk("wang", "王芳", "2468"), device


# ---- at the desk, through Pilot --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_f5_queues_one_label_per_instrument_and_a_label_scan_opens_the_ticket_at_its_line(language):
    from textual.widgets import DataTable

    from db.models import PrintJob, Ticket
    from kiosk.printing.labels import ticket_labels

    from .kiosk_pilot import settle
    from .test_desk_app import sign_in
    from .test_desk_intake import DESK, edit, make_desk, scan

    app, (number,) = make_desk(language)
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        await edit(pilot, 0, quantity="2")
        await pilot.press("down", "f8", "f5")  # the tape measure refused
        await settle(pilot)
        ticket = Ticket.get(Ticket.number == number)
        assert ticket.status == "received"
        (job,) = PrintJob.select().where((PrintJob.ticket == ticket.id) & (PrintJob.kind == "labels"))
        sheet = ticket_labels(ticket.id, language)
        assert [label.qr for label in sheet.labels] == [f"{number.replace('-', ' ')} 1 {k}" for k in (1, 2)]
        assert job.lang == language

        table = app.screen.query_one("#desk-lines", DataTable)
        for line in (2, 1, 2):  # each label's scan: the ticket, the cursor on the label's line
            await scan(pilot, f"{number.replace('-', ' ')} {line} 1")
            assert app.screen.summary.id == ticket.id and table.cursor_row == line - 1
        await pilot.press("f3")  # and at the dispatch counter
        await settle(pilot)
        await scan(pilot, f"{number.replace('-', ' ')} 2 1")
        assert app.screen.COUNTER == "dispatch" and app.screen.summary.id == ticket.id
        assert app.screen.query_one("#desk-lines", DataTable).cursor_row == 1
