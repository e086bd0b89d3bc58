"""A file read before the kiosk's first frame, kept decoded between starts.

Importing tomllib (it compiles its regular expressions) and decoding the institute's file cost
about 3 % of the kiosk's cold start (bench/startup.py --instructions); the file changes a few
times a year. The decoded tables are kept with the text they came from in one marshal file
(the standard library's own format for .pyc files, the quickest to load), and used only when
that text is the same, character for character: an edited file is decoded again at the next
start. Anything wrong with the kept file (missing, damaged, written by another Python) is a
miss, and a file that cannot be written (a full disk, a read-only card) only costs the saving.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Callable
from pathlib import Path


def kept_in(file: Path, decode: Callable[[str], dict]) -> Callable[[str], dict]:
    """`decode` (text -> tables), with its last answer kept in `file` for the same text."""

    def decode_kept(text: str) -> dict:
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            kept = marshal.loads(file.read_bytes())
            if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == text and isinstance(kept[1], dict):
                return kept[1]
        tables = decode(text)  # a text it refuses raises here, and nothing is kept
        _keep(file, (text, tables))
        return tables

    return decode_kept


def _keep(file: Path, value: tuple[str, dict]) -> None:
    part = file.with_name(f"{file.name}.{os.getpid()}.part")
    try:
        data = marshal.dumps(value)  # ValueError: a TOML date or time, which marshal cannot write
        file.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(data)
        os.replace(part, file)  # whole or not at all: a crash never leaves half a file to read
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
