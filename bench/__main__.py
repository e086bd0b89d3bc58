"""`python -m bench`: every benchmark, each figure beside its floor measured in the same run."""

import os
import platform
import sys


def main() -> int:
    from bench import (
        desk_catchup,
        ime,
        memory,
        office_load,
        office_scale,
        organisations,
        prepared,
        printing,
        push_path,
        registration,
        search,
        startup,
        sync_drain,
        sync_pull,
        ticketcode,
        worklist,
    )

    print(f"# kiosk benchmarks · Python {platform.python_version()} · {platform.machine()} · {os.cpu_count()} cpu")
    missed = 0
    # sync_drain / sync_pull / office_scale / office_load / push_path need PostgreSQL and the central extra; without
    # them they say so and skip.
    for module in (search, ime, organisations, registration, startup, memory, printing, ticketcode, prepared, worklist,
                   desk_catchup, sync_drain, sync_pull, office_scale, office_load, push_path):
        for figure in module.run():
            print(figure.line(), flush=True)
            missed += not figure.met
    print(f"# {missed} goal(s) missed" if missed else "# all goals met")
    return 0  # a measurement, not a test: a missed goal is reported, not failed


if __name__ == "__main__":
    sys.exit(main())
