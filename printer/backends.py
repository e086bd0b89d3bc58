"""Getting rendered ESC/POS bytes to a printer, with a timeout everywhere.

A printer is chosen by a URI (the config's `printer_uri`):

    usb://0416:5011?in_ep=0x81&out_ep=0x03&interface=0&timeout=5
    serial:///dev/ttyUSB0?baudrate=9600&timeout=5   (bytesize parity stopbits rtscts dsrdtr xonxoff)
    tcp://192.168.1.50:9100?timeout=5               (port 9100 by default)
    file:///dev/usb/lp0
    cups://QUEUE                                    (raw job through `lp -d QUEUE -o raw`)
    preview://DIR                                   (.bin, .png and .txt per job; relative to base_dir)

Every scheme takes `timeout=SECONDS` (default 5) and `status=0|1`. `timeout` bounds every
wait: connecting, each status answer, and each 4 KB piece of a job (the time a printer may
take without accepting anything; a slow printer that keeps taking data is not cut off).
`status=1` (the default on usb, serial and tcp) asks the printer for its real-time status
(DLE EOT) before printing; a printer that does not answer is offline. Printers that cannot
report status need `status=0`. file, cups and preview have no way back from the printer.

Usage (the print spool):

    with open_backend(uri, base_dir=data_dir) as printer:   # raises PrinterError "config" only
        printer.check()   # "offline" / "paper_out" / "cover_open" before anything is printed
        printer.send(Job(name, data, document, profile))    # "disconnected" / "timeout" / "error"

python-escpos (~185 ms to import), pyserial and pyusb are imported only when a backend for
them is opened; importing this module is cheap.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from .document import Document
    from .profiles import Profile

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0  # seconds
MAX_TIMEOUT = 600.0
CHUNK_SIZE = 4096  # a job goes out in pieces of this size, each within the timeout

KINDS = frozenset({"config", "offline", "paper_out", "cover_open", "disconnected", "timeout", "error"})

# DLE EOT n: real-time status, one byte answer (Epson ESC/POS; the same on the Chinese clones).
DLE_EOT = b"\x10\x04"
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bits 0 and 7 always off, bits 1 and 4 always on
S1_OFFLINE = 0x08  # n=1 printer status: bit 3 offline
S2_COVER_OPEN = 0x04  # n=2 offline cause: bit 2 cover open
S2_PAPER_END_STOP = 0x20  # bit 5 printing stopped by paper end
S2_ERROR = 0x40  # bit 6 error (auto-cutter jam, head too hot, ...)
S4_NEAR_END = 0x0C  # n=4 roll paper sensor: bits 2-3 near end
S4_PAPER_END = 0x60  # bits 5-6 paper end


class PrinterError(Exception):
    """A print failed, or will. `kind` is one of KINDS; the message is plain English for
    logs and never holds personal data (no receipt content)."""

    def __init__(self, message: str, kind: str = "error") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown printer error kind {kind!r}")
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):
        return (type(self), (str(self), self.kind))


def _config(message: str) -> PrinterError:
    return PrinterError(message, kind="config")


# --------------------------------------------------------------------------- URIs

SCHEMES = ("usb", "serial", "tcp", "file", "cups", "preview")
_COMMON = ("timeout", "status")
_OPTIONS = {
    "usb": _COMMON + ("in_ep", "out_ep", "interface"),
    "serial": _COMMON + ("baudrate", "bytesize", "parity", "stopbits", "rtscts", "dsrdtr", "xonxoff"),
    "tcp": _COMMON,
    "file": _COMMON,
    "cups": _COMMON,
    "preview": _COMMON,
}
_CAN_READ = {"usb", "serial", "tcp"}  # the schemes with a way back from the printer
_PARITIES = {"n": "N", "none": "N", "e": "E", "even": "E", "o": "O", "odd": "O", "m": "M", "mark": "M",
             "s": "S", "space": "S"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class PrinterSpec:
    """A parsed printer URI. `target` is what comes after `scheme://`: "VID:PID" for usb,
    the device path for serial and file, "host" for tcp (with `port`), the queue for cups,
    the directory for preview."""

    scheme: str
    target: str
    timeout: float = DEFAULT_TIMEOUT
    status: bool = False
    port: int | None = None  # tcp
    vendor_id: int | None = None  # usb
    product_id: int | None = None
    in_ep: int | None = None  # None: found in the device's descriptors
    out_ep: int | None = None
    interface: int = 0
    baudrate: int = 9600  # serial
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rtscts: bool = False
    dsrdtr: bool = False
    xonxoff: bool = False

    @property
    def description(self) -> str:
        if self.scheme == "usb":
            return f"usb {self.vendor_id:04x}:{self.product_id:04x}"
        if self.scheme == "serial":
            return f"serial {self.target} at {self.baudrate} baud"
        if self.scheme == "tcp":
            return f"tcp {self.target}:{self.port}"
        if self.scheme == "cups":
            return f"cups queue {self.target}"
        return f"{self.scheme} {self.target}"


def parse_printer_uri(uri: str) -> PrinterSpec:
    """Parse a printer URI; PrinterError(kind="config") says what is wrong with it."""
    if not isinstance(uri, str) or not uri.strip():
        raise _config("no printer configured: the printer URI is empty")
    uri = uri.strip()
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise _config(f"printer URI {uri!r} has no scheme: expected one of "
                      + ", ".join(f"{s}://" for s in SCHEMES))
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise _config(f"unknown printer URI scheme {scheme + '://'!r}: expected one of "
                      + ", ".join(f"{s}://" for s in SCHEMES))
    if "#" in rest:
        raise _config(f"printer URI {uri!r} has a '#' fragment, which means nothing here")
    target, _, query = rest.partition("?")
    options = _parse_query(scheme, query)
    values: dict[str, Any] = {"scheme": scheme}
    values["timeout"] = _timeout(options.pop("timeout", None))
    status = options.pop("status", None)
    values["status"] = scheme in _CAN_READ if status is None else _bool("status", status)
    if values["status"] and scheme not in _CAN_READ:
        raise _config(f"{scheme}:// cannot read the printer's status: remove status=1")
    values.update(_PARSE_TARGET[scheme](unquote(target), options))
    return PrinterSpec(**values)


def _parse_query(scheme: str, query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = unquote(key).strip().lower(), unquote(value).strip()
        if not sep or not key:
            raise _config(f"printer URI option {part!r} should be NAME=VALUE")
        if key not in _OPTIONS[scheme]:
            raise _config(f"unknown option {key!r} for {scheme}:// (known: {', '.join(_OPTIONS[scheme])})")
        if key in options:
            raise _config(f"option {key!r} given twice in the printer URI")
        if not value:
            raise _config(f"option {key!r} has no value")
        options[key] = value
    return options


def _timeout(value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise _config(f"timeout must be a number of seconds, not {value!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT:  # also rejects nan; 0 would mean "wait forever" to pyusb
        raise _config(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {value!r}")
    return seconds


def _bool(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _config(f"option {name!r} must be 0 or 1, not {value!r}")


def _int(name: str, value: str, low: int, high: int, *, base: int = 10) -> int:
    try:
        number = int(value, base)
    except ValueError:
        kind = "an integer" if base == 10 else "a number (decimal or 0x.. hex)"
        raise _config(f"option {name!r} must be {kind}, not {value!r}") from None
    if not low <= number <= high:
        raise _config(f"option {name!r} must be between {low} and {high}, not {value!r}")
    return number


_USB_ID = re.compile(r"(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})", re.IGNORECASE)


def _usb_target(target: str, options: dict[str, str]) -> dict[str, Any]:
    target = target.strip("/")
    match = _USB_ID.fullmatch(target)
    if not match:
        raise _config(f"usb:// needs VENDOR:PRODUCT as two hex numbers (like usb://0416:5011), not {target!r}")
    vendor, product = int(match[1], 16), int(match[2], 16)
    if vendor == 0:
        raise _config(f"usb vendor id 0000 is not a real device ({target!r})")
    values: dict[str, Any] = {"target": f"{vendor:04x}:{product:04x}", "vendor_id": vendor, "product_id": product}
    if "in_ep" in options:
        values["in_ep"] = _int("in_ep", options["in_ep"], 0x81, 0x8F, base=0)
    if "out_ep" in options:
        values["out_ep"] = _int("out_ep", options["out_ep"], 0x01, 0x0F, base=0)
    if "interface" in options:
        values["interface"] = _int("interface", options["interface"], 0, 255)
    return values


def _serial_target(target: str, options: dict[str, str]) -> dict[str, Any]:
    if not target.strip("/"):
        raise _config("serial:// needs a device, like serial:///dev/ttyUSB0")
    values: dict[str, Any] = {"target": target}
    if "baudrate" in options:
        values["baudrate"] = _int("baudrate", options["baudrate"], 50, 4_000_000)
    if "bytesize" in options:
        values["bytesize"] = _int("bytesize", options["bytesize"], 5, 8)
    if "parity" in options:
        parity = _PARITIES.get(options["parity"].lower())
        if parity is None:
            raise _config(f"option 'parity' must be N, E, O, M or S, not {options['parity']!r}")
        values["parity"] = parity
    if "stopbits" in options:
        if options["stopbits"] not in ("1", "1.5", "2"):
            raise _config(f"option 'stopbits' must be 1, 1.5 or 2, not {options['stopbits']!r}")
        values["stopbits"] = float(options["stopbits"]) if options["stopbits"] == "1.5" else int(options["stopbits"])
    for flag in ("rtscts", "dsrdtr", "xonxoff"):
        if flag in options:
            values[flag] = _bool(flag, options[flag])
    return values


def _tcp_target(target: str, options: dict[str, str]) -> dict[str, Any]:
    target = target.rstrip("/")
    if "@" in target:
        raise _config("tcp:// printer URIs take no user name or password")
    if "/" in target:
        raise _config("tcp:// takes HOST or HOST:PORT, without a path")
    if target.startswith("[") or target.count(":") > 1:
        raise _config("tcp:// takes an IPv4 address or a host name: python-escpos' Network printer "
                      "speaks IPv4 only")
    host, _, port = target.partition(":")
    if not host or any(c.isspace() for c in host) or ":" in port:
        raise _config(f"tcp:// needs a host, like tcp://192.168.1.50:9100 (got {target!r})")
    return {"target": host, "port": _int("port", port, 1, 65535) if port else 9100}


def _path_target(scheme: str, example: str):
    def parse(target: str, options: dict[str, str]) -> dict[str, Any]:
        if not target.strip("/"):
            raise _config(f"{scheme}:// needs a path, like {example}")
        return {"target": target}

    return parse


def _cups_target(target: str, options: dict[str, str]) -> dict[str, Any]:
    queue = target.rstrip("/")
    if not queue:
        raise _config("cups:// needs a queue name, like cups://receipts (see `lpstat -p`)")
    if any(c.isspace() or c in "/#\\'\"" for c in queue):
        raise _config(f"CUPS queue name {queue!r} cannot hold spaces, slashes, quotes or '#'")
    return {"target": queue}


_PARSE_TARGET = {
    "usb": _usb_target,
    "serial": _serial_target,
    "tcp": _tcp_target,
    "file": _path_target("file", "file:///dev/usb/lp0"),
    "cups": _cups_target,
    "preview": _path_target("preview", "preview://receipts"),
}


# --------------------------------------------------------------------------- jobs and backends

_JOB_NAME = re.compile(r"[\w][\w.-]{0,119}")


@dataclass(frozen=True)
class Job:
    """One receipt to print: `data` is the ESC/POS bytes, already rendered from `document`
    for `profile`. `name` names preview files and log lines: a ticket number and job id,
    never personal data; letters, digits, '.', '_' and '-' only."""

    name: str
    data: bytes = field(repr=False)
    document: Document = field(repr=False)
    profile: Profile = field(repr=False)

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name or "") or ".." in self.name:
            raise ValueError(f"print job name {self.name!r} is not a safe file name")
        if not isinstance(self.data, bytes | bytearray | memoryview):
            raise TypeError("Job.data must be bytes")


class Backend:
    """Where jobs go. `check()` before printing, `send()` to print, `close()` (or `with`)."""

    description = "printer"

    def check(self) -> None:
        """Raise PrinterError offline / paper_out / cover_open if the printer says so;
        return if it is ready or cannot tell."""

    def send(self, job: Job) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


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


def _resolve(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(base_dir or Path.cwd()) / p


# --------------------------------------------------------------------------- python-escpos devices


def _import_escpos():
    """Import python-escpos with its capabilities cache in our cache dir: by default every
    import makes a new temporary directory for it (escpos/capabilities.py, mkdtemp())."""
    if "escpos.printer" not in sys.modules and "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        try:
            from platformdirs import user_cache_dir

            cache = Path(user_cache_dir("metrology-kiosk")) / "escpos"
            cache.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(cache)
        except OSError:
            pass  # python-escpos falls back to a temporary directory
    import escpos.escpos
    import escpos.exceptions
    import escpos.printer

    return escpos


def _escpos_device(spec: PrinterSpec):
    """A python-escpos printer object for a usb, serial or tcp spec (not opened), and the
    EscposBackend options that go with it."""
    _import_escpos()
    if spec.scheme == "tcp":
        from escpos.printer import Network

        return Network(host=spec.target, port=spec.port, timeout=spec.timeout), {}
    if spec.scheme == "serial":
        try:
            import serial  # noqa: F401
        except ImportError:
            raise _config("serial:// printers need pyserial: pip install pyserial") from None
        serial_cls = _escpos_classes()["serial"]
        # A piece of a job may take its time on the wire at a low baud rate (~10 bits a byte).
        write_timeout = spec.timeout + CHUNK_SIZE * 10 / spec.baudrate
        return serial_cls(
            devfile=spec.target, baudrate=spec.baudrate, bytesize=spec.bytesize, parity=spec.parity,
            stopbits=spec.stopbits, xonxoff=spec.xonxoff, dsrdtr=spec.dsrdtr, rtscts=spec.rtscts,
            timeout=spec.timeout, write_timeout=write_timeout,
        ), {}
    if spec.scheme == "usb":
        try:
            import usb.core  # noqa: F401
        except ImportError:
            raise _config("usb:// printers need pyusb (and libusb-1.0): pip install pyusb") from None
        usb_cls = _escpos_classes()["usb"]
        return usb_cls(
            idVendor=spec.vendor_id, idProduct=spec.product_id, in_ep=spec.in_ep, out_ep=spec.out_ep,
            interface=spec.interface, timeout=spec.timeout,
        ), {}
    raise _config(f"{spec.scheme}:// is not a python-escpos device")


_CLASSES: dict[str, type] = {}


def _escpos_classes() -> dict[str, type]:
    """python-escpos' Serial and Usb with their traps fixed. Made on first use so that
    python-escpos is imported only when printing."""
    if _CLASSES:
        return _CLASSES
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import Serial, Usb

    class KioskSerial(Serial):
        """Serial with a write timeout (python-escpos sets none: a printer holding the
        flow-control line would block forever), RTS/CTS, a one-byte status read (its
        read(16) always waits out the whole timeout) and a close that does not tcdrain
        (which has no timeout) after a failed job."""

        def __init__(self, *, rtscts: bool, write_timeout: float, **kwargs) -> None:
            super().__init__(**kwargs)
            self.rtscts = rtscts
            self.write_timeout = write_timeout
            self.failed = False

        def open(self, raise_not_found: bool = True) -> None:
            import serial

            if self._device:
                self.close()
            try:
                self.device = serial.Serial(
                    port=self.devfile, baudrate=self.baudrate, bytesize=self.bytesize, parity=self.parity,
                    stopbits=self.stopbits, timeout=self.timeout, write_timeout=self.write_timeout,
                    xonxoff=self.xonxoff, rtscts=self.rtscts, dsrdtr=self.dsrdtr, exclusive=True,
                )
            except (ValueError, serial.SerialException) as e:
                self.device = None
                raise DeviceNotFoundError(f"Unable to open serial printer on {self.devfile}") from e

        def _read(self) -> bytes:
            assert self.device
            return self.device.read(1)

        def wait_sent(self) -> None:
            """Wait until the UART has sent everything (out_waiting is always 0 on a pty)."""
            deadline = time.monotonic() + self.write_timeout
            while self._device and self._device.out_waiting:
                if time.monotonic() > deadline:
                    raise serial_module().SerialTimeoutException("output not sent")
                time.sleep(0.01)

        def drain_input(self) -> None:
            if self._device:
                self._device.reset_input_buffer()

        def close(self) -> None:
            device, self._device = self._device, False
            if device:
                try:
                    if self.failed:
                        device.reset_output_buffer()  # else close() waits for it to go out
                finally:
                    device.close()
            self.failed = False

    class KioskUsb(Usb):
        """Usb with timeouts in milliseconds on every transfer (python-escpos writes with
        timeout 0, which libusb takes as "forever", and reads with pyusb's 1 s), the
        endpoints read from the device's descriptors unless given (python-escpos assumes
        in 0x82 / out 0x01; many Chinese printers use 0x81 / 0x03), and the kernel driver
        detached from the configured interface (python-escpos: always interface 0)."""

        def __init__(self, *, in_ep: int | None, out_ep: int | None, interface: int, timeout: float,
                     **kwargs) -> None:
            super().__init__(timeout=max(1, round(timeout * 1000)), in_ep=in_ep or 0x82,
                             out_ep=out_ep or 0x01, **kwargs)
            self.interface = interface
            self.fixed_endpoints = (in_ep, out_ep)
            self.has_in_ep = True

        def open(self, raise_not_found: bool = True) -> None:
            import usb.core

            try:
                super().open(raise_not_found=True)
            except usb.core.NoBackendError as e:
                self.device = None
                raise PrinterError("usb:// printers need libusb-1.0 installed on the system "
                                   "(pyusb found no USB backend)", kind="config") from e
            try:
                self.device.default_timeout = self.timeout
            except AttributeError:
                pass
            self._find_endpoints()

        def _find_endpoints(self) -> None:
            in_ep, out_ep = self.fixed_endpoints
            if in_ep and out_ep:
                return
            found = usb_endpoints(self.device, self.interface)
            if found is None:
                log.warning("%s: cannot read the USB endpoints; using in 0x%02x, out 0x%02x",
                            type(self).__name__, self.in_ep, self.out_ep)
                return
            found_in, found_out = found
            if not out_ep and found_out:
                self.out_ep = found_out
            if not in_ep:
                self.has_in_ep = found_in is not None
                if found_in:
                    self.in_ep = found_in

        def _check_driver(self) -> None:
            if self.device and self.device.backend.__module__.endswith("libusb1"):
                try:
                    if self.device.is_kernel_driver_active(self.interface):
                        self.device.detach_kernel_driver(self.interface)
                except NotImplementedError:
                    pass
                except usb_core().USBError as e:
                    log.warning("could not detach the kernel driver: %s", e)

        def can_read(self) -> bool:
            return self.has_in_ep

        def _read(self) -> bytes:
            assert self.device
            return bytes(self.device.read(self.in_ep, 16, self.timeout))

        def close(self) -> None:
            device, self._device = self._device, False
            if device:
                try:
                    import usb.util

                    usb.util.dispose_resources(device)
                except Exception as e:  # noqa: BLE001 - closing must not fail the caller
                    log.debug("usb dispose_resources: %s", type(e).__name__)

    _CLASSES.update(serial=KioskSerial, usb=KioskUsb)
    return _CLASSES


def serial_module():
    import serial

    return serial


def usb_core():
    import usb.core

    return usb.core


def usb_endpoints(device, interface: int) -> tuple[int | None, int | None] | None:
    """(bulk IN, bulk OUT) endpoint addresses of a pyusb device's interface, None where the
    interface has none; None if the descriptors cannot be read."""
    try:
        import usb.util

        config = device.get_active_configuration()
        intf = usb.util.find_descriptor(config, bInterfaceNumber=interface)
        if intf is None:
            return None
        found_in = found_out = None
        for ep in intf:
            if usb.util.endpoint_type(ep.bmAttributes) != usb.util.ENDPOINT_TYPE_BULK:
                continue
            if usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_IN:
                found_in = found_in or ep.bEndpointAddress
            else:
                found_out = found_out or ep.bEndpointAddress
        return found_in, found_out
    except Exception as e:  # noqa: BLE001 - a device we cannot describe keeps the defaults
        log.debug("usb descriptors: %s", type(e).__name__)
        return None


class _CannotTell(Exception):
    """The device has no way to read its status after all."""


class _Stalled(TimeoutError):
    """A device call did not return within the timeout (EscposBackend's guard)."""


class EscposBackend(Backend):
    """Any python-escpos printer object (Usb, Serial, Network, File, Dummy, ...): sends
    the job with the device's `_raw()` in pieces, and reads real-time status with its
    `_raw()` / `_read()` where the device has a `_read()`.

    `guard=True` runs every device call on a helper thread and gives up after `timeout`
    (kind "timeout"; the device is then not used again): for devices whose own calls have
    no timeout. The devices made by `open_backend` have their own timeouts set, and no guard.
    """

    def __init__(self, device, *, status: bool = True, timeout: float = DEFAULT_TIMEOUT,
                 description: str | None = None, guard: bool = True, chunk_size: int = CHUNK_SIZE) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be more than 0 seconds")
        self.device = device
        self.status = status
        self.timeout = float(timeout)
        self.description = description or type(device).__name__
        self.guard = guard
        self.chunk_size = chunk_size
        self.paper_near_end = False  # set by check(): the roll is running out
        self._opened = False
        self._stuck = False

    # -- device calls

    def _call(self, fn, *args):
        if self._stuck:
            raise PrinterError(f"{self.description} did not return from an earlier call; "
                               "it has to be opened again", kind="timeout")
        if not self.guard:
            return fn(*args)
        outcome: list = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append((True, fn(*args)))
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                outcome.append((False, e))
            finally:
                done.set()

        threading.Thread(target=run, name="printer-io", daemon=True).start()
        if not done.wait(self.timeout):
            self._stuck = True
            raise _Stalled(f"no answer within {self.timeout:g} s")
        ok, value = outcome[0]
        if ok:
            return value
        raise value

    def _open(self) -> None:
        if self._opened:
            return
        try:
            if getattr(self.device, "_device", None) is False:
                self._call(self.device.open)
        except Exception as e:
            if getattr(self.device, "_device", False) is None:
                self.device._device = False  # python-escpos would never try again otherwise
            raise _printer_error(e, "open", self.description, self.timeout) from e
        self._opened = True

    def _fail(self, e: BaseException, phase: str) -> PrinterError:
        error = _printer_error(e, phase, self.description, self.timeout)
        if hasattr(self.device, "failed"):
            self.device.failed = True
        self._reset()
        return error

    def _reset(self) -> None:
        """Close the device after a failure: the next check() or send() opens it again."""
        self._opened = False
        if self._stuck:
            return
        try:
            self._call(self.device.close)
        except Exception as e:  # noqa: BLE001 - the original error matters, not this one
            log.debug("%s: close after a failure: %s", self.description, type(e).__name__)

    # -- status

    def can_read(self) -> bool:
        can_read = getattr(self.device, "can_read", None)
        if callable(can_read):
            return bool(can_read())
        escpos = sys.modules.get("escpos.escpos")
        base_read = getattr(getattr(escpos, "Escpos", None), "_read", None)
        read = getattr(type(self.device), "_read", None)
        return read is not None and read is not base_read

    def check(self) -> None:
        self.paper_near_end = False
        if not self.status:
            return
        self._open()
        if not self.can_read():
            log.debug("%s cannot report its status", self.description)
            return
        try:
            printer = self._query(1)
            offline = self._query(2) if printer is not None else None
            paper = self._query(4) if offline is not None else None  # a printer that stopped answering
        except _CannotTell:
            log.debug("%s cannot report its status", self.description)
            return
        if printer is None:
            raise PrinterError(f"{self.description} did not answer the status query within "
                               f"{self.timeout:g} s: switched off or not connected (a printer that "
                               "cannot report status needs status=0 in its URI)", kind="offline")
        if offline is not None and offline & S2_COVER_OPEN:
            raise PrinterError(f"{self.description}: the cover is open", kind="cover_open")
        if (offline is not None and offline & S2_PAPER_END_STOP) or (paper is not None and paper & S4_PAPER_END):
            raise PrinterError(f"{self.description}: out of paper", kind="paper_out")
        if offline is not None and offline & S2_ERROR:
            raise PrinterError(f"{self.description} reports an error (cutter jammed or head too hot?)",
                               kind="error")
        if printer is not _UNREADABLE and printer & S1_OFFLINE:
            raise PrinterError(f"{self.description} reports that it is offline", kind="offline")
        if paper is not None and paper & S4_NEAR_END:
            self.paper_near_end = True
            log.warning("%s: the paper roll is nearly used up", self.description)

    def _query(self, n: int):
        """The answer to DLE EOT n as an int; None if none came; _UNREADABLE if it is not a
        status byte (then it says nothing)."""
        self._drain()
        try:
            self._call(self.device._raw, DLE_EOT + bytes([n]))
            answer = self._call(self.device._read)
        except NotImplementedError:
            raise _CannotTell from None
        except Exception as e:
            if _is_timeout(e):
                if self._stuck:
                    self._opened = False
                return None
            raise self._fail(e, "status") from e
        answer = bytes(answer or b"")
        if not answer:
            return None
        byte = answer[-1]
        if byte & FIXED_MASK != FIXED_BITS:
            log.warning("%s: DLE EOT %d answered 0x%02x, not a status byte", self.description, n, byte)
            return _UNREADABLE
        return byte

    def _drain(self) -> None:
        """Drop bytes that arrived unasked (a late answer), so each answer is the right one."""
        drain = getattr(self.device, "drain_input", None)
        try:
            if callable(drain):
                drain()
                return
            sock = getattr(self.device, "_device", None)
            if isinstance(sock, socket.socket):
                sock.setblocking(False)
                try:
                    while sock.recv(256):
                        pass
                except OSError:
                    pass
                finally:
                    sock.settimeout(self.timeout)
        except Exception as e:  # noqa: BLE001 - a failing line shows up on the query itself
            log.debug("%s: drain: %s", self.description, type(e).__name__)

    # -- printing

    def send(self, job: Job) -> None:
        self._open()
        data = memoryview(job.data)
        try:
            for start in range(0, len(data), self.chunk_size):
                self._call(self.device._raw, bytes(data[start:start + self.chunk_size]))
            wait_sent = getattr(self.device, "wait_sent", None)
            if callable(wait_sent):
                self._call(wait_sent)
        except Exception as e:
            raise self._fail(e, "send") from e
        log.info("%s: sent %s (%d bytes)", self.description, job.name, len(data))

    def close(self) -> None:
        self._opened = False
        if self._stuck:
            return
        try:
            self._call(self.device.close)
        except Exception as e:  # noqa: BLE001 - nothing to do about it
            log.debug("%s: close: %s", self.description, type(e).__name__)


class _Unreadable(int):
    def __repr__(self) -> str:
        return "_UNREADABLE"


_UNREADABLE = _Unreadable(0)  # an answer that is not a status byte: no bit of it means anything


def _is_timeout(e: BaseException) -> bool:
    if isinstance(e, TimeoutError):  # socket.timeout too; _Stalled
        return True
    for module, name in (("usb.core", "USBTimeoutError"), ("serial", "SerialTimeoutException")):
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(e, cls):
            return True
    return False


def _errno(e: BaseException) -> int | None:
    """The errno of an exception or of what it was raised from (pyserial wraps OSError)."""
    for _ in range(4):
        code = getattr(e, "errno", None)
        if isinstance(code, int) and code > 0:
            return code
        e = e.__cause__ or e.__context__
        if e is None:
            return None
    return None


_GONE = {errno.EPIPE, errno.EIO, errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ECONNRESET,
         errno.ECONNABORTED, errno.ESHUTDOWN}
_UNREACHABLE = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN,
                errno.ENETDOWN, errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EBUSY}


def _printer_error(e: BaseException, phase: str, where: str, timeout: float) -> PrinterError:
    """A device's exception as a PrinterError. `phase`: open, status or send. The message
    names the device and the cause (an errno's text), never the exception's own text,
    which may quote what was being printed."""
    if isinstance(e, PrinterError):
        return e
    cause = e
    escpos_errors = sys.modules.get("escpos.exceptions")
    not_found = getattr(escpos_errors, "DeviceNotFoundError", ())
    if not_found and isinstance(e, not_found):
        cause = e.__cause__ or e.__context__ or e
    code = _errno(cause)
    reason = os.strerror(code) if isinstance(code, int) and code > 0 else type(cause).__name__
    if _is_timeout(cause):
        if phase == "open":
            return PrinterError(f"{where} did not answer within {timeout:g} s", kind="offline")
        return PrinterError(f"{where} took no data for {timeout:g} s", kind="timeout")
    if isinstance(cause, socket.gaierror):
        return PrinterError(f"{where}: cannot find the printer's host name", kind="offline")
    if code in (errno.EACCES, errno.EPERM):
        return PrinterError(f"{where}: permission denied (add the kiosk's user to the printer's group "
                            "or a udev rule)", kind="config")
    if phase == "open":
        if isinstance(cause, AssertionError) or code in _UNREACHABLE:
            return PrinterError(f"{where}: printer not found or not answering ({reason}): unplugged "
                                "or switched off?", kind="offline")
        return PrinterError(f"{where}: cannot open the printer ({reason})", kind="offline")
    serial_exception = getattr(sys.modules.get("serial"), "SerialException", ())
    if (isinstance(cause, (ConnectionError, BrokenPipeError)) or code in _GONE
            or (serial_exception and isinstance(cause, serial_exception))):
        return PrinterError(f"{where}: connection to the printer lost ({reason})", kind="disconnected")
    if isinstance(cause, OSError):
        return PrinterError(f"{where}: the printer failed ({reason})", kind="disconnected")
    return PrinterError(f"{where}: unexpected {type(cause).__name__}", kind="error")


# --------------------------------------------------------------------------- files, CUPS, preview


class FileBackend(Backend):
    """Writes the job to a device file (/dev/usb/lp0) or a plain file (appended; made if
    missing, except under /dev/). The file is opened non-blocking for each job and each piece must go out within the timeout:
    a printer that stops taking data cannot block the kiosk (a blocking write to
    /dev/usb/lp0 waits for ever)."""

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
            self._write_all(fd, memoryview(job.data))
        finally:
            os.close(fd)
        log.info("%s: sent %s (%d bytes)", self.description, job.name, len(job.data))

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

        png = (preview.render_png(job.document, job.profile) if self.font is None
               else preview.render_png(job.document, job.profile, font=self.font))
        if hasattr(png, "save"):  # a PIL image
            import io

            buffer = io.BytesIO()
            png.save(buffer, format="PNG")
            png = buffer.getvalue()
        text = preview.render_text(job.document, job.profile)
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

