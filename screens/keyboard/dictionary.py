"""The pinyin dictionary behind the keyboard's candidate bar: read after the first frame, in a
worker thread (the kiosk app's load_pinyin), with the institute's own words ranked first."""

from __future__ import annotations

from functools import lru_cache

from textual.message import Message


class PinyinLoaded(Message):
    def __init__(self, dictionary) -> None:
        super().__init__()
        self.dictionary = dictionary  # kiosk.ime.PinyinDictionary


def load(catalog, info):
    """In a thread: the dictionary, with the catalogue's names and aliases and the institute's places
    (its province's, from the institute file) boosted."""
    from kiosk.ime import institute_vocabulary

    names = [name for row in catalog.rows for name in (row.name_zh, *row.aliases)]
    return _boosted(tuple(institute_vocabulary(names, info.places)))


@lru_cache(maxsize=1)
def _boosted(words: tuple[str, ...]):
    """Once per process and vocabulary (~0.15 s): a kiosk reads it once; the tests start many apps
    in one process. Nothing changes it after the boost, so sharing it is safe."""
    from kiosk.ime import load_dictionary

    dictionary = load_dictionary()
    dictionary.boost(words)
    return dictionary
