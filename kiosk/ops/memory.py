"""How much memory a long-running station keeps: glibc's allocator gives each thread that
allocates under contention an arena of its own (up to 8 per core), and a freed page in one
arena is never used by another. A station's threads (the UI loop, the database, the print and
network threads, Textual's workers) each left a few MB in their own: with one arena a kiosk
that registered 1,000 customers holds ~3-4 MB less (bench/memory.py; two: ~2-3 MB), and the
GIL leaves its threads little to contend for anyway (Python's small objects do not even reach
malloc). Set before the threads that come and go start."""

from __future__ import annotations

ARENAS = 1
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """At most `arenas` malloc arenas from now on (MALLOC_ARENA_MAX in the environment wins);
    False where the C library has no such setting (musl, macOS)."""
    import os

    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        glibc = ""
    if not glibc.startswith("glibc") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes

    try:
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
