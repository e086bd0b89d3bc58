"""Schema 10: the customer organisations' names the customer screen completes
(kiosk/store/organisations.py), from this node's registrations and from the central system.

Names only: never a contact or a phone. `key` is kiosk/domain/organisations.py search_key;
`seen`: registrations here that named it (0: known from central only); `last_seen`: the latest.
The names of the tickets stored before are filled in here, with the same key and the same
rule of which names may be offered (organisations.shareable), written in SQL: a stored name
was cleaned on its way in (letters and digits folded, single spaces), so SQLite's ASCII-only
lower() and a few replace() give the key the Python function gives.

Frozen: a released migration is never edited; change the schema with a new one.
"""


def _key(column: str) -> str:
    return f"lower(replace(replace(replace({column}, ' ', ''), '(', '（'), ')', '）'))"


STATEMENTS = [
    # WITHOUT ROWID: the rows live in the key's b-tree, so a prefix lookup reads no second index.
    """CREATE TABLE organisation (
        key TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        seen INTEGER NOT NULL,
        last_seen TEXT NOT NULL
    ) WITHOUT ROWID""",
    # The names by rank, each entry with its key (a WITHOUT ROWID table's index holds its primary key): a
    # search for a word inside names scans this, narrower than the rows, and stops at the fourth match.
    "CREATE INDEX organisation_rank ON organisation (seen DESC, last_seen DESC)",
    f"""INSERT INTO organisation (key, name, seen, last_seen)
        SELECT k, max(name), count(*), max(created_at) FROM (
            SELECT {_key('c.organisation')} AS k, {_key('c.contact')} AS contact_key, c.organisation AS name,
                   t.created_at AS created_at
            FROM customer c JOIN ticket t ON t.customer_id = c.id)
        WHERE length(k) BETWEEN 4 AND 100 AND k <> contact_key
          AND k NOT GLOB '*[0-9][0-9][0-9][0-9][0-9][0-9][0-9]*'
        GROUP BY k""",
]
