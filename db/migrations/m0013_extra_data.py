"""Schema 13: a ticket line says whether the customer asked for data the regulation does not
require (要求出具规程未要求的数据), which the pricing policy surcharges (kiosk/domain/fees.py rule 4).

- extra_data: 0 or 1; 0 for every line stored before (nobody could ask for it then).

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE ticket_line ADD COLUMN extra_data INTEGER NOT NULL DEFAULT 0",
]
