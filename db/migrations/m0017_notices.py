"""Reserved: notice opt-in (issue 21)."""

STATEMENTS: list[str] = []
