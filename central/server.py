"""Running the app under uvicorn: in the foreground (`kiosk central serve`) or in a thread on a
free loopback port (tests and benchmarks, the device side's included).

    with serve_in_thread(open_storage(url)) as server:
        ... server.url ...   # e.g. http://127.0.0.1:41234
"""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from .storage import Storage


@dataclass
class Running:
    url: str
    port: int
    storage: Storage


@contextmanager
def serve_in_thread(storage: Storage, host: str = "127.0.0.1", port: int = 0, app=None):
    """uvicorn in a daemon thread; yields when it accepts connections, stops it on exit."""
    import uvicorn

    from .app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    started = threading.Event()

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            started.set()

    config = uvicorn.Config(app or create_app(storage), log_level="warning", access_log=False, lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="central-uvicorn")
    thread.start()
    try:
        if not started.wait(30) or server.should_exit:
            raise RuntimeError("central did not start")
        bound = sock.getsockname()[1]
        yield Running(f"http://{host}:{bound}", bound, storage)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
