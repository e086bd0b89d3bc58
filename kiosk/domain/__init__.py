"""Pure rules over plain data: no database, no Textual, no printer."""
