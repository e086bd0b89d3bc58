"""The on-screen keyboard inside the kiosk app: a lobby touch panel has no keyboard and no input
method (cage has none, nor has Chromium on Linux), so a customer types Chinese, digits and Latin
letters with taps alone; a physical keyboard composes pinyin through it too.

layouts.py   the keys of each layout, and which field gets which (by the input's id)
composer.py  the pinyin being spelled and the words offered for it (no Textual)
widgets.py   the keys, the candidate bar, following the focus, a physical keyboard's keys
dictionary.py  loading the pinyin dictionary (kiosk.ime) in a worker after the first frame

keyboard.tcss  its look, named by the CSS_PATH of the screens with such fields (screens/base.py
             KEYBOARD_CSS): nothing here is imported or parsed before the first frame."""

from .widgets import Keyboard, dictionary_ready, offer, typed

__all__ = ["Keyboard", "dictionary_ready", "offer", "typed"]
