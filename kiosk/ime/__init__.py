"""The on-screen keyboard's input method: pinyin -> Chinese candidates, offline, pure Python.

No Textual, no storage: the keyboard widget (screens/) asks `PinyinDictionary.candidates()` on
every key press; `load_dictionary()` reads the packaged data file (run it in a worker).
"""

from kiosk.ime.dictionary import Candidate, PinyinDictionary, load_dictionary
from kiosk.ime.vocabulary import customer_vocabulary, institute_vocabulary, organisation_words

__all__ = ["Candidate", "PinyinDictionary", "customer_vocabulary", "institute_vocabulary", "load_dictionary",
           "organisation_words"]
