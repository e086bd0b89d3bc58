"""The fonts that draw receipts as images (raster printers, the preview PNG), chosen for
what they can draw.

A receipt is drawn glyph by glyph: each character (a cluster: a base and its marks) with
the first font of the chain whose character map has every code point of it (read with
fontTools, so a font that would draw a box or nothing is never asked). Digits and Latin
letters are checked like hanzi: Droid Sans Fallback (Debian pulls it in with cups; to
fontconfig it is ja|zh-tw, so it comes in by its known path) has no ASCII at all, so a
machine whose only Chinese font it is draws the hanzi with it and the ticket number,
amounts and dates with the next font that has them. A character no font has is drawn as
a boxed "?" and logged by code point (`raster.py`).

The chain, in order, each font once:
1. the configured path (it must exist and load, else `FontNotFound` names it);
2. fontconfig's best zh-cn font, monospace first, then any (`fc-match` always answers with
   *some* font: kept only if it claims zh-cn);
3. the well-known paths of CJK fonts that exist (for a machine without fc-match, and for
   rarer hanzi the first font lacks);
4. the bundled Noto Sans Mono CJK SC subset (GB 2312, ASCII and punctuation; SIL OFL, see
   fonts/OFL.txt), always there: ASCII never depends on the machine;
5. fontconfig's best Latin font, monospace first, for symbols such as € that CJK fonts may
   lack. Last because Latin fonts are wider than the half-width column ASCII gets from a
   CJK font (a glyph wider than its cell is narrowed to fit, `raster.py`).

Tests draw with the bundled font alone (`BUNDLED_ONLY`, a chain passed where a configured
font goes), so that their golden images do not depend on the machine's fonts.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .width import clusters

BUNDLED_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansMonoCJKsc-GB2312.otf"

# CJK fonts where distributions put them; those that exist join the chain after fontconfig's.
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSansMonoCJK-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # no ASCII: hanzi only
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
_CJK_PATTERNS = (":lang=zh-cn:spacing=mono", ":lang=zh-cn")
_LATIN_PATTERNS = (":lang=en:spacing=mono", ":lang=en")


class FontNotFound(Exception):
    """The configured receipt font is missing or unreadable."""


class CodePoints(AbstractSet[int]):
    """A font's code points as runs (first, last), in two arrays: a set of ints of a CJK font's
    ~30,000 code points takes ~3 MB of heap for the life of the kiosk, these ~30 KB. A read-only
    set (`in`, `<=`, `==` and `&` with sets, iteration in order)."""

    __slots__ = ("_firsts", "_lasts", "_len")

    def __init__(self, runs: Iterable[tuple[int, int]] = ()) -> None:
        firsts, lasts = array("I"), array("I")
        for first, last in sorted(runs):
            if first > last:
                continue
            if lasts and first <= lasts[-1] + 1:
                lasts[-1] = max(lasts[-1], last)
            else:
                firsts.append(first)
                lasts.append(last)
        self._firsts, self._lasts = firsts, lasts
        self._len = sum(last - first + 1 for first, last in zip(firsts, lasts, strict=True))

    @classmethod
    def of(cls, code_points: Iterable[int]) -> CodePoints:
        return cls((c, c) for c in code_points)

    @classmethod
    def _from_iterable(cls, it: Iterable[int]) -> frozenset[int]:  # type: ignore[override]  # `&`, `|`, `-`
        return frozenset(it)

    def __contains__(self, code_point: object) -> bool:
        if not isinstance(code_point, int):
            return False
        i = bisect_right(self._firsts, code_point) - 1
        return i >= 0 and code_point <= self._lasts[i]

    def __iter__(self) -> Iterator[int]:
        for first, last in zip(self._firsts, self._lasts, strict=True):
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return self._len

    __hash__ = AbstractSet._hash


@dataclass(frozen=True)
class FontChain:
    """Fonts in order of preference; a cluster is drawn with the first that has all of it."""

    paths: tuple[Path, ...]

    def font_for(self, cluster: str) -> Path | None:
        needed = {ord(ch) for ch in cluster}
        for path in self.paths:
            if needed <= coverage(path):
                return path
        return None

    def used_for(self, text: str) -> dict[Path | None, str]:
        """The clusters of `text` (spaces aside, each once) by the font that draws them;
        under None those no font has."""
        out: dict[Path | None, str] = {}
        for cluster in dict.fromkeys(clusters(text)):
            if not cluster.isspace():
                font = self.font_for(cluster)
                out[font] = out.get(font, "") + cluster
        return out


BUNDLED_ONLY = FontChain((BUNDLED_FONT,))


def font_chain(configured: Path | str | FontChain | None = None) -> FontChain:
    """The chain for a configured font (None or "": none; a chain is taken as it is);
    raises `FontNotFound` for a configured font that is missing or not a font."""
    if isinstance(configured, FontChain):
        return configured
    first: tuple[Path, ...] = ()
    if configured is not None and str(configured) != "":
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFound(f"receipt font {path} does not exist (printer.font in the configuration)")
        if not _loads(path):
            raise FontNotFound(f"receipt font {path} is not a font Pillow can load (printer.font in the configuration)")
        first = (path,)
    return FontChain(tuple(dict.fromkeys(first + _machine_fonts())))


@lru_cache(maxsize=1)
def _machine_fonts() -> tuple[Path, ...]:
    found = [_fc_match(pattern, "zh-cn") for pattern in _CJK_PATTERNS]
    found += [Path(name) for name in SYSTEM_FONTS]
    found.append(BUNDLED_FONT)
    found += [_fc_match(pattern, "en") for pattern in _LATIN_PATTERNS]
    return tuple(dict.fromkeys(p for p in found if p is not None and p.is_file() and _loads(p)))


def _fc_match(pattern: str, lang: str) -> Path | None:
    """fc-match always answers with *some* font: keep it only if it claims `lang`."""
    if shutil.which("fc-match") is None:
        return None
    try:
        done = subprocess.run(["fc-match", "-f", "%{file}\n%{lang}", pattern], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, langs = done.stdout.partition("\n")
    if done.returncode != 0 or not file or lang not in langs.split("|"):
        return None
    return Path(file)


def _loads(path: Path) -> bool:
    try:
        load_font(path, 24)
        coverage(path)
    except Exception:  # noqa: BLE001 - Pillow and fontTools raise many kinds for a file that is no font
        return False
    return True


@lru_cache(maxsize=32)
def coverage(path: Path) -> CodePoints:
    """The code points the face `load_font` uses has glyphs for (its best Unicode cmap, chosen as
    fontTools' `getBestCmap` chooses it; glyph 0 is no glyph).

    Formats 4 and 12 (what Unicode fonts use) are read here straight from the file's cmap table:
    fontTools names every glyph of the font first (`glyph12345`, tens of thousands in a CJK font)
    and builds code point -> name maps, ~9 MB at once for Droid Sans Fallback (with its import)
    that stayed in the print worker's heap for the life of the kiosk (bench/memory.py). Any other
    format, or a file this reading does not understand, is read by fontTools."""
    index = _face_index(path)
    try:
        found = _cmap_code_points(path, index)
    except (OSError, KeyError, ValueError, struct.error):
        found = None
    if found is not None:
        return found
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no py.typed

    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return CodePoints.of(font.getBestCmap() or ())


# fontTools' getBestCmap order (HarfBuzz's): (platform, encoding) of the Unicode subtables.
_CMAP_PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def _cmap_code_points(path: Path, index: int) -> CodePoints | None:
    """The best Unicode subtable's code points, or None when it is not format 4 or 12."""
    with open(path, "rb") as f:
        head = f.read(12)
        base = 0
        if head[:4] == b"ttcf":  # a collection: the offset of face `index`'s table directory
            f.seek(12 + 4 * index)
            (base,) = struct.unpack(">I", f.read(4))
            f.seek(base)
            head = f.read(12)
        (count,) = struct.unpack_from(">H", head, 4)
        entries = f.read(16 * count)
        tables = {entries[i:i + 4]: struct.unpack_from(">II", entries, i + 8) for i in range(0, 16 * count, 16)}
        offset, length = tables[b"cmap"]
        f.seek(offset)
        data = f.read(length)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(struct.unpack_from(">H", data, 2)[0]):
        platform, encoding, at = struct.unpack_from(">HHI", data, 4 + 8 * i)
        subtables.setdefault((platform, encoding), at)  # the first of each, as fontTools' getcmap
    at = next((subtables[pe] for pe in _CMAP_PREFERENCES if pe in subtables), None)
    if at is None:
        return CodePoints()
    form = struct.unpack_from(">H", data, at)[0]
    runs: list[tuple[int, int]] = []  # (first, last): never a set of every code point, even for a moment
    if form == 4:
        segments = struct.unpack_from(">H", data, at + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}H", data, at + 16 + 4 * segments)
        ranges_at = at + 16 + 6 * segments
        range_offsets = struct.unpack_from(f">{segments}H", data, ranges_at)
        for i in range(segments - 1):  # the last segment is the 0xFFFF terminator
            start, end, delta, range_offset = starts[i], ends[i], deltas[i], range_offsets[i]
            if start > end:
                continue
            if range_offset == 0:  # glyph c + delta: none (0) for one code point at most
                none = -delta & 0xFFFF
                runs += [(start, none - 1), (none + 1, end)] if start <= none <= end else [(start, end)]
            else:
                glyphs = struct.unpack_from(f">{end - start + 1}H", data, ranges_at + 2 * i + range_offset)
                run = None
                for c, g in zip(range(start, end + 1), glyphs, strict=True):
                    if g and (g + delta) & 0xFFFF:
                        run = run or [c, c]
                        run[1] = c
                    elif run:
                        runs.append((run[0], run[1]))
                        run = None
                if run:
                    runs.append((run[0], run[1]))
        return CodePoints(runs)
    if form == 12:
        for i in range(struct.unpack_from(">I", data, at + 12)[0]):
            start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
            runs.append((start + (glyph == 0), end))  # glyph 0 is no glyph
        return CodePoints(runs)
    return None


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
