"""Getting rendered ESC/POS bytes to a printer, with a timeout everywhere.

A printer is chosen by a URI (the config's `printer_uri`; the schemes and their options are
in printer.uri). usb://, serial:// and tcp:// printers go through python-escpos
(printer.escpos_backend); file://, cups:// and preview:// are here, and have no way back
from the printer: a job sent to a printer's device file or to CUPS is unconfirmed
(PrinterError kind "unconfirmed", delivered), since nothing says the printer printed it.

Usage (the print spool):

    with open_backend(uri, base_dir=data_dir) as printer:   # raises PrinterError "config" only
        printer.check()   # "offline" / "paper_out" / "cover_open" before anything is printed
        printer.send(Job(name, data, document, profile))    # "disconnected" / "timeout" / "error";
                                                            # "unconfirmed" & co. with `delivered`

python-escpos (~185 ms to import), pyserial and pyusb are imported only when a backend for
them is opened; importing this module is cheap.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from .escpos_backend import EscposBackend, _escpos_device, usb_endpoints
from .job import CHUNK_SIZE, Backend, Job
from .uri import DEFAULT_TIMEOUT, KINDS, PrinterError, PrinterSpec, _config, parse_printer_uri

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "KINDS",
    "Backend",
    "CupsBackend",
    "EscposBackend",
    "FileBackend",
    "Job",
    "PreviewBackend",
    "PrinterError",
    "PrinterSpec",
    "open_backend",
    "parse_printer_uri",
    "usb_endpoints",
]

log = logging.getLogger(__name__)


def open_backend(uri_or_spec: str | PrinterSpec, *, base_dir: Path | None = None,
                 font: Path | None = None) -> Backend:
    """The backend for a printer URI. Raises PrinterError(kind="config") only: nothing is
    opened or connected until `check()` or `send()`, which raise the other kinds. A
    relative file:// or preview:// path is under `base_dir` (else the working directory).
    `font` is the configured CJK font, for the preview's PNG."""
    spec = parse_printer_uri(uri_or_spec) if isinstance(uri_or_spec, str) else uri_or_spec
    if spec.scheme == "preview":
        return PreviewBackend(_resolve(spec.target, base_dir), timeout=spec.timeout, font=font)
    if spec.scheme == "file":
        return FileBackend(_resolve(spec.target, base_dir), timeout=spec.timeout)
    if spec.scheme == "cups":
        return CupsBackend(spec.target, timeout=spec.timeout)
    device, extra = _escpos_device(spec)
    return EscposBackend(device, status=spec.status, timeout=spec.timeout, description=spec.description,
                         guard=False, **extra)


def attempt(send) -> PrinterError | None:
    """Run `send()` (render and print one job); None when the printer said it printed, else the
    PrinterError (`delivered`: unconfirmed). Nothing else escapes: a paper that cannot print must
    not stop the kiosk or the desk."""
    from .fonts import FontNotFound

    try:
        send()
    except PrinterError as e:
        return e
    except FontNotFound as e:
        return PrinterError(str(e), kind="config")
    except Exception as e:  # noqa: BLE001 - see above
        return PrinterError(f"unexpected {type(e).__name__}", kind="error")
    return None


def _resolve(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(base_dir or Path.cwd()) / p


# --------------------------------------------------------------------------- files, CUPS, preview


class FileBackend(Backend):
    """Writes the job to a device file (/dev/usb/lp0) or a plain file (appended; made if
    missing, except under /dev/). The file is opened non-blocking for each job and each piece
    must go out within the timeout: a printer that stops taking data cannot block the kiosk (a
    blocking write to /dev/usb/lp0 waits for ever)."""

    def __init__(self, path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.description = f"file {self.path}"

    def send(self, job: Job) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        if not str(self.path).startswith("/dev/"):
            flags |= os.O_CREAT  # never make a plain file where an unplugged printer's device was
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EISDIR, errno.EROFS):
                raise PrinterError(f"{self.description}: cannot write ({os.strerror(e.errno)})",
                                   kind="config") from e
            raise PrinterError(f"{self.description}: printer not found or not ready "
                               f"({os.strerror(e.errno or 0)})", kind="offline") from e
        try:
            device = stat.S_ISCHR(os.fstat(fd).st_mode)
            self._write_all(fd, memoryview(job.data))
        finally:
            os.close(fd)
        log.info("%s: sent %s (%d bytes)", self.description, job.name, len(job.data))
        if device:  # a printer's device file (/dev/usb/lp0): the kernel took the bytes, no more
            raise PrinterError(f"{self.description} cannot say whether it printed {job.name}",
                               kind="unconfirmed", delivered=True)

    def _write_all(self, fd: int, data: memoryview) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        done = 0
        while done < len(data):
            try:
                done += os.write(fd, data[done:done + CHUNK_SIZE])
                continue
            except BlockingIOError:
                pass
            except OSError as e:
                kind = "error" if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else "disconnected"
                raise PrinterError(f"{self.description}: write failed ({os.strerror(e.errno or 0)})",
                                   kind=kind) from e
            if not poller.poll(self.timeout * 1000):
                raise PrinterError(f"{self.description} took no data for {self.timeout:g} s", kind="timeout")


class CupsBackend(Backend):
    """Hands the job to CUPS as raw bytes: `lp -d QUEUE -o raw`, which must finish within
    the timeout. CUPS queues the job and reports nothing back: no status."""

    def __init__(self, queue: str, *, timeout: float = DEFAULT_TIMEOUT, lp: str = "lp") -> None:
        self.queue = queue
        self.timeout = timeout
        self.lp = lp
        self.description = f"cups queue {queue}"

    def send(self, job: Job) -> None:
        lp = shutil.which(self.lp)
        if lp is None:
            raise _config(f"{self.description}: the CUPS command `{self.lp}` is not installed "
                          "(on Debian/Ubuntu: apt install cups-client)")
        command = [lp, "-d", self.queue, "-o", "raw", "-t", job.name]
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise _config(f"{self.description}: cannot run `{self.lp}` ({os.strerror(e.errno or 0)})") from e
        try:
            out, err = process.communicate(bytes(job.data), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise PrinterError(f"{self.description}: `lp` did not finish within {self.timeout:g} s",
                               kind="timeout") from None
        if process.returncode != 0:
            message = (err or out).decode("utf-8", "replace").strip().splitlines()
            first = message[0][:200] if message else f"exit status {process.returncode}"
            lower = first.lower()
            if "does not exist" in lower or "unknown destination" in lower or "not found" in lower:
                kind = "config"
            elif "unable to connect" in lower or "not responding" in lower or "connection refused" in lower:
                kind = "offline"
            else:
                kind = "error"
            raise PrinterError(f"{self.description}: lp failed: {first}", kind=kind)
        log.info("%s: queued %s (%d bytes): %s", self.description, job.name, len(job.data),
                 out.decode("utf-8", "replace").strip())
        raise PrinterError(f"{self.description} queued {job.name}; CUPS does not say whether it printed",
                           kind="unconfirmed", delivered=True)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 9)
    except OSError:
        process.kill()
    process.communicate()


class PreviewBackend(Backend):
    """The preview printer: writes DIR/NAME.bin (the ESC/POS bytes), NAME.png and NAME.txt
    (printer.preview's renderings of the document), each complete or not at all."""

    def __init__(self, directory: Path, *, timeout: float = DEFAULT_TIMEOUT, font: Path | None = None) -> None:
        self.directory = Path(directory)
        self.timeout = timeout
        self.font = font
        self.description = f"preview {self.directory}"

    def send(self, job: Job) -> None:
        from . import preview
        from .labels.document import LabelSheet, Media

        # A Job pairs a LabelSheet with its Media, a receipt's Document with its Profile
        # (printer.job): a job mixing the two is a caller's bug, not something to draw.
        document, profile = job.document, job.profile
        if isinstance(document, LabelSheet):  # a label printer's job: TSPL or ZPL, on its Media
            from .labels import preview as labels

            if not isinstance(profile, Media):
                raise TypeError(f"a label sheet goes on a label stock, not {profile!r}")
            png = labels.render_png(document, profile, font=self.font)
            text = labels.render_text(document)
        else:
            if isinstance(profile, Media):
                raise TypeError(f"a receipt goes on a receipt printer's profile, not {profile!r}")
            png = (preview.render_png(document, profile) if self.font is None
                   else preview.render_png(document, profile, font=self.font))
            text = preview.render_text(document, profile)
        if hasattr(png, "save"):  # a PIL image
            import io

            buffer = io.BytesIO()
            png.save(buffer, format="PNG")
            png = buffer.getvalue()
        files = {".bin": bytes(job.data), ".png": bytes(png), ".txt": text.encode("utf-8")}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PrinterError(f"cannot create the preview directory {self.directory} "
                               f"({os.strerror(e.errno or 0)})", kind="error") from e
        for suffix, content in files.items():
            _write_atomically(self.directory / f"{job.name}{suffix}", content)
        log.info("%s: wrote %s", self.description, job.name)


def _write_atomically(path: Path, content: bytes) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise PrinterError(f"cannot write {path} ({os.strerror(e.errno or 0)})", kind="error") from e
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
