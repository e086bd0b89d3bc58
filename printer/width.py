"""Receipt columns: how wide a text prints with a GB18030 font, and wrapping that never cuts a glyph.

On an ESC/POS printer in Chinese mode (`FS &`) with a GB18030 font, every character that
GB18030 encodes as one byte (exactly ASCII) prints in one column of font A (12 dots), and
every other character (any multi-byte GB18030 character: hanzi, but also “ ” · — × ￥ é and
CJK punctuation) in two (24 dots). This is the printer's rule, not Unicode's East Asian
Width: “ or — are "ambiguous" for a terminal but double-width on the receipt.

Two deliberate edge cases, the same for every renderer:

* A lone surrogate (which GB18030 cannot encode) is printed as `?`, so it counts 1 column;
  a high surrogate followed by a low one is the character they encode (2 columns).
* `sanitize` turns control characters into `?` (a stray ESC in a customer's text must
  not reach the printer as a command), tabs into spaces, line separators into `\\n`, and
  composes combining sequences (NFC) so that `e` + U+0301 prints as one `é`.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")
_ANY_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # every C0/C1 control but \t and \n
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_MARKS = frozenset(("Mn", "Mc", "Me"))
# Closing punctuation that Chinese typesetting never puts at the start of a line.
_NO_LINE_START = frozenset("，。、；：！？）》」』】〕…％”’,.;:!?)]}%")
# Opening punctuation that does not end a line.
_NO_LINE_END = frozenset("（《「『【〔“‘([{￥")  # ￥ stays with its amount


def columns_of(text: str) -> int:
    """Columns `text` takes on the receipt: 1 per ASCII character, 2 per other character
    (a lone surrogate, printed as `?`, takes 1; a surrogate pair is one character: 2)."""
    if text.isascii():
        return len(text)
    if _ANY_SURROGATE.search(text) is None:
        return 2 * len(text) - len(text.encode("ascii", "ignore"))
    return sum(1 if ch < "\x80" or "\ud800" <= ch <= "\udfff" else 2 for ch in text)


def sanitize(text: str) -> str:
    """The text exactly as it will print: see the module docstring. Idempotent."""
    if text.isascii() and text.isprintable():
        return text
    text = _LINE_BREAKS.sub("\n", text).replace("\t", " ")
    text = _CONTROLS.sub("?", text)
    if not text.isascii():
        text = _SURROGATES.sub(_join_surrogates, text)
        text = unicodedata.normalize("NFC", text)
    return text


def fix_surrogates(text: str) -> str:
    """Surrogate pairs joined into the character they encode, lone surrogates as `?`;
    nothing else touched (for QR data, which must stay byte for byte)."""
    return _SURROGATES.sub(_join_surrogates, text) if not text.isascii() else text


def _join_surrogates(match: re.Match[str]) -> str:
    s = match.group()
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le") if len(s) == 2 else "?"


def clusters(text: str) -> list[str]:
    """`text` cut between glyphs only: a base character keeps its combining marks, and a
    surrogate pair stays whole. `"".join(clusters(t)) == t`."""
    if text.isascii():
        return list(text)
    out: list[str] = []
    for ch in text:
        if out and (
            unicodedata.category(ch) in _MARKS
            or ("\udc00" <= ch <= "\udfff" and "\ud800" <= out[-1][-1] <= "\udbff")
        ):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, width: int) -> list[str]:
    """Cut `text` into lines of at most `width` columns, losslessly (`"".join(...) == text`).

    Greedy, breaking at the last opportunity that fits: after a space, or before or after
    a Chinese (East Asian wide) character, except before closing punctuation (`，` `。` `）`)
    or after opening punctuation (`（` `“`). With no opportunity (an over-long ASCII word)
    the line is cut between two glyphs. The spaces at a break stay at the end of the line
    before and *hang*: they are not counted against `width` (as CSS `white-space:
    pre-wrap` does) and the layout strips them, so what prints is `line.rstrip(" ")`,
    never wider than `width`. Leading spaces (an indent) do count. A glyph is never cut,
    except a combining sequence wider on its own than `width` (pathological), which is cut
    between code points. Always at least one line.
    """
    if width < 2:
        raise ValueError(f"wrap width must be at least 2 columns (a Chinese character), not {width}")
    if columns_of(text) <= width or columns_of(text.rstrip(" ")) <= width:
        return [text]
    units: list[str] = []
    for cluster in clusters(text):
        if columns_of(cluster) > width:
            units.extend(_code_points(cluster))  # pathological: a base with many marks
        else:
            units.append(cluster)
    lines: list[str] = []
    line: list[str] = []
    used = 0  # columns of `line`, its trailing (hanging) spaces included
    content = False  # `line` holds a non-space
    last_break = 0  # index in `line` of the last place it may be broken (0: none)
    prev = ""
    for unit in units:
        if unit == " ":
            line.append(unit)
            used += 1
            prev = unit
            continue
        w = columns_of(unit)
        if content and _may_break(prev, unit):
            last_break = len(line)
        if used + w > width:
            if last_break == len(line):  # right here
                lines.append("".join(line))
                line, used = [], 0
            elif last_break > 0:  # at the last opportunity: carry what follows it over
                lines.append("".join(line[:last_break]))
                line = line[last_break:]
                used = sum(columns_of(u) for u in line)
            if used + w > width:  # no opportunity, or still too wide: cut between glyphs
                lines.append("".join(line))
                line, used = [], 0
            content = bool(line)
            last_break = 0
        line.append(unit)
        used += w
        content = True
        prev = unit
    lines.append("".join(line))
    return lines


def _may_break(prev: str, unit: str) -> bool:
    """May a line break between `prev` and `unit` (`unit` not a space)?"""
    if unit in _NO_LINE_START or prev in _NO_LINE_END:
        return False
    return prev == " " or _wide(prev) or _wide(unit)


def _wide(cluster: str) -> bool:
    return not cluster.isascii() and unicodedata.east_asian_width(cluster[0]) in ("W", "F")


def _code_points(cluster: str) -> list[str]:
    """A cluster cut into code points, a surrogate pair (2 columns) kept whole."""
    out: list[str] = []
    for ch in cluster:
        if out and "\udc00" <= ch <= "\udfff" and "\ud800" <= out[-1] <= "\udbff":
            out[-1] += ch
        else:
            out.append(ch)
    return out


def pad(text: str, width: int, align: str = "left") -> str:
    """`text` (at most `width` columns) placed in `width` columns with spaces on either side."""
    gap = width - columns_of(text)
    if gap <= 0:
        return text
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    return text + " " * gap


def truncate(text: str, width: int) -> str:
    """The longest prefix of `text` that fits in `width` columns, cut between glyphs."""
    if columns_of(text) <= width:
        return text
    out, used = [], 0
    for cluster in clusters(text):
        w = columns_of(cluster)
        if used + w > width:
            break
        out.append(cluster)
        used += w
    return "".join(out)
