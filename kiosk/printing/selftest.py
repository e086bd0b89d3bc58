"""`kiosk doctor --print-test`: the self-test page that tells, on paper, which profile a printer
takes (printer/selftest.py draws the labels and sends the samples in the printer's own font).

Printed straight through the configured printer's backend, not through the customer queue:
a person is standing at the printer, and a job nobody asked the kiosk for must never be
retried into the lobby's tickets.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.clock import local
from kiosk.i18n import t
from kiosk.i18n.keys import SELF_TEST_SAMPLES
from printer.document import QR, Cut, Document, Feed, Row, Rule, Text
from printer.profiles import PROFILES, Profile
from printer.selftest import ImageQR, PageBlock, Sample, preview_document, render_self_test

# What each line tests, in the printer's own encoding (all GB18030 bytes: GB2312 and GBK characters
# are two bytes in it, 𠮷 and ¥ four): one group of the fonts check (kiosk/ops/doctor.py FONT_SAMPLE)
# per line, as a person can read them off the paper.
SAMPLES = (
    ("ascii", "ABCXYZ abcxyz 0123456789 #%&@"),  # one line on 58 mm paper (32 columns)
    ("gb2312", "计量检定"),
    ("gbk", "䶮"),  # in GBK, not GB 2312
    ("gb18030", "𠮷"),  # four bytes
    ("money", "￥ ¥ €"),
)
JOB_NAME = "self-test"


def twin(profile: Profile, *, chinese_font: bool) -> Profile:
    """The profile for the same paper with (text, native QR) or without (raster) a Chinese font:
    the nearest printable width when none has exactly this one."""
    same_kind = [p for p in PROFILES.values()
                 if p.repertoire == ("gb18030" if chinese_font else "none") and p.native_qr == chinese_font]
    return min(same_kind, key=lambda p: (abs(p.dots - profile.dots), p.name))


def page_blocks(profile: Profile, now: datetime, lang: str) -> tuple[PageBlock, ...]:
    """The page for a printer configured with `profile`, dated by the institute's clock."""
    moment = local(now)
    text, raster = twin(profile, chinese_font=True).name, twin(profile, chinese_font=False).name
    qr_data = f"KIOSK SELF-TEST {profile.name} {moment:%Y-%m-%d}"
    blocks: list[PageBlock] = [
        Text(t("selftest.title", lang), align="center", bold=True),
        Row(t("selftest.profile", lang), profile.name),
        Row(t("selftest.paper", lang), t("selftest.paper_width", lang, mm=profile.dots // 8, dots=profile.dots,
                                         columns=profile.columns)),
        Row(t("selftest.date", lang), f"{moment:%Y-%m-%d %H:%M}"),
        Rule(),
        Text(t("selftest.how", lang)),
    ]
    for group, chars in SAMPLES:
        blocks += [Feed(1), Text(t(SELF_TEST_SAMPLES[group], lang, chars=chars, raster=raster)), Sample(chars)]
    blocks += [
        Feed(1), Text(t("selftest.native_qr", lang, raster=raster)), QR(qr_data),
        Text(t("selftest.image_qr", lang, data=qr_data)), ImageQR(qr_data),
        Rule(), Text(t("selftest.verdict", lang, text=text, raster=raster), bold=True),
        Feed(2), Cut(),
    ]
    return tuple(blocks)


def print_self_test(settings, now: datetime, lang: str, open_printer=None):
    """Print the page on the configured printer (kiosk.printing.spool.PrinterSettings); None when
    the printer said it printed, else the PrinterError (`delivered`: unconfirmed)."""
    from kiosk.printing.spool import send_document

    blocks = page_blocks(PROFILES[settings.profile], now, lang)
    document: Document = preview_document(blocks, JOB_NAME)
    return send_document(document, JOB_NAME, settings, open_printer,
                         render=lambda profile, font: render_self_test(blocks, profile, font=font))
