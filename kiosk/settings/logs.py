"""Where the kiosk's logs go, and in what shape.

* `kiosk run` and `kiosk clerk` own the terminal: their logs go to DATA_DIR/kiosk.log (JSON
  lines; text if asked for), or with `journal` as JSON lines to the system journal
  through the syslog socket /dev/log (the kiosk's systemd unit does this: its stderr is the
  terminal's). Nothing is ever written over the screen.
* Every other command (`kiosk sync --daemon`, `kiosk central serve`, …) leaves logging as
  Python has it (warnings and errors on stderr, bare) unless asked, and then writes INFO and
  up to stderr: `--log json|text`, else $KIOSK_LOG=json|text, else JSON when stderr is the
  systemd journal ($JOURNAL_STREAM names stderr's device:inode, as systemd sets it for
  StandardError=journal). stdout stays the command's output (the sync daemon's reports).

JSON is one object per line: time (UTC, ISO 8601, ms), level, logger, message, then any
`extra={...}` fields, and exc/stack when there are any. The messages themselves must carry
no personal data (ARCHITECTURE.md): ids, counts and kinds only; nothing here scrubs them,
but peewee's DEBUG log (every SQL statement with its parameters) is kept off.

Under `kiosk central serve`, uvicorn is given the same set-up (uvicorn_log_config) for its own
loggers and for every worker process it starts: its access and error lines come out in the
same format, JSON under the journal.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import weakref
from datetime import UTC, datetime
from pathlib import Path

LOG_ENV = "KIOSK_LOG"
FORMATS = ("json", "text", "journal")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "kiosk.log"
JOURNAL_SOCKET = "/dev/log"
# The handlers this module installed, with their format: ours, to be replaced, not added to.
_OURS: weakref.WeakKeyDictionary[logging.Handler, str] = weakref.WeakKeyDictionary()

# What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
_KEYS = ("time", "level", "logger", "message")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[f"extra.{key}" if key in _KEYS else key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def journald_stderr() -> bool:
    """stderr is connected to the journal: systemd sets JOURNAL_STREAM to its "dev:inode"."""
    value = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


def chosen_format(requested: str | None = None) -> str | None:
    """--log, else $KIOSK_LOG, else json under journald, else None (not asked)."""
    if requested:
        return requested
    value = os.environ.get(LOG_ENV, "").strip().lower()
    if value in FORMATS:
        return value
    if value:
        print(f"{LOG_ENV}={value!r}: not one of {', '.join(FORMATS)}; logging as text", file=sys.stderr)
        return "text"
    return "json" if journald_stderr() else None


def _journal() -> logging.Handler | None:
    """A handler to the journal's syslog socket, tagged "kiosk"; None (with a word on stderr,
    and the usual destination instead) where there is no /dev/log."""
    from logging.handlers import SysLogHandler

    try:
        # SysLogHandler itself would only notice at the first line, and then print tracebacks.
        if not stat.S_ISSOCK(os.stat(JOURNAL_SOCKET).st_mode):
            raise OSError(0, "not a socket")
        handler = SysLogHandler(address=JOURNAL_SOCKET)
    except OSError as e:
        print(f"--log journal: {JOURNAL_SOCKET} unusable ({e.strerror}); logging to the usual place", file=sys.stderr)
        return None
    handler.ident = "kiosk: "
    return handler


def configure_logging(data_dir: Path, requested: str | None = None, *, tui: bool,
                      stream=None) -> logging.Handler | None:
    """Set up the root logger for a command (see the module's doc); returns the handler it
    installed, or None when logging is left as it was. Called again, it replaces its own
    handler, never anyone else's."""
    fmt = chosen_format(requested)
    handler: logging.Handler | None = _journal() if fmt == "journal" else None
    if handler is None and tui:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(data_dir / LOG_FILE, encoding="utf-8")
    elif handler is None and fmt is None:
        return None
    elif handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
    _install(_formatted(handler, fmt))
    return handler


def _formatted(handler: logging.Handler, fmt: str | None) -> logging.Handler:
    handler.setFormatter(logging.Formatter(TEXT_FORMAT) if fmt == "text" else JsonFormatter())
    _OURS[handler] = fmt or "json"
    return handler


def _install(handler: logging.Handler) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if h in _OURS]:
        root.removeHandler(old)
        old.close()
    # With a handler on the root, python-escpos's import-time logging.basicConfig() is a no-op.
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # peewee logs every statement with its parameters at DEBUG: customers' names and phones,
    # the device token. Never that, even if someone turns the root logger up to DEBUG.
    logging.getLogger("peewee").setLevel(logging.INFO)


def command_handler(fmt: str) -> logging.Handler:
    """The handler configure_logging gives a command; for dictConfig (uvicorn_log_config)."""
    return _formatted((fmt == "journal" and _journal()) or logging.StreamHandler(sys.stderr), fmt)


def uvicorn_log_config() -> dict | None:
    """For uvicorn's log_config when this process logs through configure_logging, else None
    (uvicorn's own text set-up). uvicorn applies it in each worker process too, where nothing
    of ours has run; its loggers, left without handlers, pass their lines to the root's."""
    fmt = next((_OURS[h] for h in logging.getLogger().handlers if h in _OURS), None)
    if fmt is None:
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"kiosk": {"()": "kiosk.settings.logs.command_handler", "fmt": fmt}},
        "root": {"handlers": ["kiosk"], "level": "INFO"},
        "loggers": {"peewee": {"level": "INFO"}},
    }
