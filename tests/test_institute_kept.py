"""The institute's file kept decoded between a station's starts (kiosk/settings/decoded.py): the
welcome screen says what the file says now, whatever happened to the kept copy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.settings.institute import DEFAULT_FILE, InstituteFileError, kept_file, load_institute

NAMED = "[name]\nzh = '{zh}'\nen = '{en}'\n"


def institute_file(tmp_path: Path, zh: str, en: str, extra: str = "") -> Path:
    """The demo's file with another name (and `extra` lines)."""
    lines = DEFAULT_FILE.read_text("utf-8").splitlines(keepends=True)
    start = lines.index("[name]\n")
    text = "".join(lines[:start] + [NAMED.format(zh=zh, en=en)] + lines[start + 3:]) + extra
    path = tmp_path / "institute.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_second_start_reads_the_kept_copy_without_decoding_toml(tmp_path):
    path = institute_file(tmp_path, "甲市计量院", "Jia Metrology")
    probe = ("import sys; from pathlib import Path; from kiosk.settings.institute import load_institute; "
             f"info = load_institute(Path({str(path)!r}), kept=Path({str(kept_file(tmp_path))!r})); "
             "print(info.name('zh'), 'tomllib' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
            for _ in range(2)]
    assert [run.stdout.split() for run in runs] == [["甲市计量院", "True"], ["甲市计量院", "False"]]


def test_an_edited_file_is_read_again(tmp_path):
    kept = kept_file(tmp_path)
    path = institute_file(tmp_path, "甲市计量院", "Jia Metrology")
    assert load_institute(path, kept=kept).name("en") == "Jia Metrology"
    path = institute_file(tmp_path, "乙市计量院", "Yi Metrology")
    assert load_institute(path, kept=kept).name("zh") == "乙市计量院"
    assert load_institute(path, kept=kept) == load_institute(path)


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xe3" * 3, None])
def test_a_damaged_kept_copy_is_a_miss(tmp_path, damage):
    kept = kept_file(tmp_path)
    path = institute_file(tmp_path, "甲市计量院", "Jia Metrology")
    load_institute(path, kept=kept)
    if damage is None:  # cut short
        kept.write_bytes(kept.read_bytes()[:40])
    else:
        kept.write_bytes(damage)
    assert load_institute(path, kept=kept) == load_institute(path)
    assert load_institute(path, kept=kept).name("zh") == "甲市计量院"


def test_a_broken_file_is_refused_even_with_a_kept_copy_of_the_old_one(tmp_path):
    kept = kept_file(tmp_path)
    path = institute_file(tmp_path, "甲市计量院", "Jia Metrology")
    load_institute(path, kept=kept)
    path.write_text("[name\n", encoding="utf-8")
    with pytest.raises(InstituteFileError, match="not valid TOML"):
        load_institute(path, kept=kept)


def test_a_copy_that_cannot_be_kept_costs_nothing_but_time(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder would be")
    path = institute_file(tmp_path, "甲市计量院", "Jia Metrology")
    assert load_institute(path, kept=kept_file(tmp_path)).name("zh") == "甲市计量院"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dated = institute_file(elsewhere, "丙市计量院", "Bing Metrology", extra="\n[extra]\nsince = 2026-12-07\n")
    kept = kept_file(elsewhere)
    assert load_institute(dated, kept=kept).name("zh") == "丙市计量院"  # marshal cannot keep a TOML date
    assert not kept.parent.exists() or list(kept.parent.iterdir()) == []


@pytest.mark.parametrize("zh, en, where", [
    ("甲市计量院\u202e", "Jia Metrology", "name.zh"),  # would turn the name round on every screen
    ("甲市计量院", "Jia\u200b Metrology", "name.en"),  # a zero-width space, pasted with the name
    ("甲市计量院", "Jia Metrology", "notices[1].zh"),  # the demo's one, then this one
])
def test_an_invisible_character_in_the_file_is_refused_naming_where(tmp_path, zh, en, where):
    """Every text of the file is shown to customers or printed; the operator is told where."""
    extra = "\n[[notices]]\nzh = '请排队\u2066'\nen = 'Queue'\n" if where.startswith("notices") else ""
    path = institute_file(tmp_path, zh, en, extra)
    for _start in range(2):  # the second from the kept copy, checked the same
        with pytest.raises(InstituteFileError, match=rf"institute.toml: {re.escape(where)}: contains an invisible"):
            load_institute(path, kept=kept_file(tmp_path))
