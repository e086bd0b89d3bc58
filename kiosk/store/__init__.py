"""Storage of the domain's facts through peewee (db/): one owner per fact."""
