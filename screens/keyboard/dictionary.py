"""The pinyin dictionary behind the keyboard's candidate bar: read after the first frame, in a
worker thread (the kiosk app's load_pinyin), with the institute's own words ranked first: its
catalogue and places, the words organisation names are made of, and its customers' names' words."""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from textual.message import Message

log = logging.getLogger(__name__)
CUSTOMER_NAMES = 5000  # the customers' names read for their words: the most registered ones


class PinyinLoaded(Message):
    def __init__(self, dictionary) -> None:
        super().__init__()
        self.dictionary = dictionary  # kiosk.ime.PinyinDictionary


def load(catalog, info, db=None):
    """In a thread: the dictionary, with the catalogue's names and aliases, the institute's places
    (its province's, from the institute file) and the curated words of organisation names boosted;
    then the words of the customers' names (kiosk/store/organisations.py), read in the database
    thread `db` (an executor: peewee's connection belongs to that thread) when one is given."""
    from kiosk.ime import institute_vocabulary, organisation_words

    started = time.perf_counter()
    names = [name for row in catalog.rows for name in (row.name_zh, *row.aliases)]
    dictionary = _boosted(tuple(institute_vocabulary(names, info.places)), tuple(organisation_words()))
    customers = _customer_names(db) if db is not None else []
    if customers:
        dictionary = _with_customers(dictionary, tuple(customers))
    log.info("pinyin dictionary ready in %.0f ms (%d customer names read)",
             (time.perf_counter() - started) * 1000, len(customers))
    return dictionary


def _customer_names(db) -> list[str]:
    from kiosk.store.organisations import most_seen

    try:
        return db.submit(most_seen, CUSTOMER_NAMES).result()
    except Exception:  # the keyboard works without them
        log.exception("the customers' names could not be read for the keyboard")
        return []


@lru_cache(maxsize=1)
def _boosted(institute: tuple[str, ...], organisations: tuple[str, ...]):
    """Once per process and vocabulary (~0.15 s): a kiosk reads it once; the tests start many apps
    in one process. Nothing changes it after the boost, so sharing it is safe. The institute's
    own words before the words common in any organisation's name."""
    from kiosk.ime import load_dictionary

    dictionary = load_dictionary()
    dictionary.boost(institute, level=2)
    dictionary.boost(organisations, level=1)
    dictionary.personal_names()  # read here, not at the contact field's first letter
    return dictionary


@lru_cache(maxsize=1)
def _with_customers(base, names: tuple[str, ...]):
    """A copy of `base` with the words of the customers' names boosted too (the base stays shared)."""
    from kiosk.ime import customer_vocabulary

    dictionary = base.copy()
    dictionary.boost(customer_vocabulary(names, dictionary.segment), level=2)
    return dictionary
