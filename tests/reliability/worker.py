"""A kiosk's writing half in a process of its own, for the kill -9 torture test
(tests/reliability/test_torture.py). Real code on a real file: db/connection.open_database
(WAL, synchronous=FULL), kiosk/store/registration.register, kiosk/printing/spool.print_due.

    python -m tests.reliability.worker register DB SEED
    python -m tests.reliability.worker spool DB LEDGER [SECONDS]
    python -m tests.reliability.worker zygote

zygote: imports everything once, then reads commands on stdin, `register DB SEED FIFO` or
`spool DB LEDGER SECONDS FIFO`, forks a child for each, whose stdout is FIFO (a named pipe
the test reads), and says `child PID` on its own stdout. Each child is a new process that
opens the database from scratch, as a restarted kiosk would; only the imports (~0.25 s, far
more on a busy machine) are done once, not at each of the test's 50-odd restarts.

register: registers tickets as fast as it can, for ever. Ticket k asks for 1 + k % 5 lines
and says so twice, so that every stored ticket can be checked without knowing which
registrations were cut off: `certificates` is the line count, each line's `requirements` is
"i/n". Prints `ready`, then `committed NUMBER` after each commit (flushed).

spool: what the kiosk does at start-up and after each registration: recover_interrupted(),
then print_due() until no job is due; prints `ready`, `printing JOB`, `printed JOB`, `done`.
The printer is a ledger file: each receipt appends `start JOB`, then (the paper takes its
time) `end JOB` once it is all out, then takes as long again (cut, drain) before send()
returns; a receipt with a start and no end was cut off.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path


def say(*words) -> None:
    print(*words, flush=True)


CODES = ("L-001-001", "Z-001-001", "C-003-001", "L-001-001", "Z-001-001")


def register_forever(db: str, seed: int) -> None:
    from db.connection import open_database
    from db.models import Ticket
    from kiosk.domain.fees import LineRequest, default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import (
        CustomerDetails,
        InstrumentLine,
        Registration,
        ensure_device,
        register,
    )

    open_database(db)
    ensure_catalog()
    catalog, policy, device = load_catalog(), default_policy(), ensure_device("KX")
    k = seed + Ticket.select().count()
    say("ready")
    while True:
        n = 1 + k % 5
        lines = tuple(InstrumentLine(LineRequest(CODES[i], quantity=1 + i), requirements=f"{i + 1}/{n}")
                      for i in range(n))
        reg = Registration(CustomerDetails("循环写入测试单位", contact="测试", phone="13800000000"), lines,
                           certificates=n)
        say("committed", register(reg, catalog, policy, device).number)
        k += 1


class LedgerPrinter:
    """A printer whose paper is an append-only file outside the process."""

    description = "ledger"

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def check(self) -> None:
        pass

    def _append(self, line: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode() + b"\n")  # one write(2): whole lines, even when killed
        finally:
            os.close(fd)

    def send(self, job) -> None:
        job_id = job.name.rsplit("-", 1)[1]
        assert job.data, "nothing rendered"
        self._append(f"start {job_id}")
        time.sleep(self.seconds)  # the paper moving: a window to be killed in
        self._append(f"end {job_id}")
        time.sleep(self.seconds)  # the cut, the drain: out on paper, not yet `printed` in the database


def spool_until_done(db: str, ledger: str, seconds: float) -> None:
    from db.connection import open_database
    from kiosk.printing.spool import PrinterSettings, print_due, recover_interrupted
    from kiosk.settings.institute import load_institute

    open_database(db)
    recovered = recover_interrupted()
    say("ready", recovered)
    printer = LedgerPrinter(Path(ledger), seconds)
    settings = PrinterSettings("preview://unused", "58mm", None, Path(ledger).parent)
    info = load_institute(None)

    async def direct(fn, *args):
        if fn.__name__ == "send_job":
            return fn(*args, open_printer=lambda: printer)
        return fn(*args)

    def report(ticket_id, job_id, state, error_kind) -> None:
        say(state, job_id, error_kind or "")

    asyncio.run(print_due(direct, direct, settings, info, report))
    say("done")


def zygote() -> None:
    import importlib
    import signal
    import traceback

    # Everything a child imports, now, before any fork.
    for module in ("db.connection", "kiosk.store.catalog", "kiosk.domain.fees", "kiosk.settings.institute",
                   "kiosk.store.registration", "kiosk.printing.spool", "printer.backends", "printer.escpos_render",
                   "printer.profiles", "kiosk.domain.events"):
        importlib.import_module(module)
    from kiosk.domain.clock import today

    today()  # the institute's zone, loaded with the first date: here, not in each child's first registration

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    say("zygote ready")
    for line in sys.stdin:
        *command, fifo = line.split()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                sys.stdin.close()
                sys.stdout = os.fdopen(os.open(fifo, os.O_WRONLY), "w")
                main(command)
                code = 0
            except BaseException:  # noqa: BLE001 - said on stderr; the missing `done` tells the test
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                os._exit(code)
        say("child", pid)


def main(argv: list[str]) -> int:
    if argv[0] == "zygote":
        zygote()
        return 0
    mode, db, arg = argv[:3]
    if mode == "register":
        register_forever(db, int(arg))
    elif mode == "spool":
        spool_until_done(db, arg, float(argv[3]) if len(argv) > 3 else 0.002)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
