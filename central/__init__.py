"""The central system the kiosks and clerk desks sync with: an HTTP API (FastAPI, served by
uvicorn) over PostgreSQL (production) or SQLite (a single small site).

Nothing is imported here: `kiosk` loads this package only for `kiosk central ...`, and the
storage, validation and feed modules import neither FastAPI nor Textual.
"""
