"""Printers driven through python-escpos: usb://, serial:// and tcp:// (see printer.uri),
or any python-escpos printer object handed to EscposBackend. A job goes out with the
device's `_raw()` in 4 KB pieces, each within the timeout, or on a serial port at the line's
own pace, failing only when no byte moved for the timeout; with `status=1` the printer's
real-time status (DLE EOT) is read before printing, and after the job, once the line has
taken every byte, the printer is asked again (the profile's `confirm`): only its answer
makes the job printed. Device exceptions become PrinterErrors of the right kind.

python-escpos (~185 ms to import), pyserial and pyusb are imported only when a backend for
them is opened; importing this module is cheap.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import socket
import struct
import sys
import termios
import threading
import time
from typing import TYPE_CHECKING, Literal

from .escpos_import import import_escpos
from .job import CHUNK_SIZE, Backend
from .labels.status import LABEL_STATUS, READY, LabelStatus
from .uri import DEFAULT_TIMEOUT, PrinterError, PrinterSpec, _config

if TYPE_CHECKING:
    # pyserial and pyusb ship no type information (no py.typed; typeshed's pyserial stubs are not
    # among the dev dependencies): to mypy their objects are Any, named here for the annotations.
    import serial  # type: ignore[import-untyped]
    import usb.core  # type: ignore[import-untyped]

    from .job import Job

log = logging.getLogger(__name__)

# DLE EOT n: real-time status, one byte answer (Epson ESC/POS; the same on the Chinese clones).
DLE_EOT = b"\x10\x04"
# GS r 1: transmit paper sensor status, answered in turn with the data before it.
GS_R_PAPER = b"\x1dr\x01"
GS_R_MASK = 0x90  # bits 4 and 7 always off
GS_R_PAPER_END = 0x0C  # bits 2-3: roll paper end
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bits 0 and 7 always off, bits 1 and 4 always on
S1_OFFLINE = 0x08  # n=1 printer status: bit 3 offline
S2_COVER_OPEN = 0x04  # n=2 offline cause: bit 2 cover open
S2_PAPER_END_STOP = 0x20  # bit 5 printing stopped by paper end
S2_ERROR = 0x40  # bit 6 error (auto-cutter jam, head too hot, ...)
S4_NEAR_END = 0x0C  # n=4 roll paper sensor: bits 2-3 near end
S4_PAPER_END = 0x60  # bits 5-6 paper end
LABEL_STATUS_PAUSE = 0.1  # seconds between a label printer's answer and the next question
# A label printer's "idle" counts as printed only once it has said nothing else for this long.
# TSPL answers <ESC>!? the moment it arrives, not after the commands before it: idle may be
# before the printer has read PRINT, or between two labels while it reads the next one's
# bitmaps. ZPL's ~HS counts the formats waiting and the labels left in the batch, but the manual
# does not say it counts the format being laid out: a one-label job may read idle before it
# starts. Every byte of the job has reached the printer before it is asked (_flush), and
# reading a label's commands from its own buffer takes a printer well under this.
LABEL_IDLE_SETTLE = 1.0
# Each answer gives the printer another `timeout` (ten 30 mm labels at 2 ips take 6 s, longer
# than the 5 s default), up to this: a ticket's most labels (100 lines) take about a minute,
# and a printer still "printing" after five is stuck.
LABEL_PRINTING_LIMIT = 300.0
LINE_POLL = 0.05  # seconds at most between two looks at how much a serial port still holds
LINE_BURST = 0.1  # seconds of line time handed to a serial port at once, at most


def _escpos_device(spec: PrinterSpec):
    """A python-escpos printer object for a usb, serial or tcp spec (not opened), and the
    EscposBackend options that go with it."""
    import_escpos()
    if spec.scheme == "tcp":
        # python-escpos ships no type information (no py.typed, no stubs in typeshed)
        from escpos.printer import Network  # type: ignore[import-untyped]

        return Network(host=spec.target, port=spec.port, timeout=spec.timeout), {}
    if spec.scheme == "serial":
        try:
            import serial  # noqa: F401
        except ImportError:
            raise _config("serial:// printers need pyserial: pip install pyserial") from None
        serial_cls = _escpos_classes()["serial"]
        return serial_cls(
            devfile=spec.target, baudrate=spec.baudrate, bytesize=spec.bytesize, parity=spec.parity,
            stopbits=spec.stopbits, xonxoff=spec.xonxoff, dsrdtr=spec.dsrdtr, rtscts=spec.rtscts,
            timeout=spec.timeout,
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
    from escpos.exceptions import DeviceNotFoundError  # type: ignore[import-untyped]  # as above
    from escpos.printer import Serial, Usb

    class KioskSerial(Serial):
        """Serial with a write timeout (python-escpos sets none: a printer holding the
        flow-control line would block forever), RTS/CTS, jobs sent at the line's pace
        (`send_paced`), a one-byte status read (its read(16) always waits out the whole
        timeout) and a close that does not tcdrain (which has no timeout) after a failed job."""

        # python-escpos' own declaration, which mypy cannot read (no py.typed): False until
        # opened, None once an open failed (`device` is a property over it).
        _device: Literal[False] | None | serial.Serial

        def __init__(self, *, rtscts: bool, **kwargs) -> None:
            super().__init__(**kwargs)
            self.rtscts = rtscts
            self.failed = False

        def open(self, raise_not_found: bool = True) -> None:
            import serial

            if self._device:
                self.close()
            try:
                self.device = serial.Serial(
                    port=self.devfile, baudrate=self.baudrate, bytesize=self.bytesize, parity=self.parity,
                    stopbits=self.stopbits, timeout=self.timeout, write_timeout=self.timeout,
                    xonxoff=self.xonxoff, rtscts=self.rtscts, dsrdtr=self.dsrdtr, exclusive=True,
                )
            except (ValueError, serial.SerialException) as e:
                self.device = None
                raise DeviceNotFoundError(f"Unable to open serial printer on {self.devfile}") from e

        def _read(self) -> bytes:
            assert self.device
            return self.device.read(1)

        def send_paced(self, data: bytes) -> None:
            """Send a job at the line's pace and return once the port has sent all of it.
            Bytes are handed over no faster than the line carries them at its baud rate, and
            the port never holds more than ~1 s of line time (out_waiting): a slow line, or a
            printer holding RTS/CTS or XON/XOFF while it prints an image, is waited for as
            long as bytes keep moving. SerialTimeoutException only once no byte has moved for
            `timeout` seconds; the port then holds at most ~1 s of the job, which close()
            drops, and the job is sent again whole. A pty has no line speed, always reports
            0 in out_waiting and takes ~14-20 KB at once: there a byte "moved" when the pty
            took it, and the baud rate alone keeps the job from running ahead."""
            port = self._device
            assert port, "send_paced() on a closed port"  # EscposBackend.send() opens the device first
            rate = self.baudrate / (1 + self.bytesize + (self.parity != "N") + self.stopbits)  # bytes/s
            most = max(1, int(rate))  # ~1 s of line time
            burst = max(1, int(rate * LINE_BURST))
            view = memoryview(data)
            sent = held = 0
            moved = then = time.monotonic()
            allowance = float(burst)
            while True:
                now = time.monotonic()
                allowance = min(burst, allowance + (now - then) * rate)
                then = now
                queued = port.out_waiting
                if queued < held:
                    moved = now
                full = False
                size = min(int(allowance), most - queued, len(view) - sent)
                if size > 0:
                    try:
                        taken = os.write(port.fd, view[sent:sent + size])
                    except BlockingIOError:
                        taken = 0
                    full = taken < size
                    if taken:
                        sent += taken
                        queued += taken
                        allowance -= taken
                        moved = time.monotonic()
                held = queued
                if sent == len(view) and not queued:
                    return
                idle = time.monotonic() - moved
                if idle >= self.timeout:
                    raise serial_module().SerialTimeoutException(f"no byte moved for {idle:.1f} s")
                wait = min(LINE_POLL, self.timeout - idle)
                if full:
                    select.select([], [port.fd], [], wait)  # until the port takes more
                    allowance, then = 0.0, time.monotonic()  # a held line carried nothing meanwhile
                else:
                    time.sleep(wait)

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

        # python-escpos' own declarations, which mypy cannot read (no py.typed): `_device` is
        # False until opened, None once an open failed; `device` is a property over it.
        _device: Literal[False] | None | usb.core.Device
        device: usb.core.Device | None
        in_ep: int
        out_ep: int

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
                # super().open() raised unless it found the printer; its check is an assert,
                # gone under `python -O`, and then `device` may be None here.
                if self.device is not None:
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
                    import usb.util  # type: ignore[import-untyped]  # untyped, as at the top

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
    the job with the device's `_raw()` in pieces (or its own `send_paced()`), and reads
    real-time status with its `_raw()` / `_read()` where the device has a `_read()`.

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
        sock = getattr(self.device, "_device", None)
        if isinstance(sock, socket.socket):
            # Close with a reset: bytes still queued are dropped, not delivered later behind
            # the job's failure (the spool sends the whole job again).
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
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
            answers = self._real_time_status()
        except _CannotTell:
            log.debug("%s cannot report its status", self.description)
            return
        if answers[0] is None:
            raise PrinterError(f"{self.description} did not answer the status query within "
                               f"{self.timeout:g} s: switched off or not connected (a printer that "
                               "cannot report status needs status=0 in its URI)", kind="offline")

    def _real_time_status(self) -> tuple:
        """DLE EOT 1, 2 and 4: raises the fault the printer reports, else returns the three
        answers (None from where it stopped answering). _CannotTell if the device cannot read."""
        printer = self._query(DLE_EOT + b"\x01")
        offline = self._query(DLE_EOT + b"\x02") if printer is not None else None
        paper = self._query(DLE_EOT + b"\x04") if offline is not None else None  # a printer that stopped answering
        if offline is not None and offline & S2_COVER_OPEN:
            raise PrinterError(f"{self.description}: the cover is open", kind="cover_open")
        if (offline is not None and offline & S2_PAPER_END_STOP) or (paper is not None and paper & S4_PAPER_END):
            raise PrinterError(f"{self.description}: out of paper", kind="paper_out")
        if offline is not None and offline & S2_ERROR:
            raise PrinterError(f"{self.description} reports an error (cutter jammed or head too hot?)",
                               kind="error")
        if printer is not None and printer is not _UNREADABLE and printer & S1_OFFLINE:
            raise PrinterError(f"{self.description} reports that it is offline", kind="offline")
        if paper is not None and paper & S4_NEAR_END:
            self.paper_near_end = True
            log.warning("%s: the paper roll is nearly used up", self.description)
        return printer, offline, paper

    def _transmit_status(self) -> bool:
        """GS r 1, answered once the printer has processed everything before it: raises
        paper_out if the roll ran out; True when it answered."""
        paper = self._query(GS_R_PAPER, GS_R_MASK, 0)
        if paper is None or paper is _UNREADABLE:
            return False
        if paper & GS_R_PAPER_END:
            raise PrinterError(f"{self.description}: out of paper", kind="paper_out")
        return True

    def _label_status(self, status: LabelStatus) -> bool:
        """A label printer's status (TSPL <ESC>!?, ZPL ~HS), asked again and again: True once
        it has answered idle, with no fault and no "printing" between, for LABEL_IDLE_SETTLE;
        raises the fault it reports; False if an answer did not come within the timeout, was
        not one, or it was still printing after LABEL_PRINTING_LIMIT."""
        started = time.monotonic()
        idle_since = None
        while True:
            reading = self.label_reading(status)
            now = time.monotonic()
            if reading is None:
                return False
            if reading != READY:
                idle_since = None  # printing again: what was idle was a pause between labels
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= LABEL_IDLE_SETTLE:
                return True
            if now - started >= LABEL_PRINTING_LIMIT:
                log.warning("%s still printing after %g s", self.description, LABEL_PRINTING_LIMIT)
                return False
            time.sleep(LABEL_STATUS_PAUSE)

    def label_reading(self, status: LabelStatus) -> str | None:
        """A label printer's state now, asked once in its language: READY or BUSY, None if it
        did not answer within the timeout; raises the fault it reports (`kiosk doctor`)."""
        self._open()
        answer = self._answer(status.query, status.complete, time.monotonic() + self.timeout)
        return status.read(answer, self.description) if answer is not None else None

    def _answer(self, command: bytes, complete, deadline: float) -> bytes | None:
        """The whole answer to a status command of several bytes; None if it did not all come
        before `deadline` (each read waits at most the timeout)."""
        self._drain()
        answer = b""
        try:
            self._call(self.device._raw, command)
            while not complete(answer) and time.monotonic() < deadline:
                piece = bytes(self._call(self.device._read) or b"")
                if not piece:
                    break
                answer += piece
        except NotImplementedError:
            raise _CannotTell from None
        except Exception as e:
            if not _is_timeout(e):
                raise self._fail(e, "status") from e
            if self._stuck:
                self._opened = False
        return answer if complete(answer) else None

    def _query(self, command: bytes, mask: int = FIXED_MASK, bits: int = FIXED_BITS):
        """The one-byte answer to a status command as an int; None if none came;
        _UNREADABLE if its fixed bits (`mask`, `bits`) are wrong (then it says nothing)."""
        self._drain()
        try:
            self._call(self.device._raw, command)
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
        if byte & mask != bits:
            log.warning("%s: %s answered 0x%02x, not a status byte", self.description, command.hex(" "), byte)
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
        """Print the job, and return once the printer said it has it: asked after every byte
        went out (`job.profile.confirm`). Raises PrinterError; `delivered` when every byte
        went out but the printer did not confirm (printer.uri.PrinterError)."""
        self._open()
        data = memoryview(job.data)
        paced = getattr(self.device, "send_paced", None)
        try:
            if callable(paced):
                paced(bytes(data))  # not under the guard: its deadline runs from the last byte that moved
            else:
                for start in range(0, len(data), self.chunk_size):
                    self._call(self.device._raw, bytes(data[start:start + self.chunk_size]))
                self._call(self._flush)
        except Exception as e:
            raise self._fail(e, "send") from e
        log.info("%s: sent %s (%d bytes)", self.description, job.name, len(data))
        self._confirm(job)

    def _flush(self) -> None:
        """Wait until the line has taken every byte: a network printer acknowledged them
        (the socket's send queue is empty). A printer that stops taking data times out
        here, instead of the bytes counting as sent because the local buffer took them.
        (A serial port's `send_paced` waits for its UART itself.)"""
        sock = getattr(self.device, "_device", None)
        if isinstance(sock, socket.socket):
            _wait_acknowledged(sock, self.timeout)

    def _confirm(self, job: Job) -> None:
        """Ask the printer, after the job, whether it has it; return only if it says so."""
        way = job.profile.confirm
        if not self.status or way == "none" or not self.can_read():
            raise PrinterError(f"{self.description} cannot say whether it printed {job.name}",
                               kind="unconfirmed", delivered=True)
        try:
            if way == "gs_r":
                answered = self._transmit_status()
            elif way in LABEL_STATUS:
                answered = self._label_status(LABEL_STATUS[way])
            else:
                answered = all(a is not None and a is not _UNREADABLE for a in self._real_time_status())
        except _CannotTell:
            answered = False
        except PrinterError as e:
            # Every byte of the job went out (and a network printer acknowledged them) before
            # this question: whatever fails now, out of paper or the line dropped, the job may
            # have printed. Unconfirmed, then: offered to a person, never sent again by itself.
            log.warning("%s: %s after %s", self.description, e.kind, job.name)
            raise PrinterError(f"{self.description} did not say whether it printed {job.name}: {e}",
                               kind="unconfirmed" if e.kind in ("disconnected", "timeout") else e.kind,
                               delivered=True) from e
        if not answered:
            raise PrinterError(f"{self.description} did not say within {self.timeout:g} s that it "
                               f"printed {job.name}", kind="unconfirmed", delivered=True)
        log.info("%s: confirmed %s", self.description, job.name)

    def close(self) -> None:
        self._opened = False
        if self._stuck:
            return
        try:
            self._call(self.device.close)
        except Exception as e:  # noqa: BLE001 - nothing to do about it
            log.debug("%s: close: %s", self.description, type(e).__name__)


def _wait_acknowledged(sock: socket.socket, timeout: float) -> None:
    """Wait until the peer has acknowledged every byte sent on `sock` (Linux SIOCOUTQ: bytes
    not yet acknowledged); TimeoutError if the count stays put for `timeout` seconds. A
    printer still taking data slowly is not cut off. Elsewhere it returns at once."""
    def unacknowledged() -> int:
        left = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        # A reset leaves the queue as it was: bytes still in it are lost. None left: every
        # byte was acknowledged before it, and the job is the printer's (asked about next).
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if left else 0
        if error:
            raise OSError(error, os.strerror(error))
        return left

    try:
        left = unacknowledged()
    except AttributeError:  # no TIOCOUTQ here
        return
    except OSError as e:
        if e.errno in (errno.ENOTTY, errno.EINVAL, errno.EOPNOTSUPP):  # not for sockets here
            return
        raise
    deadline = time.monotonic() + timeout
    while left:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{left} bytes not taken by the printer")
        time.sleep(0.01)
        now_left = unacknowledged()
        if now_left < left:
            deadline = time.monotonic() + timeout
        left = now_left


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
    link = e
    for _ in range(4):
        code = getattr(link, "errno", None)
        if isinstance(code, int) and code > 0:
            return code
        following = link.__cause__ or link.__context__
        if following is None:
            return None
        link = following
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
