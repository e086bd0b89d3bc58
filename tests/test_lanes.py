"""The lanes (tests/conftest.py sets them from what a test uses) hold the tests of their kind, as
pytest itself collects them: the fast lane starts no process, a kill -9 is in `reliability`."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST = "not (store or snapshot or pilot or postgres or terminal or browser or reliability)"  # the README's


def collected(lanes: str, *files: str) -> set[str]:
    selection = ["--fast"] if lanes == "--fast" else ["-m", lanes]
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider",
                           *selection, *files], cwd=ROOT, capture_output=True, text=True, check=False)
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


def test_the_fast_lane_is_the_tests_of_no_lane_on_a_tenth_of_the_examples_and_the_suite_keeps_them_all():
    files = ("tests/test_printer_fonts.py", "tests/test_fees.py")
    assert collected("--fast", *files) == collected(FAST, *files) != set()
    prop = "tests/test_fees.py::test_property_percent_of_is_half_up"  # @settings(max_examples=300)

    def examples(*options: str) -> list[int]:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                               "--hypothesis-show-statistics", *options, prop],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:]
        return [int(n) for n in re.findall(r"(\d+) passing", done.stdout)]

    assert examples() == [300]
    assert examples("--fast") == [30]
