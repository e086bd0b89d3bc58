"""The print worker: the kiosk's and the desk's print jobs rendered and sent in a child process
of their own, so that PIL, qrcode, python-escpos, the fonts and every buffer a receipt's
rendering leaves behind never live in the station's process (bench/memory.py: ~11 MB of a
kiosk that registered 1,000 customers, against its 80 MB goal; the child's own ~36-41 MB RSS
is reported beside it, and is given back when it ends).

The station keeps everything that says what was printed: its database thread claims a job
and finishes it (kiosk/printing/spool.py) exactly as before; only the step between,
`send_job(claimed, settings)` (kiosk/printing/send.py: render, open the printer, send, ask
it), runs in the child. The child never opens the database and never imports db/ (a test
says so). What it answers is what `send_job` returns, None (printed) or the PrinterError:

* the child dies (killed, crashed, out of memory) or gives no answer within deadline_for(): a
  PrinterError, kind "error" or "timeout", not `delivered`, so the job is `failed` and
  tried again after its backoff like any printer fault, by a new child. A receipt cut off
  that way may come out twice; it is never counted printed.
* the station dies, even by kill -9: the child is killed with it (PR_SET_PDEATHSIG, tied to
  the thread that started it: the station's print thread, which lives as long as the
  station); the job stays `printing` and prints again at the next start, as before.

The child starts at the first job (not at start-up: cold start is unchanged) and ends after
IDLE_SECONDS without one, giving its memory back; the next job starts another (~0.15 s
more for that receipt, then escpos' import as in any first print). A child that ends for want
of work as a job comes never took it: the job goes to a new child, not counted a fault.

Requests and answers are pickles on two pipes, a 4-byte length before each; the child's log
records come back with its answer and are logged here, by their own logger names, so they
land where the station's logs go (its stdout and stderr go nowhere: the terminal is the
kiosk's screen).

Usage (a print thread; it blocks like the function it stands for):

    worker = PrintWorker()
    error = worker.send(send_job, claimed, settings)   # None | PrinterError
    worker.close()
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)

IDLE_SECONDS = 300.0  # a child with no job for this long ends; the next job starts a new one
IDLE_EXIT = 75  # the child's exit status when it ended for want of work: it had taken no job since its last answer
DEADLINE_FLOOR = 60.0  # seconds a job may take in the child, plus DEADLINE_PER_TIMEOUT x the printer's timeout
DEADLINE_PER_TIMEOUT = 10  # connect, status before, every 4 KB piece, status after: each within `timeout`
_HEADER = struct.Struct(">I")
_PR_SET_PDEATHSIG = 1


def deadline_for(settings) -> float:
    """How long the child may take over one job before it is killed: long enough for any job a
    working printer takes (each of its waits is bounded by the URI's `timeout`), never for ever."""
    from printer.uri import DEFAULT_TIMEOUT, PrinterError, parse_printer_uri

    timeouts = [DEFAULT_TIMEOUT]
    for uri in (getattr(settings, "uri", None), getattr(getattr(settings, "labels", None), "uri", None)):
        if uri:
            try:
                timeouts.append(parse_printer_uri(uri).timeout)
            except PrinterError:
                pass  # the child says what is wrong with it, at once
    return DEADLINE_FLOOR + DEADLINE_PER_TIMEOUT * max(timeouts)


class PrintWorker:
    """One child process at a time, used by one print thread (calls are serialised anyway)."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, deadline: float | None = None) -> None:
        self.idle_seconds = idle_seconds
        self.deadline = deadline  # None: deadline_for(the job's settings)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._to_child: int | None = None
        self._from_child: int | None = None
        self.started = 0  # children started so far (tests and the bench look)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def send(self, fn, *args):
        """`fn(*args)` in the child: a module-level function of the send_job kind (returns None or
        a PrinterError, raises nothing) that imports no database. Its answer, or a PrinterError
        saying the child died or did not answer in time. Blocks: call it from a print thread."""
        from kiosk.printing.send import give_memory_back
        from printer.uri import PrinterError

        deadline = self.deadline if self.deadline is not None else deadline_for(args[1] if len(args) > 1 else None)
        with self._lock:
            try:
                request = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 - a bug, said as a printer fault like any other
                return PrinterError(f"the print job cannot be handed to the print worker ({type(e).__name__})",
                                    kind="error")
            for tries_left in (1, 0):
                try:
                    if self._process is None or self._process.poll() is not None:
                        self._start()
                    answer = self._ask(request, deadline)
                    break
                except _WorkerLost as lost:
                    self._stop(kill=True)
                    if lost.idle and tries_left:  # it ended for want of work as the job came: it never took it
                        continue
                    log.warning("print worker lost: %s", lost)
                    return PrinterError(f"the print worker {lost}", kind=lost.kind)
        status, value, records = answer
        _log_records(records)
        give_memory_back()  # here too: what the registration and its receipt freed in the station (~1 MB)
        if status == "ok":
            return value
        log.error("print worker: %s raised\n%s", getattr(fn, "__name__", fn), value)
        return PrinterError(f"unexpected error in the print worker ({value.splitlines()[-1][:120]})", kind="error")

    def close(self) -> None:
        """End the child, at once: never waits for a job (one under way stays `printing` and prints
        at the next start, as a station that ends mid-receipt always did)."""
        if self._lock.acquire(blocking=False):
            try:
                self._stop(kill=True)  # between jobs: nothing is lost, and no wait for it to notice
            finally:
                self._lock.release()
        else:
            process = self._process
            if process is not None and process.poll() is None:
                process.kill()  # the print thread's read ends at once: "the print worker ended"

    # ---- the parent's side -------------------------------------------------------------------

    def _start(self) -> None:
        self._stop(kill=True)
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        level = min(logging.getLogger().getEffectiveLevel(), logging.INFO)  # filtered here again
        command = [sys.executable, "-m", "kiosk.printing.worker", str(child_in), str(child_out), str(os.getpid()),
                   str(level), repr(self.idle_seconds)]
        try:
            self._process = subprocess.Popen(command, pass_fds=(child_in, child_out), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             start_new_session=True)  # a terminal's Ctrl+C is the station's
        except OSError as e:
            for fd in (to_child, from_child):
                os.close(fd)
            raise _WorkerLost(f"cannot start ({os.strerror(e.errno or 0)})", "error") from e
        finally:
            os.close(child_in)
            os.close(child_out)
        self._to_child, self._from_child = to_child, from_child
        self.started += 1
        log.info("print worker started (pid %d)", self._process.pid)

    def _ask(self, request: bytes, deadline: float):
        to_child, from_child = self._to_child, self._from_child
        if to_child is None or from_child is None:  # never: asked only with a child _start() made
            raise _WorkerLost("was not started", "error")
        try:
            _write_all(to_child, _HEADER.pack(len(request)) + request)
        except OSError as e:  # BrokenPipeError: it died before taking the job
            raise self._ended() from e
        until = time.monotonic() + deadline
        header = self._read(from_child, _HEADER.size, until, deadline)
        body = self._read(from_child, _HEADER.unpack(header)[0], until, deadline)
        try:
            return pickle.loads(body)
        except Exception as e:  # a damaged answer: the child is not trusted again
            raise _WorkerLost(f"answered with something unreadable ({type(e).__name__})", "error") from e

    def _read(self, from_child: int, size: int, until: float, deadline: float) -> bytes:
        data = bytearray()
        poller = select.poll()
        poller.register(from_child, select.POLLIN)
        while len(data) < size:
            left = until - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise _WorkerLost(f"gave no answer within {deadline:g} s (killed)", "timeout")
            chunk = os.read(from_child, size - len(data))
            if not chunk:
                raise self._ended()
            data += chunk
        return bytes(data)

    def _ended(self) -> _WorkerLost:
        """Its pipe closed: how it ended."""
        process = self._process
        try:
            code = process.wait(timeout=1.0) if process is not None else None
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            try:
                how = f"signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"signal {-code}"
        else:
            how = f"exit status {code}"
        return _WorkerLost(f"ended ({how}) before it answered", "error", idle=code == IDLE_EXIT)

    def _stop(self, kill: bool) -> None:
        for name in ("_to_child", "_from_child"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass
        process, self._process = self._process, None
        if process is None:
            return
        if kill and process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=2.0)  # its pipe closed, an idle child ends at once
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()



class _WorkerLost(Exception):
    def __init__(self, message: str, kind: str, idle: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.idle = idle  # it ended for want of work, having taken no job


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _log_records(records) -> None:
    for fields in records or ():
        record = logging.makeLogRecord(fields)
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


# ---- the child's side ----------------------------------------------------------------------------


class _Collect(logging.Handler):
    """The child's log records, kept to go back with the answer (its stderr goes nowhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = dict(record.__dict__)
            fields["msg"], fields["args"] = record.getMessage(), None
            if record.exc_info:
                fields["exc_text"] = logging.Formatter().formatException(record.exc_info)
            fields["exc_info"] = None
            fields = {k: v for k, v in fields.items() if _picklable(v)}
            self.records.append(fields)
        except Exception:  # noqa: BLE001, S110 - a record is never worth a job (and there is nowhere to say so)
            pass


def _picklable(value) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # noqa: BLE001
        return False
    return True


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the thread that started us ends (the station's print thread, or the
    station itself, even by kill -9); if it already has, end now."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the closed pipe ends us once the job in hand is done
    if os.getppid() != parent:
        os._exit(0)


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def main(argv: list[str]) -> int:
    requests, answers, parent, level = (int(a) for a in argv[:4])
    idle = float(argv[4])
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    collect = _Collect()
    root = logging.getLogger()
    root.handlers[:] = [collect]  # before python-escpos' logging.basicConfig(), which then does nothing
    root.setLevel(level)
    import kiosk.printing.send  # noqa: F401 - what every job needs, while the station waits for nothing

    waiting = select.poll()
    waiting.register(requests, select.POLLIN)
    while True:
        if not waiting.poll(idle * 1000):
            return IDLE_EXIT  # nothing came: what it holds goes back to the system (the job coming now is sent again)
        header = _read_exactly(requests, _HEADER.size)
        if header is None:
            return 0  # the station closed the pipe (or ended)
        body = _read_exactly(requests, _HEADER.unpack(header)[0])
        if body is None:
            return 0
        collect.records = []
        try:
            fn, args = pickle.loads(body)
            answer = ("ok", fn(*args))
        except Exception:  # noqa: BLE001 - said to the station, which logs it and counts the job failed
            answer = ("raised", traceback.format_exc(limit=8))
        try:
            reply = pickle.dumps((*answer, collect.records), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - an answer that cannot be pickled
            reply = pickle.dumps(("raised", f"unpicklable answer: {type(e).__name__}", []))
        _write_all(answers, _HEADER.pack(len(reply)) + reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
