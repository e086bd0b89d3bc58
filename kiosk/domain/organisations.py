"""Customer organisations' names as the kiosk completes them: the key a name is found by, and
which names may be offered to the next customer at all.

The list is public by design: any customer at any lobby kiosk sees it, a name at a time, after
typing two characters. So it holds names only (never a contact or a phone), and a name that may
be a private person's is kept out: a person registering for themselves types their own name as
the organisation (the field's hint says so), which is then short, or the contact's name too.

Pure: no database. The key is also computed by SQL once (db/migrations/m0010_organisations.py
back-fills the names of the tickets stored before), so it stays simple enough to write there:
for a name as `validation.clean_organisation` keeps it (letters and digits folded already,
single spaces) it is the name without spaces, ASCII letters lower case, round brackets full-width.
"""

from __future__ import annotations

import re

from kiosk.domain.vocabulary import normalise_text

MIN_TYPED = 2  # characters typed before names are offered
MIN_NAME = 4  # characters of a name that may be offered: 张伟, 欧阳明 are people, 红星厂 is rare
MAX_NAME = 100  # validation.clean_organisation's limit

_PHONE_LIKE = re.compile(r"[0-9]{7}")  # a phone (or a credit code) typed into the wrong field
# A–Z -> a–z only: SQLite's lower() folds no other letters, and the key must be the same there.
_KEY_FOLD = {cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)} | {ord("("): "（", ord(")"): "）"}


def search_key(text: str) -> str:
    """What a name is stored and matched by: full-width letters and digits folded as the fields
    fold them, every space dropped (贵州 计量 = 贵州计量), case and bracket width ignored."""
    return "".join(normalise_text(text).split()).translate(_KEY_FOLD)


def enough_typed(text: str) -> bool:
    return len(search_key(text)) >= MIN_TYPED


def shareable(organisation: str, contact: str = "") -> bool:
    """May this registration's organisation be offered to other customers? Not a short name
    (a person's, or 个人), not the contact's own name, nothing with seven digits in a row (a
    phone or a credit code typed into the wrong field)."""
    key = search_key(organisation)
    if not MIN_NAME <= len(key) <= MAX_NAME:
        return False
    if contact and key == search_key(contact):
        return False
    return _PHONE_LIKE.search(key) is None
