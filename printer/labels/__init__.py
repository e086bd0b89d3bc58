"""Instrument labels: a sheet of small labels (text and a QR code each) for a label printer in
TSPL or ZPL, the receipt printer (one label per cut), or a PNG preview. Like the receipts, this
package knows nothing of tickets: kiosk/printing/labels.py composes a ticket's labels."""
