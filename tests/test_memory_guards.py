"""What keeps a kiosk that has printed for months small (bench/memory.py measures the RSS):
peewee's import leaves psycopg out, a font's coverage is read from its cmap table without fontTools
(and is what fontTools reads), and the glyphs drawn for raster receipts are kept up to a bound while
each still prints the same."""

import subprocess
import sys
from pathlib import Path

from printer.fonts import BUNDLED_FONT, coverage, font_chain
from printer.raster import GLYPHS_KEPT, Painter

ROOT = Path(__file__).resolve().parent.parent


def test_the_kiosks_storage_loads_no_postgresql_driver_and_leaves_it_importable():
    code = ("import sys, kiosk.store.registration, peewee\n"
            "print('psycopg' in sys.modules, peewee.psycopg is None)\n"
            "import psycopg\n"
            "print(psycopg.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "psycopg"]


def test_a_fonts_coverage_is_its_best_cmap_as_fonttools_reads_it():
    from fontTools.ttLib import TTFont

    from printer.fonts import _cmap_code_points, _face_index

    for path in {BUNDLED_FONT, *font_chain().paths}:
        with TTFont(str(path), fontNumber=_face_index(path), lazy=True) as font:
            expected = frozenset(font.getBestCmap() or ())
        assert _cmap_code_points(path, _face_index(path)) == expected, path  # read here, not by fontTools
        assert coverage(path) == expected, path


def test_the_glyphs_kept_are_bounded_and_one_dropped_is_drawn_the_same_again():
    painter = Painter(font_chain(BUNDLED_FONT))
    first = painter.glyph("国", 2)
    hanzi = [chr(c) for c in sorted(coverage(BUNDLED_FONT)) if 0x4E00 <= c <= 0x9FFF and chr(c) != "国"]
    for ch in hanzi[:GLYPHS_KEPT + 50]:
        painter.glyph(ch, 2)
    assert len(painter._glyphs) == GLYPHS_KEPT
    assert ("国", 1, False) not in painter._glyphs
    again = painter.glyph("国", 2)
    assert again is not first and again.tobytes() == first.tobytes()
