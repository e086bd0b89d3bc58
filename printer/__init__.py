"""Receipts: a small document model, its layout by receipt columns, ESC/POS and preview
renderers, printer backends. Knows nothing of tickets: `kiosk/printing/receipts.py` composes them.

Nothing here imports python-escpos at module level: the kiosk's start-up must not pay for
it (~185 ms); only rendering to ESC/POS and the backends do, when a job is printed.
"""
