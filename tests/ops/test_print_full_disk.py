"""The disk fills up while the kiosk prints: the out-of-service screen says so in plain words
(never a traceback, never an exited app), nothing is lost, and once there is room again the
kiosk comes back by itself and every receipt prints exactly once.

A real full disk: the data directory is a 2 MB tmpfs in a private mount namespace (as in
test_failures.py), filled by the network printer itself when it is first asked for its status,
i.e. after the job was claimed and before its outcome is written (the issue's `finish_job`
hitting SQLITE_FULL). The spool's and the app's answers to a failure at each other database
write of the print path are in tests/test_print_outage.py."""

from __future__ import annotations

import json

from .conftest import in_namespace, needs_mounts


@needs_mounts
def test_a_disk_that_fills_while_printing_puts_the_kiosk_out_of_service_and_loses_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    code, out, err = in_namespace(f"mount -t tmpfs -o size=2m tmpfs {data}", f"""
        import asyncio, json, socket, sqlite3, subprocess, threading
        from pathlib import Path
        from db.connection import open_database
        from db.models import database_proxy
        from tests.kiosk_pilot import FakeClock, make_app, screen_text, settle
        from tests.ops.conftest import integrity_of, register_one, ticket_numbers
        from tests.printer_peers import DLE_EOT, OK, StatusAnswerer

        data = Path({str(data)!r}); path = data / "kiosk.sqlite3"
        seen = {{}}

        def fill():
            subprocess.run(["dd", "if=/dev/zero", f"of={{data}}/filler", "bs=4k", "count=1000"],
                           capture_output=True)

        class Printer:
            '''A network printer that answers status queries (ok) and keeps what each connection
            (one receipt) brought; `when_asked` runs once, at the first status query.'''

            def __init__(self):
                self.server = socket.create_server(("127.0.0.1", 0))
                self.port = self.server.getsockname()[1]
                self.receipts = []
                self.when_asked = None
                self.changed = threading.Condition()
                threading.Thread(target=self.serve, daemon=True).start()

            def serve(self):
                while True:
                    conn, _ = self.server.accept()
                    answers, got = StatusAnswerer({{1: OK, 2: OK, 4: OK}}), bytearray()
                    with conn:
                        while chunk := conn.recv(65536):
                            got += chunk
                            if DLE_EOT in chunk and self.when_asked:
                                self.when_asked()
                                self.when_asked = None
                            if reply := answers.feed(chunk):
                                conn.sendall(reply)
                    with self.changed:
                        self.receipts.append(bytes(got))
                        self.changed.notify_all()

            def wait_for(self, n):
                with self.changed:
                    assert self.changed.wait_for(lambda: len(self.receipts) >= n, 20), self.receipts
                return [next((t for t in numbers if t.encode() in r), None) for r in self.receipts]

        def jobs():
            conn = sqlite3.connect(f"file:{{path}}?mode=ro", uri=True)
            try:
                return [list(r) for r in conn.execute("SELECT state, attempts FROM print_job ORDER BY id")]
            finally:
                conn.close()

        open_database(path)
        numbers = [register_one().number for _ in range(2)]  # two receipts waiting to print
        database_proxy.close()
        printer = Printer()
        printer.when_asked = fill  # the disk fills up during the first receipt
        clock = FakeClock()
        app = make_app(clock=clock, database=path, printer_uri=f"tcp://127.0.0.1:{{printer.port}}?timeout=5")

        async def run():
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                printer.wait_for(1)
                await settle(pilot)
                seen["screen"] = type(app.screen).__name__
                seen["text"] = screen_text(app)
                seen["running"] = app.is_running and app.return_code is None
                seen["jobs_full"] = jobs()
                # Still full at the next try: still out of service, and the receipt is not sent again.
                clock.now += 31
                app.idle_tick()
                await settle(pilot)
                seen["still"] = type(app.screen).__name__
                seen["sent_while_full"] = len(printer.receipts)
                (data / "filler").unlink()  # room again
                clock.now += 31
                app.idle_tick()
                await settle(pilot)
                seen["after"] = type(app.screen).__name__
                seen["receipts"] = printer.wait_for(2)
                seen["jobs_after"] = jobs()

        asyncio.run(run())
        app = make_app(clock=FakeClock(), database=path, printer_uri=f"tcp://127.0.0.1:{{printer.port}}?timeout=5")

        async def restart():
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                seen["after_restart"] = len(printer.receipts)

        asyncio.run(restart())
        seen["tickets"] = ticket_numbers(path) == numbers
        seen["integrity"] = integrity_of(path)
        seen["numbers"] = numbers
        print(json.dumps(seen, ensure_ascii=False))
    """, env={"KIOSK_DATA_DIR": str(data)})
    assert code == 0, err
    assert "Traceback" not in err
    seen = json.loads(out.strip().splitlines()[-1])
    first, second = seen["numbers"]
    # Out of service, in both languages, with the disk named and what happens to the receipts.
    assert seen["screen"] == "OutOfService" and seen["running"], seen
    assert "自助机暂停服务：磁盘已满" in seen["text"]
    assert "The kiosk is out of service: The disk is full" in seen["text"]
    assert "没打印的受理单都已保存" in seen["text"] and "kiosk doctor" in seen["text"]
    # The receipt went to the printer; its outcome waits (the job still `printing`, never `failed`
    # with a lost attempt); the other job was not touched.
    assert seen["jobs_full"] == [["printing", 1], ["pending", 0]]
    assert seen["still"] == "OutOfService" and seen["sent_while_full"] == 1
    # Room again: back in service by itself, the first receipt recorded (not printed again), the
    # second printed; each exactly once, also after a restart. Tickets intact.
    assert seen["after"] == "WelcomeScreen"
    assert seen["receipts"] == [first, second] and seen["after_restart"] == 2
    assert seen["jobs_after"] == [["printed", 1], ["printed", 1]]
    assert seen["tickets"] and seen["integrity"] == "ok"
