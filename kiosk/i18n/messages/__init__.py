"""The zh/en message catalogue, one module per feature, each a plain dict (key -> (zh, en)): Chinese
first, and every user-visible string lives here. Plain Python, so start-up reads compiled bytecode and
parses no .po file. tests/test_i18n.py checks no key is in two modules and both texts of each key take
the same placeholders."""

from __future__ import annotations

from kiosk.i18n.messages import (
    app,
    checks,
    desk,
    due,
    estimate,
    feedback,
    followups,
    keyboard,
    maintenance,
    notices,
    ops,
    pad,
    progress,
    registration,
    satisfaction,
    ticket,
    welcome,
    worklist,
)

FEATURES = (app, welcome, estimate, registration, ticket, progress, feedback, desk, followups, worklist, due,
            satisfaction, ops, maintenance, keyboard, notices, checks, pad)

MESSAGES: dict[str, tuple[str, str]] = {}
for _feature in FEATURES:  # dict.update, not a comprehension: ~750 keys copied in C, before the first frame
    MESSAGES.update(_feature.MESSAGES)
del _feature
