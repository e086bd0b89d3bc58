"""Under tests/faketime_lanes.sh only (tests/conftest.py puts this folder on PYTHONPATH then): the
same time.sleep as the test process's, for the Python processes a test starts (the print worker's
child, kiosk/printing/worker.py, among them). libfaketime 0.9.10 with --exclude-monotonic fails
time.sleep with EINVAL (its issue #426); select's relative timeout is left alone."""

import os

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    import select
    import time

    def _sleep(seconds: float) -> None:
        select.select([], [], [], seconds)

    time.sleep = _sleep
