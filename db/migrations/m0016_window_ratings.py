"""Reserved: ratings at the window (issue 21)."""

STATEMENTS: list[str] = []
