"""The message catalogue: every key in both languages, the same placeholders, widths that hold."""

import re
import unicodedata

import pytest

from kiosk.i18n import MESSAGES

PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_zh_and_en_with_the_same_placeholders(key):
    zh, en = MESSAGES[key]
    assert zh.strip() and en.strip()
    assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en))


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_chinese_text_avoids_ambiguous_width_punctuation(key):
    # Textual counts “ ” … · — as one cell; a CJK terminal may draw two: columns would drift.
    zh = MESSAGES[key][0]
    ambiguous = [ch for ch in zh if unicodedata.east_asian_width(ch) == "A"]
    assert ambiguous == [], f"{key}: use full-width punctuation instead of {ambiguous}"


def test_no_key_is_written_twice():
    """A dict literal keeps the last of two equal keys without a word: the first text is lost."""
    import ast
    from collections import Counter
    from pathlib import Path

    import kiosk.i18n

    tree = ast.parse(Path(kiosk.i18n.__file__).read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = Counter(k.value for k in node.keys if isinstance(k, ast.Constant))
            assert [k for k, n in keys.items() if n > 1] == []
