"""Reserved: certificate checks at dispatch (issue 23)."""

STATEMENTS: list[str] = []
