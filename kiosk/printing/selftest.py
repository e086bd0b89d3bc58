"""`kiosk doctor --print-test`: the self-test page that tells, on paper, which profile a printer
takes (printer/selftest.py sends the samples in the printer's own font and draws what must read
right in any font), and says which, among the profiles for the configured paper width.

Printed straight through the configured printer's backend, not through the customer queue:
a person is standing at the printer, and a job nobody asked the kiosk for must never be
retried into the lobby's tickets.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.clock import local
from kiosk.i18n import t
from printer.document import QR, Cut, Document, Feed, Rule, Text
from printer.profiles import PROFILES, Profile
from printer.selftest import (
    Advice,
    Drawn,
    ImageQR,
    PageBlock,
    Sample,
    advice,
    advice_block,
    preview_document,
    render_self_test,
)

# The lines in the printer's own font, numbered from 1 on the page: ASCII, a GB 2312 word, a
# GBK character not in GB 2312 (镕, a name), characters outside GBK (䶮 two GB18030 bytes, 𠮷
# four) and money (￥ in GB 2312, ¥ four bytes, € outside GBK). Which font each needs is the
# profiles' own rule (printer.selftest.repertoire_needed), and so is the advice they lead to.
SAMPLES = ("ABCXYZ abcxyz 0123456789", "计量检定", "镕", "䶮 𠮷", "￥ ¥ €")
# After the ASCII sample, on its line: hanzi as user-defined characters (ESC &), as the
# -ascii profiles print them. Line 1 right: the printer's ASCII font and ESC & both work.
USER_CHARS_SAMPLE = "计量"
JOB_NAME = "self-test"


def page_blocks(profile: Profile, now: datetime, lang: str) -> tuple[PageBlock, ...]:
    """The page for a printer configured with `profile`, dated by the institute's clock: each
    sample drawn (what it should look like) over the same in the printer's font, the native QR
    and the same as an image, then which profile of this paper width to set, by what went wrong."""
    moment = local(now)
    qr_data = f"KIOSK {profile.name}"  # at most 26 bytes: a version 2 code
    blocks: list[PageBlock] = [
        Text(t("selftest.title", lang, profile=profile.name), bold=True),
        Text(f"{moment:%Y-%m-%d %H:%M}"),
        Text(t("selftest.how", lang)),
    ]
    for n, chars in enumerate(SAMPLES, 1):
        user_chars = n == 1
        if user_chars:
            chars = f"{chars} {USER_CHARS_SAMPLE}"
        blocks += [Drawn(f"{n} {chars}"), Sample(f"  {chars}", user_chars=user_chars)]
    blocks += [
        # The printer's QR command, then the same code as a picture, each as receipts send it.
        Text("A", align="center"), QR(qr_data), Text("B", align="center"), ImageQR(qr_data),
        Rule(), Drawn(t("selftest.advice", lang), bold=True),
        *(advice_block(row, t("selftest.advice.row", lang, condition=condition(row, lang), profile=row.profile.name))
          for row in advice(profile, SAMPLES)),
        Feed(1), Cut(),
    ]
    return tuple(blocks)


def condition(row: Advice, lang: str) -> str:
    """What the reader sees when `row` fits: which sample lines went wrong, and the native QR."""
    lines = t("selftest.advice.or", lang).join(map(str, row.wrong))
    seen = t("selftest.advice.wrong", lang, lines=lines) if row.wrong else t("selftest.advice.all_right", lang)
    if row.qr_scans is None:
        return seen
    return seen + t("selftest.advice.qr_scans" if row.qr_scans else "selftest.advice.qr_fails", lang)


def print_self_test(settings, now: datetime, lang: str, open_printer=None):
    """Print the page on the configured printer (kiosk.printing.spool.PrinterSettings); None when
    the printer said it printed, else the PrinterError (`delivered`: unconfirmed)."""
    from kiosk.printing.send import send_document

    blocks = page_blocks(PROFILES[settings.profile], now, lang)
    document: Document = preview_document(blocks, JOB_NAME)
    return send_document(document, JOB_NAME, settings, open_printer,
                         render=lambda profile, font: render_self_test(blocks, profile, font=font))
