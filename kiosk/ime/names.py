"""Chinese personal names for a field that asks for a person (the contact): "wangfang" is offered
as 王芳, one word, though no dictionary has it; "zhang" offers the surname 张 before 长.

A name is a surname (one syllable or two: 欧阳) and a given name of one or two syllables, or a title
(王工, 李总, 张老师). Candidates: every way the composition splits so, each scored by the surname's
rank times the given-name characters' ranks (kiosk/data/personal_names.txt says where they come from),
best first. The given-name characters are read by their usual reading in the dictionary.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import nlargest
from itertools import product
from pathlib import Path

DATA_FILE = Path(__file__).parent.parent / "data" / "personal_names.txt"
PER_SYLLABLE = 6  # given-name characters tried per syllable: the rest never win
TITLE_WEIGHT = 0.2  # a title is as likely as a given-name character of about rank 0 (see _weight)


def _weight(rank: int) -> float:
    """A rank's share: Zipf-like, flattened at the top (伟 and 芳 are about as common)."""
    return 1.0 / (rank + 5)


class PersonalNames:
    def __init__(self, surnames: dict[str, list[tuple[str, float]]], given: dict[str, list[tuple[str, float]]],
                 titles: dict[str, list[tuple[str, float]]]) -> None:
        self._surnames = surnames  # "wang" -> [("王", weight), ("汪", weight)], best first
        self._given = given  # "fang" -> [("芳", weight), ...]
        self._titles = titles  # "laoshi" -> [("老师", TITLE_WEIGHT)]: after a surname, never inside a given name
        self._longest = max((len(k) for k in surnames), default=0)

    @classmethod
    def parse(cls, text: str, usual_reading: Callable[[str], str | None]) -> PersonalNames:
        """From the data file's text; `usual_reading` gives a character's usual syllable (None: unknown)."""
        sections: dict[str, list[str]] = {}
        current: list[str] = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
            elif line:
                current.extend(line.split())
        surnames: dict[str, list[tuple[str, float]]] = {}
        for rank, entry in enumerate(dict.fromkeys(sections.get("surnames", []))):
            surname, _, syllables = entry.partition(":")
            surnames.setdefault(syllables, []).append((surname, _weight(rank)))
        given: dict[str, list[tuple[str, float]]] = {}
        for rank, ch in enumerate(dict.fromkeys(sections.get("given", []))):
            syllable = usual_reading(ch)
            if syllable and len(given.setdefault(syllable, [])) < PER_SYLLABLE:
                given[syllable].append((ch, _weight(rank)))
        titles: dict[str, list[tuple[str, float]]] = {}
        for title in sections.get("titles", []):
            readings = [usual_reading(ch) for ch in title]
            if all(readings):
                titles.setdefault("".join(r for r in readings if r), []).append((title, TITLE_WEIGHT))
        return cls(surnames, given, titles)

    def candidates(self, letters: str, limit: int) -> list[str]:
        """Names spelling all of `letters` (no apostrophes), best first; for a surname's reading
        alone, its surnames."""
        scored: dict[str, float] = {}
        for cut in range(1, min(self._longest, len(letters)) + 1):
            for surname, weight in self._surnames.get(letters[:cut], ()):
                rest = letters[cut:]
                if not rest:
                    scored[surname] = max(scored.get(surname, 0.0), weight)
                for given, score in self._given_names(rest):
                    name = surname + given
                    scored[name] = max(scored.get(name, 0.0), weight * score)
        return [name for name, _ in nlargest(limit, scored.items(), key=lambda item: (item[1], item[0]))]

    def _given_names(self, rest: str) -> list[tuple[str, float]]:
        """A given name (or a title) of one or two syllables spelling `rest`, with its score."""
        found = list(self._titles.get(rest, ())) + list(self._given.get(rest, ()))
        for cut in range(1, len(rest)):
            first, second = self._given.get(rest[:cut]), self._given.get(rest[cut:])
            if first and second:
                found += [(a + b, wa * wb) for (a, wa), (b, wb) in product(first, second)]
        return found


def load_names(usual_reading: Callable[[str], str | None], path: Path = DATA_FILE) -> PersonalNames:
    return PersonalNames.parse(path.read_text("utf-8"), usual_reading)
