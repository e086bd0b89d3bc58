"""How a printer is named: the printer URI (the config's `printer_uri`), parsed into a
PrinterSpec, and the PrinterError every printer failure becomes.

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
(DLE EOT) before printing, and again after the job to confirm it (printer.escpos_backend; a
label printer is asked after the job only, in its own language: printer.labels.status); a
printer that does not answer is offline. Printers that cannot report status need `status=0`:
their jobs are then unconfirmed. file, cups and preview have no way back from the printer.

Parsing opens nothing: printer.backends.open_backend turns a PrinterSpec into a backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

DEFAULT_TIMEOUT = 5.0  # seconds
MAX_TIMEOUT = 600.0

KINDS = frozenset({"config", "offline", "paper_out", "cover_open", "disconnected", "timeout", "error",
                   "unconfirmed"})  # unconfirmed: the printer cannot be asked, or did not answer, after the job


class PrinterError(Exception):
    """A print failed, or will. `kind` is one of KINDS; the message is plain English for
    logs and never holds personal data (no receipt content).

    `delivered`: every byte of the job went out, but the printer did not confirm it printed
    them (it cannot be asked, gave no answer, or reported a fault after the job). It may
    still print them (a printer out of paper finishes its buffer on a new roll), so sending
    the job again by itself could print the receipt twice: a person decides."""

    def __init__(self, message: str, kind: str = "error", *, delivered: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown printer error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.delivered = delivered

    def __reduce__(self):
        return (type(self), (str(self), self.kind), {"delivered": self.delivered})


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
