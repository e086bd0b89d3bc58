"""The on-screen keyboard's input method: pinyin -> Chinese candidates, offline, pure Python.

No Textual, no storage: the keyboard widget (screens/) asks `PinyinDictionary.candidates()` on
every key press; `load_dictionary()` reads the packaged data file (run it in a worker).
"""

from kiosk.ime.dictionary import Candidate, PinyinDictionary, load_dictionary
from kiosk.ime.vocabulary import institute_vocabulary

__all__ = ["Candidate", "PinyinDictionary", "institute_vocabulary", "load_dictionary"]
