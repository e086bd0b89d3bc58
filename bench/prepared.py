"""A registration prepared at home (kiosk/domain/prepared.py): how big its QR codes are, and how soon
the kiosk shows the filled estimate after the scan.

* Size: a 10-instrument prepared registration (realistic Chinese names, models, serial numbers,
  ranges, every e-CQS ledger column filled) -> its record, compressed bytes, characters, parts and the
  QR version of each part at error correction M in alphanumeric mode. Floor: the same compressed
  bytes in byte mode (the smallest QR that could carry them, though no keyboard-wedge scanner could
  type it). Goal: every part <= version 18 (the split threshold), at most 2 parts for 10 instruments.
* Readability (a model): each QR version rendered as a lobby imager sees a phone's screen, decoded by
  zxing-cpp: the largest version read >= 95 % of the time, at ~400 and ~300 px across. It set the split
  threshold (version 18, kiosk/domain/prepared.py MAX_PART_CHARS).
* Decode + check + fill, pure (no screen): floor Base32 + inflate of the same parts; goal <= 5 ms.
* Scan -> filled estimate: the kiosk on its welcome screen, catalogue loaded, its own SQLite database;
  the parts arrive as a keyboard-wedge scanner types them (one key event per character, Enter after
  each part), all at once (a real scanner types slower: its own rate adds to this). Two figures:
  (1) from the first key to the estimate screen showing its total; floor: the same number of key
  events and Enters on the welcome screen that are not a code (what the keys alone cost the app);
  goal ratio <= 1.5. (2) from the last part's Enter to the estimate: the kiosk's own work; floor: the
  four steps opened for the same draft already filled; goal ratio <= 1.5.

    python -m bench.prepared
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.common import Figure, median

ROUNDS = int(os.environ.get("PREPARED_BENCH_ROUNDS", "5"))


def registration():
    """A gas-equipment maker's half-yearly batch, as its e-CQS ledger lists it."""
    from kiosk.domain.prepared import PreparedInstrument as I
    from kiosk.domain.prepared import PreparedRegistration

    lines = (
        I("L-001-004", "verification", 4, "safety", name="一般压力表", model="Y-100", measuring_range="0~1.6MPa",
          accuracy="1.6级", serial_number="YB2023-0417", manufacturer="上海红旗仪表有限公司", location="锅炉房"),
        I("Z-002-001", "verification", 2, "trade", name="电子计价秤", model="ACS-15", measuring_range="0~15kg",
          accuracy="III级", serial_number="JC15-88213", manufacturer="上海友声衡器有限公司", location="生鲜区"),
        I("D-002-002", "calibration", 1, "other", ranges=7, name="数字万用表", model="Fluke 17B+",
          measuring_range="0~1000V", accuracy="4位半", serial_number="45890213",
          manufacturer="福禄克测试仪器（上海）有限公司", location="维修车间"),
        I("R-001-002", "verification", 3, "other", points=5, name="玻璃液体温度计", model="WNG-11",
          measuring_range="0~100℃", accuracy="0.1℃", serial_number="WD-1123", manufacturer="河北红星仪表厂",
          location="化验室"),
        I("C-003-002", "verification", 2, "other", metres=Decimal(30), name="钢卷尺", model="30m",
          measuring_range="0~30m", accuracy="I级", serial_number="GJC-3001", manufacturer="长城精工工具有限公司",
          location="仓库"),
        I("Y-003-001", "verification", 5, "medical", name="电子血压计", model="HEM-7121",
          measuring_range="0~299mmHg", accuracy="±3mmHg", serial_number="20231108-0335",
          manufacturer="欧姆龙（大连）有限公司", location="门诊部"),
        I("L-003-002", "verification", 2, "safety", name="压力变送器", model="EJA430E", measuring_range="0~2.5MPa",
          accuracy="0.5级", serial_number="91K803245", manufacturer="重庆横河川仪有限公司", location="二车间"),
        I("F-004-001", "verification", 10, "trade", name="水表", model="LXS-20E", measuring_range="Q3=4m³/h",
          accuracy="2级", serial_number="SB2024000871", manufacturer="宁波水表股份有限公司", location="宿舍楼"),
        I("Z-001-003", "verification", 1, "other", name="电子天平", model="ME204E", measuring_range="0~220g",
          accuracy="II级", serial_number="B936541287", manufacturer="梅特勒-托利多仪器（上海）有限公司",
          location="质检室"),
        I("R-005-001", "verification", 2, "other", points=6, name="数字温度指示调节仪", model="XMTD-3001",
          measuring_range="0~400℃", accuracy="0.5级", serial_number="TC-77120",
          manufacturer="余姚市长江温度仪表厂", location="热处理车间", requirements="请出具各检定点示值误差"),
    )
    return PreparedRegistration(
        organisation="贵州黔源燃气设备制造有限公司", contact="王建华", phone="13985012345",
        credit_code="91350100M000100Y43", address="贵阳市观山湖区长岭北路88号", notify=True,
        instruments=lines, catalog_version=1, prepared_on=date(2026, 12, 7))


def _version(data) -> int:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code.version


def size_figures() -> list[Figure]:
    from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

    from kiosk.domain import prepared as pc

    reg = registration()
    raw = pc.record_bytes(reg)
    packed = pc._compress(raw)
    parts = pc.encode(reg)
    versions = [_version(QRData(p, mode=MODE_ALPHA_NUM)) for p in parts]
    one_part = pc.encode(reg, part_chars=10_000)[0]
    floor = _version(QRData(packed, mode=MODE_8BIT_BYTE))
    return [
        Figure(f"prepared registration, 10 instruments: record {len(raw)} B, deflated {len(packed)} B, "
               f"{sum(map(len, parts))} characters in {len(parts)} part(s) of {'/'.join(str(len(p)) for p in parts)}; "
               f"largest part's QR version at M (alphanumeric; versions {'/'.join(map(str, versions))}; "
               f"as one code: {len(one_part)} characters, version {_version(QRData(one_part, mode=MODE_ALPHA_NUM))})",
               max(versions), "version", "the whole compressed record in byte mode, one code", floor,
               "<= 18 per part, <= 2 parts", max(versions) <= 18 and len(parts) <= 2),
    ]


# ---- how large a QR a lobby scanner reads off a phone -------------------------------------------------

READ_TRIALS = int(os.environ.get("PREPARED_BENCH_TRIALS", "20"))


def _readable(version: int, pixels: int, trials: int) -> int:
    """How many of `trials` renderings of a full version-`version` code (M, alphanumeric) zxing-cpp
    reads when the code, quiet zone included, is `pixels` across in the imager's picture: tilted up
    to 8 degrees, blurred (Gaussian, radius 1 px), contrast of a lit phone screen (black at 40, white
    at 218) and sensor noise (sigma 12). A model of a handheld 2D imager reading a phone, not a
    measurement with one: it says where reading stops being a sure thing, not the exact version."""
    import random

    import qrcode
    import zxingcpp
    from PIL import Image, ImageChops, ImageFilter
    from qrcode.util import MODE_ALPHA_NUM, QRData

    capacity = {14: 528, 16: 656, 18: 816, 20: 970, 22: 1134, 24: 1326}[version]
    rnd = random.Random(version * 1000 + pixels)
    text = "YY" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(capacity - 2))
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    code.make(fit=False)
    sharp = code.make_image().get_image().convert("L")
    read = 0
    for _ in range(trials):
        image = sharp.rotate(rnd.uniform(-8, 8), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
        image = image.resize((pixels, pixels), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.0))
        image = image.point(lambda x: int(x * 0.7 + 40))
        image = ImageChops.add(image, Image.effect_noise(image.size, 12), 1.0, -128)
        canvas = Image.new("L", (pixels + 80, pixels + 80), 200)
        canvas.paste(image, (40, 40))
        found = zxingcpp.read_barcodes(canvas, formats=zxingcpp.BarcodeFormat.QRCode)
        read += any(r.text == text for r in found)
    return read


def readability_figures() -> list[Figure]:
    from kiosk.domain.prepared import MAX_PART_CHARS

    figures = []
    for pixels in (400, 300):
        rates = {v: _readable(v, pixels, READ_TRIALS) for v in (14, 16, 18, 20, 22)}
        sure = max((v for v, n in rates.items() if n >= 0.95 * READ_TRIALS), default=0)
        said = ", ".join(f"v{v} {n}/{READ_TRIALS}" for v, n in rates.items())
        figures.append(Figure(
            f"QR read off a phone (model: {pixels} px across, tilt, blur, noise; zxing-cpp): {said}; the "
            f"largest version read >= 95 %", sure, "version", "the split threshold's version (MAX_PART_CHARS "
            f"{MAX_PART_CHARS})", 18, ">= 18 at 400 px" if pixels == 400 else "reported", sure >= 18 or pixels != 400))
    return figures


# ---- scan -> filled estimate ---------------------------------------------------------------------


async def _kiosk(workdir: Path, job):
    """A kiosk on its welcome screen, catalogue loaded, its own database in `workdir`: job(app, pilot)."""
    from dataclasses import replace

    from kiosk.settings.config import load_config
    from screens.app import KioskApp

    config = replace(load_config(), data_dir=workdir, database=workdir / "kiosk.db", language="zh")
    app = KioskApp(config)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        while app.catalog is None:
            await pilot.pause()
        await app.workers.wait_for_complete([w for w in app.workers if w.group not in ("sync",)])
        await pilot.pause()
        return await job(app, pilot)


def _keys(app, text: str) -> None:
    from textual import events

    for ch in text:
        app.post_message(events.Key(ch, ch))


async def _until_estimate(app, pilot) -> None:
    from screens.estimate import EstimateScreen

    while not (isinstance(app.screen, EstimateScreen) and app.screen.estimate is not None):
        await pilot.pause()


def _scan(texts: list[str], whole: bool):
    """Typed as a scanner types; timed from the first key (`whole`) or from the last Enter."""
    from textual import events

    async def job(app, pilot) -> float:
        start = time.perf_counter()
        for text in texts[:-1]:
            _keys(app, text)
            app.post_message(events.Key("enter", "\r"))
        _keys(app, texts[-1])
        if not whole:
            while len(app.scan_keys) < len(texts[-1]):  # every key of the last part taken
                await pilot.pause()
            start = time.perf_counter()
        app.post_message(events.Key("enter", "\r"))
        await _until_estimate(app, pilot)
        return time.perf_counter() - start

    return job


def _typed_not_a_code(texts: list[str]):
    """Floor of the whole: the same number of keys and Enters on the welcome screen, not a code."""
    from textual import events

    async def job(app, pilot) -> float:
        start = time.perf_counter()
        for text in texts:
            _keys(app, "Q" * len(text))
            app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        return time.perf_counter() - start

    return job


def _steps_of_a_filled_draft(reg):
    """Floor of the kiosk's own part: the draft already filled (not timed), the four steps opened."""
    from screens.customer import CustomerScreen
    from screens.estimate import EstimateScreen
    from screens.instruments import InstrumentsScreen
    from screens.options import OptionsScreen
    from screens.prepared import fill

    async def job(app, pilot) -> float:
        fill(app.draft, reg, app.catalog.by_code, app.policy.extra_data_percent)
        start = time.perf_counter()
        for screen in (CustomerScreen, InstrumentsScreen, OptionsScreen, EstimateScreen):
            app.push_screen(screen())
        await _until_estimate(app, pilot)
        return time.perf_counter() - start

    return job


def codec_figures() -> list[Figure]:
    """Decode the parts + check every field + fill the draft (pure, no screen), per registration."""
    import base64
    import zlib

    from db.connection import open_database
    from kiosk.domain import prepared as pc
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from screens.draft import Draft
    from screens.prepared import fill

    work = Path(tempfile.mkdtemp(prefix="h3-prepared-codec-"))
    try:
        db = open_database(work / "kiosk.db")
        ensure_catalog()
        catalog = load_catalog()
        db.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reg = registration()
    texts = pc.encode(reg)
    draft = Draft()
    n = 300

    def timed(job) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                job()
            samples.append((time.perf_counter() - start) / n * 1000)
        return median(samples)

    def bare() -> None:  # Base32 and inflate of the same parts, nothing checked
        packed = b"".join(base64.b32decode(t[2:] + "=" * (-len(t[2:]) % 8))[6:-4] for t in texts)
        zlib.decompressobj(-15, pc.ZDICT).decompress(packed)

    def whole() -> None:
        fill(draft, pc.decode(texts), catalog.by_code, 0)

    value, floor = timed(whole), timed(bare)
    return [Figure("prepared registration, 10 instruments: decode both parts (CRC, id, inflate, parse) + check "
                   "every field as typed + fill the draft", value, "ms", "Base32 + inflate of the same parts",
                   floor, "<= 5 ms", value <= 5)]


def scan_figures() -> list[Figure]:
    from kiosk.domain.prepared import encode

    reg = registration()
    texts = encode(reg)
    work = Path(tempfile.mkdtemp(prefix="h3-prepared-bench-"))
    runs: dict[str, list[float]] = {"whole": [], "typing": [], "enter": [], "steps": []}
    try:
        for i in range(ROUNDS):
            for name, job in (("whole", _scan(texts, True)), ("typing", _typed_not_a_code(texts)),
                              ("enter", _scan(texts, False)), ("steps", _steps_of_a_filled_draft(reg))):
                runs[name].append(asyncio.run(_kiosk(work / f"{name}{i}", job)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    whole, typing, enter, steps = (median(runs[k]) * 1000 for k in ("whole", "typing", "enter", "steps"))
    keys = sum(map(len, texts)) + len(texts)
    return [
        Figure(f"prepared registration, 10 instruments in {len(texts)} part(s): {keys} key events as a scanner "
               f"types them -> filled estimate on screen, median of {ROUNDS}", whole, "ms",
               "the same key events on the welcome screen, not a code", typing, "ratio <= 1.5",
               whole / typing <= 1.5),
        Figure(f"prepared registration, 10 instruments: the last part's Enter -> filled estimate on screen "
               f"(reassemble, inflate, check every field, fill the draft, open the 4 steps), median of {ROUNDS}",
               enter, "ms", "the 4 steps opened for the same draft already filled", steps,
               "ratio <= 1.5", enter / steps <= 1.5),
    ]


def run() -> list[Figure]:
    return size_figures() + readability_figures() + codec_figures() + scan_figures()


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
