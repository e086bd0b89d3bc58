"""Schema 12: a fee row says for which uses its verification is compulsory, and how the
catalogue supervises it.

《实施强制管理的计量器具目录》 (2019年第48号, adjusted 2020年第42号) makes an item compulsory only
for the uses it names (a scale in trade settlement, a pressure gauge in safety protection), and
supervises it as P, V or P+V. A yes/no flag made a balance free whatever compulsory use was picked.

- compulsory_uses: the uses, comma-separated in the order of kiosk.domain.vocabulary.USES
  (trade,safety,medical,environment); '' for a row outside the catalogue.
- supervision: 'P', 'V', 'P+V' or ''.
- compulsory (the flag) goes: a row stored with it meant "free for any of the four uses", so it
  becomes all four; the catalogue's own words come with the next table imported.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE priced_row ADD COLUMN compulsory_uses TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE priced_row ADD COLUMN supervision TEXT NOT NULL DEFAULT ''",
    "UPDATE priced_row SET compulsory_uses = 'trade,safety,medical,environment' WHERE compulsory <> 0",
    "ALTER TABLE priced_row DROP COLUMN compulsory",
]
