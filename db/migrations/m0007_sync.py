"""Schema 7: sync with the central system. An outbox event the central system refuses (a
4xx that names it) is parked with the reason, so it cannot block the queue forever and is
reported; a status change pulled for a ticket this node does not have yet is held until
the ticket arrives. The central URL, the device token and the pull cursor are settings.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE outbox_event ADD COLUMN parked_at TEXT",
    "ALTER TABLE outbox_event ADD COLUMN park_reason TEXT",
    """CREATE TABLE held_change (
        seq INTEGER PRIMARY KEY NOT NULL,
        ticket_uid TEXT NOT NULL,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX held_change_ticket ON held_change (ticket_uid)",
]
