"""Schema 18: work orders' call-backs and appeals recorded at other desks (issue 21).

A desk records a call-back (followup_call) and files an appeal against a rating (appeal) as
before; central now publishes both, and a supervisor's decision, to the desks of the site
(kiosk/sync/feed.py), which keep them beside their own.

- followup_call.device, appeal.device: the uid of the desk that recorded it (NULL: this desk).
  What another desk recorded has no clerk here, only the name its event carried (clerk_name,
  raised_by_name).
- appeal.decided_device: the uid of the desk (or central, for the back office) that decided it
  (NULL: this desk, or not decided); appeal.decided_via: 'desk' | 'office' (NULL: not decided).
- One waiting appeal per rating is a rule of this desk's own appeals: two desks offline may each
  file one, and both are kept (central keeps both too). The unique index is made again on this
  desk's appeals only.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS: list[str] = [
    "ALTER TABLE followup_call ADD COLUMN device TEXT",
    "ALTER TABLE appeal ADD COLUMN device TEXT",
    "ALTER TABLE appeal ADD COLUMN decided_device TEXT",
    "ALTER TABLE appeal ADD COLUMN decided_via TEXT CHECK (decided_via IN ('desk', 'office'))",
    "DROP INDEX appeal_one_open",
    "CREATE UNIQUE INDEX appeal_one_open ON appeal (feedback_id) WHERE decision IS NULL AND device IS NULL",
    "CREATE INDEX appeal_of ON appeal (feedback_id, created_at)",
]
