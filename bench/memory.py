"""Memory after 1,000 scripted registrations in one process: RSS, its growth, open descriptors.

Each measurement runs in a fresh subprocess (its RSS is not the parent's), which opens a
fresh database in a temp directory, imports the demo catalogue, creates the device and
loads the catalogue; the baseline RSS is taken there, before any registration. Then it
registers 1,000 tickets the way the app does: `register()` in a worker thread, then that
thread's connection closed with `database_proxy.close()`; here, one new `threading.Thread`
per registration (each opens its own peewee connection, thread-local), so a leaked
per-thread connection, cursor or cache would pile up. The registrations cycle through a
few different shapes (demo codes priced by quantity, points, ranges + AC/DC, metres;
urgent or not; post or in person), each with its own customer. RSS (VmRSS from
/proc/self/status) is sampled after every 100.

Floors, measured in the same run:
* RSS at 1,000: the same process's RSS before the first registration (imports, open
  database, loaded catalogue). The ratio is how much 1,000 registrations add.
* growth from 200 to 1,000: a second fresh process, same set-up, that writes the same rows
  (customer, ticket, 3 lines, print job, outbox event) with plain sqlite3, same pragmas,
  one new thread and one new connection per registration, closed after its commit: what
  SQLite, the allocator and the thread churn cost by themselves. Both numbers hover
  around zero when nothing leaks, so their ratio is noise; the goal is absolute.
* open file descriptors at 1,000 vs right after the first registration: a leaked
  connection holds the database, -wal and -shm files open. Not vs before the first: when a
  thread's connection closes while the main connection holds locks on the same file,
  SQLite's unix VFS keeps that descriptor (closing it would drop the other connection's
  POSIX locks) and reuses it for the next open, so one more descriptor after the first
  registration is by design, and it stays one.

MB here is 10^6 bytes (VmRSS is in KiB).

`python -m bench.memory --app` adds the same three figures for the same registrations
driven through `KioskApp` headless (draft -> its thread worker -> ticket screen -> back to
the welcome screen; ~75 s more, so not part of `python -m bench`); `--curve [--app]` prints
the RSS samples instead. The app prints each ticket's receipt (the preview printer) through
its print worker, a child process (kiosk/printing/worker.py): the kiosk's RSS is the goal's;
the child's RSS, and the PSS of both (shared pages counted once: the machine's share), are
reported beside it, taken at each hundredth registration while the child runs (it ends after
IDLE_SECONDS without a job).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from bench.common import Figure
from bench.registration import raw_connection, raw_registration, registration_template

N = 1_000
EVERY = 100
GROWTH_FROM = 200
RSS_GOAL_MB = 80.0
GROWTH_GOAL_MB = 5.0
ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmRSS in /proc/self/status")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) - 1  # not the one listdir itself holds


def registration(i: int):
    """The i-th scripted registration: four shapes, each customer its own."""
    from kiosk.domain.fees import LineRequest
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration

    customer = CustomerDetails(f"示范燃气有限公司第{i}分公司", "91350100M000100Y43", f"贵阳市观山湖区{i}号", "李工",
                               f"138{i:08d}")
    shape = i % 4
    if shape == 0:
        lines = (
            InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), model="Y-100", serial_number=f"A{i}"),
            InstrumentLine(LineRequest("Z-002-001", quantity=1, use="trade")),
            InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
        )
        return Registration(customer, lines, urgent="72h")
    if shape == 1:
        lines = (
            InstrumentLine(LineRequest("D-002-002", ranges=8, ac_dc=True), manufacturer="优利德",
                           requirements="按 JJF 1587-2016 校准"),
            InstrumentLine(LineRequest("R-001-001", quantity=2, points=5), repair_if_fails=True),
        )
        return Registration(customer, lines, pickup="post", certificates=2)
    if shape == 2:
        return Registration(customer, (InstrumentLine(LineRequest("L-001-001", use="other")),), urgent="24h",
                            certificate_name=f"示范燃气{i}")
    lines = (
        InstrumentLine(LineRequest("C-003-001", quantity=4, metres=Decimal(3))),
        InstrumentLine(LineRequest("Z-002-001", quantity=2, use="trade"), serial_number=f"Z{i}"),
        InstrumentLine(LineRequest("D-002-002", ranges=5)),
    )
    return Registration(customer, lines)


def _raw_writer(path: Path, template: dict):
    """One registration's rows with plain sqlite3, on a connection of its own, closed after."""

    def write(i: int) -> None:
        conn = raw_connection(path)
        try:
            raw_registration(conn, template, i)
        finally:
            conn.close()

    return write


def child(mode: str) -> dict:
    """In a fresh process: set up, baseline, 1,000 registrations (`kiosk` or `raw`), samples."""
    import shutil
    import tempfile
    import threading

    from db.connection import open_database
    from db.models import database_proxy
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import ensure_device, prepare, register

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-memory-"))
    try:
        path = tmp / "kiosk.sqlite3"
        # First start (schema, demo catalogue, its search keys: pypinyin) in its own process,
        # once in a kiosk's life; measured here is a process working on an existing database.
        import subprocess
        import sys

        subprocess.run([sys.executable, "-m", "kiosk", "--db", str(path), "db", "status"], check=True,
                       capture_output=True)
        db = open_database(path)
        ensure_catalog()
        device, catalog, policy = ensure_device("BM"), load_catalog(), default_policy()
        for shape in range(4):
            prepare(registration(shape), catalog, policy)  # a bad demo code fails here, not in a thread
        baseline, baseline_fds = _rss_mb(), _open_fds()

        if mode == "kiosk":
            def work(i: int) -> None:
                try:
                    register(registration(i), catalog, policy, device)
                finally:
                    # A thread and a connection per registration: harsher than the app, which
                    # keeps one database thread; it is what would show a leaked connection.
                    database_proxy.close()
        else:
            template = registration_template(db, register(registration(0), catalog, policy, device).id)
            work = _raw_writer(path, template)

        errors: list[BaseException] = []

        def guarded(i: int) -> None:
            try:
                work(i)
            except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
                errors.append(e)

        samples = {}
        for i in range(1, N + 1):
            thread = threading.Thread(target=guarded, args=(i,))
            thread.start()
            thread.join()
            if errors:
                raise errors[0]
            if i == 1:
                first_fds = _open_fds()
            if i % EVERY == 0:
                samples[i] = _rss_mb()
        fds = _open_fds()
        tickets = db.execute_sql("SELECT count(*) FROM ticket").fetchone()[0]
        db.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"baseline": baseline, "baseline_fds": baseline_fds, "first_fds": first_fds, "samples": samples,
            "fds": fds, "tickets": tickets}


def _draft(i: int):
    """The i-th scripted registration as the screens would leave it in the app's draft."""
    from screens.draft import Draft, DraftLine

    reg = registration(i)
    c = reg.customer
    lines = [DraftLine(ln.pricing.item, ln.pricing.quantity, ln.pricing.use, ln.pricing.points, ln.pricing.ranges,
                       ln.pricing.metres, ln.pricing.ac_dc, extra_data=ln.pricing.extra_data, model=ln.model,
                       serial_number=ln.serial_number, manufacturer=ln.manufacturer,
                       requirements=ln.requirements, repair_if_fails=ln.repair_if_fails) for ln in reg.lines]
    return Draft(c.organisation, c.credit_code, c.contact, c.phone, c.address, reg.pickup, lines, reg.urgent,
                 reg.certificates, reg.certificate_name)


def _fill_draft(app, draft) -> None:
    """The app's draft, as the screens would have left it (a property made at first use, or a plain attribute)."""
    if isinstance(getattr(type(app), "draft", None), property) and hasattr(app, "_draft"):
        app._draft = draft
    else:
        app.draft = draft


def app_child() -> dict:
    """The same 1,000 registrations through KioskApp, headless, one customer after another:
    the draft filled in, the registration submitted (the app's thread worker, which closes
    its connection after), the ticket screen shown and rendered, then left (popped, and its
    removal awaited) before the next customer. Baseline: catalogue loaded, before the first.

    Pacing matters: without waiting for the ticket screen's removal, popped screens queue
    up faster than Textual closes them (they are all freed within seconds once idle), and
    the RSS measured is that backlog's high-water mark, not the app's steady state."""
    import asyncio
    import os
    import shutil
    import tempfile

    from kiosk.settings.config import load_config
    from screens.app import KioskApp

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-memory-app-"))
    os.environ["KIOSK_DATA_DIR"] = str(tmp)
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # no kiosk.toml from this machine's user
    # The first start (schema, demo catalogue, search keys: pypinyin) happens once in a kiosk's
    # life, in its own process here: what is measured is a kiosk restarted on its database.
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "kiosk", "db", "status"], check=True, capture_output=True)
    state = {"samples": {}, "done": 0}

    class Scripted(KioskApp):
        registered: asyncio.Event

        def on_catalog_loaded(self, message) -> None:
            self.registered = asyncio.Event()
            self.run_worker(self.customers(), group="bench")  # after KioskApp's handler (it runs next)

        async def customers(self) -> None:
            try:
                await self.screen.wait_for_refresh()
                state["baseline"], state["baseline_fds"] = _rss_mb(), _open_fds()
                for i in range(1, N + 1):
                    self.last_activity = self.clock()  # a customer is tapping: no idle warning, no wipe
                    _fill_draft(self, _draft(i))
                    self.registered.clear()
                    if not self.submit_registration():
                        raise RuntimeError("registration not accepted")
                    await self.registered.wait()
                    await asyncio.sleep(0)  # KioskApp's handler has pushed the ticket screen by now
                    await self.screen.wait_for_refresh()  # the ticket, on screen
                    await self.pop_screen()  # the customer leaves: back to the welcome screen
                    state["done"] = i
                    if i == 1:
                        state["first_fds"] = _open_fds()
                    if i % EVERY == 0:
                        state["samples"][i] = _rss_mb()
                        worker = _worker_memory(self.print_worker)  # the print worker's child, if running
                        state["worker"] = {**worker, "at": i} if worker else state.get("worker")
                state["fds"] = _open_fds()
                state["pss"] = _memory_of(os.getpid())["pss"]
                state["workers_started"] = self.print_worker.started if self.print_worker else 0
            except Exception as e:  # noqa: BLE001 - reported by the parent
                state["error"] = repr(e)
            self.exit()

        def on_ticket_registered(self, message) -> None:
            self.registered.set()

        def on_registration_failed(self, message) -> None:
            state["error"] = message.error
            self.exit()

        def on_startup_failed(self, message) -> None:
            state["error"] = message.error
            self.exit()

    try:
        Scripted(load_config()).run(headless=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "error" in state or state["done"] != N:
        raise RuntimeError(f"app run stopped after {state['done']} registrations: {state.get('error')}")
    state["tickets"] = state.pop("done")
    return state


def _memory_of(pid: int) -> dict:
    """RSS and PSS (shared pages split between the processes that map them) of a process, MB."""
    found = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                found[key.lower()] = int(rest.split()[0]) * 1024 / 1e6
    return found


def _worker_memory(worker) -> dict | None:
    """The print worker's child (kiosk/printing/worker.py), if one is running: its RSS and PSS."""
    pid = worker.pid if worker is not None else None
    if pid is None:
        return None
    try:
        return _memory_of(pid)
    except OSError:  # it ended meanwhile
        return None


def _measure(mode: str) -> dict:
    dropped = ("LINES", "COLUMNS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TEXTUAL")) and k not in dropped}
    env["TEXTUAL_ANIMATIONS"] = "none"
    timeout = 1800 if mode == "app" else 300  # the app's 1,000 customers: 3.5 min here, 16 on a loaded machine
    done = subprocess.run([sys.executable, "-m", "bench.memory", "--child", mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode:
        raise RuntimeError(f"memory child ({mode}) failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    result["samples"] = {int(k): v for k, v in result["samples"].items()}
    expected = N + (mode == "raw")  # raw: one real registration first, as the rows' template
    if result["tickets"] != expected:
        raise RuntimeError(f"memory child ({mode}) wrote {result['tickets']} tickets, not {expected}")
    return result


def _figures(label: str, ours: dict, raw: dict) -> list[Figure]:
    rss = ours["samples"][N]
    growth = rss - ours["samples"][GROWTH_FROM]
    raw_growth = raw["samples"][N] - raw["samples"][GROWTH_FROM]
    return [
        Figure(f"RSS after {N:,} registrations ({label})", rss, "MB",
               "same process before the first registration", ours["baseline"], f"<= {RSS_GOAL_MB:g} MB",
               rss <= RSS_GOAL_MB),
        Figure(f"RSS growth from {GROWTH_FROM} to {N:,} registrations ({label})", growth, "MB",
               "raw sqlite3 rows, thread + connection per registration", raw_growth,
               f"flat: <= {GROWTH_GOAL_MB:g} MB", growth <= GROWTH_GOAL_MB),
        Figure(f"open file descriptors after {N:,} registrations ({label}; {ours['baseline_fds']} before the "
               "first)", ours["fds"], "fds", "same process after the first registration", ours["first_fds"],
               "no more than the floor (no leaked connection)", ours["fds"] <= ours["first_fds"]),
    ]


def _worker_figures(ours: dict) -> list[Figure]:
    """The print worker's own process beside the kiosk's: reported, no goal (it ends when idle)."""
    worker = ours.get("worker")
    if not worker:
        return []
    return [
        Figure(f"print worker's RSS after {worker['at']:,} receipts (its own process; ends after "
               f"{_idle_minutes():g} idle min)", worker["rss"], "MB", "the kiosk's RSS then", ours["samples"][N],
               "reported", True),
        Figure(f"kiosk + print worker PSS after {N:,} registrations (shared pages counted once)",
               ours["pss"] + worker["pss"], "MB", "the kiosk's PSS alone", ours["pss"], "reported", True),
    ]


def _idle_minutes() -> float:
    from kiosk.printing.worker import IDLE_SECONDS

    return IDLE_SECONDS / 60


def run(app: bool = False) -> list[Figure]:
    """The scripted figures; with `app`, also the same registrations through KioskApp (~70 s more)."""
    raw = _measure("raw")
    figures = _figures("register() in a new thread each, one process", _measure("kiosk"), raw)
    if app:
        ours = _measure("app")
        figures += _figures("KioskApp headless, draft -> worker -> ticket screen", ours, raw)
        figures += _worker_figures(ours)
    return figures


def curve(app: bool = False) -> str:
    """The RSS samples of each process, for a look at the shape."""
    runs = {"kiosk": _measure("kiosk"), "raw": _measure("raw")}
    if app:
        runs["app"] = _measure("app")
    lines = [f"{'registrations':>13} " + " ".join(f"{name + ' MB':>9}" for name in runs),
             f"{'baseline':>13} " + " ".join(f"{r['baseline']:9.1f}" for r in runs.values())]
    lines += [f"{i:13d} " + " ".join(f"{r['samples'][i]:9.1f}" for r in runs.values())
              for i in sorted(runs["kiosk"]["samples"])]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:3] == ["--child", "app"]:
        print(json.dumps(app_child()))
    elif sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2])))
    elif "--curve" in sys.argv[1:]:
        print(curve(app="--app" in sys.argv[1:]))
    else:
        for figure in run(app="--app" in sys.argv[1:]):
            print(figure.line())
