#!/usr/bin/env bash
# The suite on other days and in other time zones: every date a person sees or a rule counts is
# the institute's (kiosk/domain/clock.py), so the machine's zone and date must change nothing.
#
#   tests/faketime_lanes.sh                      the in-process lanes, four times (below)
#   tests/faketime_lanes.sh tests/test_due.py    the same for some files (any pytest arguments)
#
# 1. The machine's zone: TZ=America/Los_Angeles (15-16 hours behind the institute's) and
#    TZ=Asia/Shanghai (the institute's own).
# 2. libfaketime (apt-get install faketime), the clock moved to
#    - 2027-03-15 23:30 in Los Angeles: already the 16th in Shanghai (machine and institute disagree);
#    - 2026-12-31 18:00 UTC: already 2027 in Shanghai (a new year, a new ticket number sequence).
#
# Left out: the lanes that start processes (terminal, browser, reliability) and PostgreSQL (its
# server keeps the real date). libfaketime 0.9.10 fails time.sleep under --exclude-monotonic
# (EINVAL: its issue #426); tests/conftest.py sleeps another way in the test process, but a child
# process, or a subprocess wait in it, would still fail. Without --exclude-monotonic the
# monotonic clock jumps too and a plain sleep never returns.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=.venv/bin/python
LANES="not (terminal or browser or reliability or postgres)"

if ! command -v faketime >/dev/null; then
    echo "faketime is not installed: apt-get install faketime" >&2
    exit 2
fi

failed=0
lane() {  # a title, then the environment and the command
    local title=$1
    shift
    echo "== $title"
    "$@" -m pytest -q -n 0 -m "$LANES" "${ARGS[@]}" || failed=1  # one process: xdist hangs under libfaketime
}

ARGS=("$@")
lane "TZ=America/Los_Angeles" env TZ=America/Los_Angeles "$PYTHON"
lane "TZ=Asia/Shanghai" env TZ=Asia/Shanghai "$PYTHON"
lane "2027-03-15 23:30 in Los Angeles" \
    env TZ=America/Los_Angeles faketime -m --exclude-monotonic "2027-03-15 23:30:00" "$PYTHON"
lane "2026-12-31 18:00 UTC" env TZ=UTC faketime -m --exclude-monotonic "2026-12-31 18:00:00" "$PYTHON"
exit $failed
