"""The lanes (tests/conftest.py sets them from what a test uses) hold the tests of their kind, as
pytest itself collects them: the fast lane starts no process, a kill -9 is in `reliability`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST = "not (store or snapshot or pilot or postgres or terminal or browser or reliability)"  # the README's


def collected(lanes: str, *files: str) -> set[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider",
                           "-m", lanes, *files], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 5), done.stdout[-3000:]  # 5: none collected
    return {line.split("[")[0].split("::")[1] for line in done.stdout.splitlines() if "::" in line}


def test_a_test_that_starts_the_print_worker_is_terminal_and_one_that_kills_a_process_reliability():
    # Every test there starts the print worker's child (in a fixture, or through the app), or
    # paces a printer on a pseudo terminal by the clock.
    assert collected(FAST, "tests/test_print_worker.py", "tests/test_serial_pacing.py") == set()
    assert collected("reliability", "tests/test_print_worker.py", "tests/test_registration.py") == {
        "test_a_child_killed_mid_receipt_is_a_printer_fault_and_the_next_job_gets_a_new_one",
        "test_the_kiosk_prints_through_its_worker_and_a_worker_killed_mid_receipt_is_retried",
        "test_kill_9_mid_registration_leaves_only_whole_tickets",
    }
