"""What keeps a kiosk that has printed for months small (bench/memory.py measures the RSS):
peewee's import leaves psycopg out, a font's coverage is read from its cmap table without fontTools
(and is what fontTools reads) and kept as runs, not as a set of ints, the glyphs drawn for raster
receipts are kept up to a bound while each still prints the same, and a print job gives the memory
its rendering freed back to the system."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_a_fonts_coverage_is_kept_in_kilobytes_and_answers_as_a_set():
    kept = coverage(BUNDLED_FONT)
    assert len(kept) > 7_000  # GB 2312's hanzi, ASCII, punctuation: ~3,600 runs
    held = sys.getsizeof(kept) + sum(sys.getsizeof(getattr(kept, name)) for name in type(kept).__slots__)
    as_ints = sys.getsizeof(frozenset(kept)) + sum(sys.getsizeof(c) for c in kept)  # ~600 KB; Droid's ~3 MB
    assert held < 40_000 and held < as_ints / 10
    assert ord("国") in kept and 0x20AC not in kept and "国" not in kept
    assert {ord("国"), ord("A")} <= kept and not {ord("国"), 0x20AC} <= kept
    assert {ord("国"), 0x20AC} & kept == {ord("国")}
    assert list(kept) == sorted(kept)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_a_print_job_gives_the_memory_it_freed_back_to_the_system():
    from kiosk.printing import send

    send.give_memory_back()
    assert callable(send._malloc_trim)


def test_the_ticket_screens_qr_leaves_pil_out_and_it_still_imports_for_whoever_draws():
    code = ("import sys\n"
            "from screens.qrtext import qr_half_blocks\n"
            "assert '\u2588' in qr_half_blocks('K1A2611240007')\n"
            "print('PIL' in sys.modules)\n"
            "from qrcode.image.styles.moduledrawers.pil import SquareModuleDrawer\n"
            "from printer.raster import qr_symbol\n"
            "print(qr_symbol('K1A2611240007', 384).size)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == "False" and done.stdout.split()[1].startswith("(")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_station_limits_its_malloc_arenas_unless_the_environment_says():
    code = ("import os\n"
            "from kiosk.ops.memory import limit_malloc_arenas\n"
            "print(limit_malloc_arenas())\n"
            "os.environ['MALLOC_ARENA_MAX'] = '4'\n"
            "print(limit_malloc_arenas())\n")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split() == ["True", "False"]
