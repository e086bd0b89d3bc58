"""Schema 9: feedback and follow-ups travel to the clerk desks; admins; device names.

- feedback.ticket_number: the rated ticket's number as the kiosk saw it. A desk that pulls a
  rating before (or without) its ticket still shows which ticket it was; NULL: anonymous.
- followup.closed_by_name: who closed it when that was not a clerk of this node (another
  desk's clerk, or the central back office).
- clerk.admin: a clerk who may open the satisfaction screen (满意度统计).
- device_key.name: the device's name at the central system ("1号收件窗口"), for statistics
  by counter.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE feedback ADD COLUMN ticket_number TEXT",
    "ALTER TABLE followup ADD COLUMN closed_by_name TEXT",
    "ALTER TABLE clerk ADD COLUMN admin INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE device_key ADD COLUMN name TEXT",
    # Statistics read feedback by time (a week, a quarter).
    "CREATE INDEX feedback_created ON feedback (created_at)",
]
