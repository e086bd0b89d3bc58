"""How this device is set up: its configuration file, the institute's own texts, where its logs go.
Read at start; every layer may read them (kiosk/ops holds the operations built on top)."""
