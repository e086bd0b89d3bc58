"""The CJK font that draws receipts as images (raster printers, the preview PNG).

Order: a configured path (it must exist and load, else `FontNotFound` names it); a system
Chinese font (`fc-match` for a monospace, then any, font covering zh-cn; then a few
well-known paths); the bundled Noto Sans Mono CJK SC subset (GB 2312, ASCII and
punctuation; SIL OFL, see fonts/OFL.txt). The bundled font is always there, so without a
configured path this never fails; tests pass it explicitly (`BUNDLED_FONT`) so that their
golden images do not depend on the machine's fonts.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

BUNDLED_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansMonoCJKsc-GB2312.otf"

# Tried when fc-match is missing or finds no Chinese font; the first that exists and loads wins.
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSansMonoCJK-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontNotFound(Exception):
    """The configured receipt font is missing or unreadable."""


def find_cjk_font(configured: Path | str | None = None) -> Path:
    if configured is not None and str(configured) != "":
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFound(f"receipt font {path} does not exist (printer.font in the configuration)")
        if not _loads(path):
            raise FontNotFound(f"receipt font {path} is not a font Pillow can load (printer.font in the configuration)")
        return path
    return _system_or_bundled()


@lru_cache(maxsize=1)
def _system_or_bundled() -> Path:
    for pattern in (":lang=zh-cn:spacing=mono", ":lang=zh-cn"):
        found = _fc_match(pattern)
        if found is not None and _loads(found):
            return found
    for name in SYSTEM_FONTS:
        path = Path(name)
        if path.is_file() and _loads(path):
            return path
    return BUNDLED_FONT


def _fc_match(pattern: str) -> Path | None:
    """fc-match always answers with *some* font: keep it only if it covers zh-cn."""
    if shutil.which("fc-match") is None:
        return None
    try:
        done = subprocess.run(["fc-match", "-f", "%{file}\n%{lang}", pattern], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, langs = done.stdout.partition("\n")
    if done.returncode != 0 or not file or "zh-cn" not in langs.split("|"):
        return None
    path = Path(file)
    return path if path.is_file() else None


def _loads(path: Path) -> bool:
    try:
        load_font(path, 24)
    except OSError:
        return False
    return True


@lru_cache(maxsize=16)
def load_font(path: Path, px: int):
    """The Pillow font at `px` pixels; in a collection (.ttc) the simplified-Chinese face,
    monospace preferred (Noto's collections list the Japanese face first)."""
    from PIL import ImageFont

    return ImageFont.truetype(str(path), px, index=_face_index(path))


@lru_cache(maxsize=16)
def _face_index(path: Path) -> int:
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from PIL import ImageFont

    best, best_score = 0, -1
    for index in range(64):
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break
        family = family or ""
        score = (2 if " SC" in family or family.endswith("SC") or "GB" in family else 0) + ("Mono" in family)
        if score > best_score:
            best, best_score = index, score
    return best
