"""The catalogue's words: services, uses, fields, units, and how typed text is folded.

Its own module because the kiosk's first frame needs these words (i18n, validation) and
not the CSV machinery of `catalog`.
"""

from __future__ import annotations

import unicodedata

SERVICES = ("verification", "calibration", "testing", "repair")
USES = ("trade", "safety", "medical", "environment", "other")
# The uses that can make verification compulsory (计量法 第九条), each as the catalogue words it:
# 《实施强制管理的计量器具目录》 (2019年第48号, adjusted 2020年第42号) names per item which of them
# make that item compulsory; verification so made compulsory is free (财税〔2017〕20号).
COMPULSORY_USES = frozenset({"trade", "safety", "medical", "environment"})
USE_WORDS = {"贸易结算": "trade", "安全防护": "safety", "医疗卫生": "medical", "环境监测": "environment"}
# How the catalogue supervises an item: P type approval (型式批准), V compulsory verification
# (强制检定), P+V both.
SUPERVISION = ("P", "V", "P+V")

# Fee-standard numbers are letter-coded by field; the letter is the code's first character.
FIELDS = {
    "C": ("长度", "Length"),
    "L": ("力学", "Mechanics and pressure"),
    "Z": ("质量", "Mass"),
    "R": ("热学", "Thermal"),
    "D": ("电磁", "Electrical"),
    "Y": ("医学", "Medical"),
    "F": ("流量", "Flow"),
    "S": ("时间频率", "Time and frequency"),
    "G": ("光学", "Optical"),
    "H": ("化学", "Chemistry"),
    "A": ("声学", "Acoustics"),
}

UNITS = {
    "台": "unit", "块": "piece", "支": "piece", "套": "set", "米": "metre", "个": "piece",
    "把": "piece", "件": "item", "只": "piece", "组": "group", "点": "point", "根": "piece",
}

SERVICE_WORDS = {
    "检定": "verification", "校准": "calibration", "检测": "testing", "修理": "repair",
    "测试": "testing", "维修": "repair",
}
SERVICE_NAMES = {
    "verification": ("检定", "Verification"), "calibration": ("校准", "Calibration"),
    "testing": ("检测", "Testing"), "repair": ("修理", "Repair"),
}


# Full-width letters and digits as an IME types them (ＡＢＣ１２３) and the ideographic
# space. Full-width punctuation is left alone in text: （集团） in an organisation's
# registered name, ℃, 2×10⁵ or ½ in a spec mean what they say.
_FOLD = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
         for cp in range(r[0], r[1] + 1)} | {0x3000: 0x20}


def normalise_text(value: str) -> str:
    """Free text (names, specs, organisation, phone): fold full-width letters/digits, trim."""
    return value.translate(_FOLD).strip()


def normalise_token(value: str) -> str:
    """Codes, numbers, choices: full NFKC, so Ｌ－００１ and １２ read as L-001 and 12."""
    return unicodedata.normalize("NFKC", value).strip()
