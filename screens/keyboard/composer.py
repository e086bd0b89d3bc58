"""The pinyin being spelled for one field: the letters typed so far (the composition), the words
the dictionary offers for them, and which page of those words is on show. No Textual here: the
keyboard widget draws it, tests drive it directly.

A word chosen goes into the field and takes the letters it spells off the front of the
composition (贵州 takes "guizhou" of "guizhousheng"); the rest stays, to be chosen next."""

from __future__ import annotations

from typing import Protocol

from kiosk.i18n.textwidth import cell_width

LIMIT = 30  # words asked for per composition: three or four pages at 80 columns
MAX_LETTERS = 40  # a composition longer than any name is a stuck key, not a word
PAGE_KEYS = 9  # a physical keyboard chooses with 1-9


class Candidate(Protocol):
    text: str
    letters: int  # how many characters of the composition, from its start, the word spells


class Dictionary(Protocol):
    """kiosk.ime.PinyinDictionary, as the keyboard uses it."""

    def candidates(self, composition: str, limit: int = ..., person: bool = ...) -> list: ...

    def spelled(self, composition: str) -> str: ...


class Composer:
    def __init__(self) -> None:
        self.letters = ""
        self.candidates: list[Candidate] = []
        self.start = 0  # the first candidate on show
        self.shown = 0  # how many are on show (as many as fit the bar: the widget says)
        self._starts: list[int] = []  # where the earlier pages began, for ‹
        self.person = False  # the field asks for a person's name: names first (王芳 for "wangfang")

    def __bool__(self) -> bool:
        return bool(self.letters)

    def add(self, letter: str, dictionary: Dictionary | None) -> bool:
        """A letter, or the split mark (never first, never twice running)."""
        if len(self.letters) >= MAX_LETTERS:
            return False
        if letter == "'" and (not self.letters or self.letters.endswith("'")):
            return False
        self.letters += letter
        self.look_up(dictionary)
        return True

    def backspace(self, dictionary: Dictionary | None) -> None:
        self.letters = self.letters[:-1]
        self.look_up(dictionary)

    def clear(self) -> None:
        self.letters = ""
        self.look_up(None)

    def raw(self) -> str:
        """The letters as typed (what Enter puts into the field), and the composition is done."""
        letters = self.letters.replace("'", "")
        self.clear()
        return letters

    def look_up(self, dictionary: Dictionary | None) -> None:
        """The words for the letters now, from the first page."""
        self.candidates = (dictionary.candidates(self.letters, limit=LIMIT, person=self.person)
                           if dictionary and self.letters else [])
        # Up to a page until the bar has measured how many fit (fit()).
        self.start, self.shown, self._starts = 0, min(PAGE_KEYS, len(self.candidates)), []

    def spelled(self, dictionary: Dictionary | None) -> str:
        """The composition as syllables (gui'zhou), or as typed while there is no dictionary."""
        return dictionary.spelled(self.letters) if dictionary and self.letters else self.letters

    def choose(self, index: int, dictionary: Dictionary | None) -> str | None:
        """The text of the index-th word on show; its letters leave the composition."""
        if not 0 <= index < self.shown:
            return None
        chosen = self.candidates[self.start + index]
        # A word spells at least one letter: the composition always gets shorter.
        self.letters = self.letters[max(1, chosen.letters):].lstrip("'")
        self.look_up(dictionary)
        return chosen.text

    @property
    def page(self) -> list[Candidate]:
        return self.candidates[self.start:self.start + self.shown]

    @property
    def has_next(self) -> bool:
        return self.start + self.shown < len(self.candidates)

    @property
    def has_previous(self) -> bool:
        return bool(self._starts)

    def fit(self, room: int, overhead: int) -> None:
        """Show as many words from `start` as fit in `room` cells, each taking its label's width
        plus `overhead` (padding and gap); at least one, at most PAGE_KEYS."""
        used, shown = 0, 0
        for candidate in self.candidates[self.start:self.start + PAGE_KEYS]:
            used += cell_width(label(shown, candidate.text)) + overhead
            if used > room and shown:
                break
            shown += 1
        self.shown = shown

    def next_page(self) -> bool:
        if not self.has_next:
            return False
        self._starts.append(self.start)
        self.start += self.shown
        return True

    def previous_page(self) -> bool:
        if not self._starts:
            return False
        self.start = self._starts.pop()
        return True


def label(index: int, text: str) -> str:
    """A word as the bar shows it: its number (1-9, for a physical keyboard) and the word."""
    return f"{index + 1}{text}"
