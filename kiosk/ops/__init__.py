"""Operating a device: `kiosk doctor` (is it fit to run?) and `kiosk serve` (the app in a browser)."""
