"""A small ESC/POS stream parser for the tests: command by command, text runs between.

`parse(data)` walks the bytes and returns `Command`s and `TextRun`s in order (a `Stream`:
a list, with `.text_runs` and `.commands`). It knows the commands the renderer (and
python-escpos' `Dummy`, for what we let it emit) and the backends' status queries produce,
with their exact parameter lengths; an unknown command byte raises `UnknownCommand`
instead of being read as text, so a stray byte cannot hide in a run.

Text runs are the bytes between commands. In GB18030 every byte of a multi-byte character
is >= 0x30 (lead bytes 0x81-0xFE), so a control byte (< 0x20, 0x7F) never occurs inside a
character: splitting at control bytes never cuts one.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, FS, GS, LF, DLE = 0x1B, 0x1C, 0x1D, 0x0A, 0x10


class UnknownCommand(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    name: str  # e.g. "ESC @", "GS ( k", "LF"
    params: bytes = b""  # fixed parameters (n, or m xL xH yL yH, or cn fn m for GS ( k)
    data: bytes = b""  # variable data: GS ( k payload after cn fn, GS v 0 raster bits
    offset: int = 0

    def __repr__(self) -> str:
        extra = f" {self.params.hex(' ')}" if self.params else ""
        return f"<{self.name}{extra}{f' +{len(self.data)}B' if self.data else ''}>"


@dataclass(frozen=True)
class TextRun:
    data: bytes
    offset: int = 0


Item = Command | TextRun

# Fixed-length commands: prefix bytes -> (name, number of parameter bytes)
_FIXED = {
    bytes((ESC, 0x40)): ("ESC @", 0),
    bytes((ESC, 0x24)): ("ESC $", 2),  # nL nH: absolute print position, in motion units (dots)
    bytes((ESC, 0x74)): ("ESC t", 1),
    bytes((ESC, 0x52)): ("ESC R", 1),
    bytes((ESC, 0x45)): ("ESC E", 1),
    bytes((ESC, 0x61)): ("ESC a", 1),
    bytes((ESC, 0x64)): ("ESC d", 1),
    bytes((ESC, 0x4A)): ("ESC J", 1),
    bytes((ESC, 0x21)): ("ESC !", 1),
    bytes((ESC, 0x25)): ("ESC %", 1),  # n: user-defined character set on (bit 0 set) / off
    bytes((ESC, 0x2D)): ("ESC -", 1),
    bytes((ESC, 0x32)): ("ESC 2", 0),
    bytes((ESC, 0x33)): ("ESC 3", 1),
    bytes((FS, 0x26)): ("FS &", 0),
    bytes((FS, 0x2E)): ("FS .", 0),
    bytes((FS, 0x21)): ("FS !", 1),
    bytes((GS, 0x21)): ("GS !", 1),
    bytes((GS, 0x72)): ("GS r", 1),
}


class Stream(list):
    """The parsed items in order (a list), with the text runs and commands at hand."""

    @property
    def text_runs(self) -> list[bytes]:
        return text_runs(self)

    @property
    def commands(self) -> list[Command]:
        return commands(self)


def parse(data: bytes) -> Stream:
    items = Stream()
    i, n = 0, len(data)
    text_start = 0

    def flush(end: int) -> None:
        if end > text_start:
            items.append(TextRun(data[text_start:end], text_start))

    while i < n:
        b = data[i]
        if b >= 0x20 and b != 0x7F:
            i += 1
            continue
        flush(i)
        start = i
        if b == LF:
            items.append(Command("LF", offset=start))
            i += 1
        elif b == DLE and data[i + 1 : i + 2] == b"\x04":  # DLE EOT n: real-time status (backends)
            params = data[i + 2 : i + 3]
            if len(params) != 1:
                raise UnknownCommand(f"truncated DLE EOT at offset {start}")
            items.append(Command("DLE EOT", params, offset=start))
            i += 3
        elif b in (ESC, FS, GS):
            prefix = data[i : i + 2]
            if prefix in _FIXED:
                name, count = _FIXED[prefix]
                params = data[i + 2 : i + 2 + count]
                if len(params) != count:
                    raise UnknownCommand(f"truncated {name} at offset {start}")
                items.append(Command(name, params, offset=start))
                i += 2 + count
            elif prefix == bytes((GS, 0x28)) and data[i + 2 : i + 3] == b"k":  # GS ( k pL pH cn fn [m] d...
                if i + 5 > n:
                    raise UnknownCommand(f"truncated GS ( k at offset {start}")
                pl, ph = data[i + 3], data[i + 4]
                length = pl + 256 * ph
                body = data[i + 5 : i + 5 + length]
                if len(body) != length or length < 2:
                    raise UnknownCommand(f"truncated GS ( k at offset {start}")
                items.append(Command("GS ( k", body[:2], body[2:], offset=start))
                i += 5 + length
            elif prefix == bytes((GS, 0x76)) and data[i + 2 : i + 3] == b"0":  # GS v 0 m xL xH yL yH d...
                params = data[i + 3 : i + 8]
                if len(params) != 5:
                    raise UnknownCommand(f"truncated GS v 0 at offset {start}")
                width = params[1] + 256 * params[2]
                height = params[3] + 256 * params[4]
                bits = data[i + 8 : i + 8 + width * height]
                if len(bits) != width * height:
                    raise UnknownCommand(f"truncated GS v 0 raster at offset {start}")
                items.append(Command("GS v 0", params, bits, offset=start))
                i += 8 + width * height
            elif prefix == bytes((ESC, 0x26)):  # ESC & y c1 c2 [x d1...d(y*x)] for each code c1..c2
                head = data[i + 2 : i + 5]
                if len(head) != 3 or not (32 <= head[1] <= head[2] <= 126) or head[0] == 0:
                    raise UnknownCommand(f"bad ESC & at offset {start}")
                j = i + 5
                for _ in range(head[2] - head[1] + 1):
                    if j >= n:
                        raise UnknownCommand(f"truncated ESC & at offset {start}")
                    j += 1 + head[0] * data[j]
                if j > n:
                    raise UnknownCommand(f"truncated ESC & at offset {start}")
                items.append(Command("ESC &", head, data[i + 5 : j], offset=start))
                i = j
            elif prefix == bytes((GS, 0x56)):  # GS V m [n]
                m = data[i + 2 : i + 3]
                if not m:
                    raise UnknownCommand(f"truncated GS V at offset {start}")
                count = 2 if m[0] in (65, 66, 97, 98, 103, 104) else 1
                params = data[i + 2 : i + 2 + count]
                items.append(Command("GS V", params, offset=start))
                i += 2 + count
            else:
                raise UnknownCommand(f"unknown command {prefix.hex(' ')} at offset {start}")
        else:
            raise UnknownCommand(f"unknown control byte {b:#04x} at offset {start}")
        text_start = i
    flush(n)
    return items


def commands(items: list[Item], name: str | None = None) -> list[Command]:
    return [c for c in items if isinstance(c, Command) and (name is None or c.name == name)]


def text_runs(items: list[Item]) -> list[bytes]:
    return [t.data for t in items if isinstance(t, TextRun)]


def qr_stores(items: list[Item]) -> list[bytes]:
    """The data stored by `GS ( k` cn=49 fn=80 (store QR symbol data: m=48, then data)."""
    out = []
    for c in commands(items, "GS ( k"):
        if c.params == b"1P":
            assert c.data[:1] == b"0", "fn 80 takes m = 48"
            out.append(c.data[1:])
    return out


def qr_module_sizes(items: list[Item]) -> list[int]:
    """The module sizes set by `GS ( k` cn=49 fn=67."""
    return [c.data[0] for c in commands(items, "GS ( k") if c.params == b"1C"]


def raster_image(command: Command):
    """A `GS v 0` command back to a Pillow image: black dots on white paper."""
    from PIL import Image

    assert command.name == "GS v 0"
    width_bytes = command.params[1] + 256 * command.params[2]
    height = command.params[3] + 256 * command.params[4]
    inverted = bytes(255 - b for b in command.data)  # ESC/POS: 1 = dot; Pillow "1": 1 = white
    return Image.frombytes("1", (width_bytes * 8, height), inverted)


def user_characters(command: Command) -> dict[int, tuple[int, bytes]]:
    """What an `ESC &` defines: code -> (width in dots, column-major bytes, y per column)."""
    assert command.name == "ESC &"
    y, first, last = command.params
    out, j = {}, 0
    for code in range(first, last + 1):
        x = command.data[j]
        out[code] = (x, command.data[j + 1 : j + 1 + y * x])
        j += 1 + y * x
    return out


def user_character_image(x: int, bits: bytes, y: int = 3):
    """A user-defined character as an ink image (mode "1", 1 = dot): x columns, 8y dots high,
    each column y bytes from the top, the top dot the high bit."""
    from PIL import Image

    img = Image.new("1", (x, 8 * y), 0)
    for col in range(x):
        for row in range(8 * y):
            if bits[col * y + row // 8] >> (7 - row % 8) & 1:
                img.putpixel((col, row), 1)
    return img


def position(command: Command) -> int:
    """The `ESC $ nL nH` position: nL + 256 nH (dots from the left margin)."""
    assert command.name == "ESC $"
    return command.params[0] + 256 * command.params[1]


def replay_lines(items: list[Item], dots_per_column: int = 12) -> list[str]:
    """The text lines as they print, each `ESC $` turned back into spaces up to its column
    (dots / 12, / 24 after `GS !` 0x11, whose double width `ESC $` does not scale): one string
    per LF that ends a line with text on it (blank LFs are left out). A position left of where
    the text already is fails."""
    from printer.width import columns_of

    lines: list[str] = []
    line, size = "", 1
    for item in items:
        if isinstance(item, TextRun):
            line += item.data.decode("gb18030")
        elif item.name == "GS !":
            size = (item.params[0] >> 4 & 0x07) + 1  # width magnification: bits 4-6
        elif item.name == "ESC $":
            dots, unit = position(item), dots_per_column * size
            assert dots % unit == 0, f"ESC $ {dots} is not on a column of {unit} dots"
            column = dots // unit
            assert column >= columns_of(line), f"ESC $ to column {column} left of {line!r}"
            line += " " * (column - columns_of(line))
        elif item.name in ("LF", "ESC d", "GS V"):
            if line:
                lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return lines


def dump(items: list[Item]) -> str:
    """A readable listing, one item per line (golden files, failure messages)."""
    out = []
    for item in items:
        if isinstance(item, TextRun):
            try:
                out.append(f"TEXT {item.data.decode('gb18030')!r}")
            except UnicodeDecodeError:
                out.append(f"BYTES {item.data.hex(' ')}")
        elif item.name == "GS ( k":
            out.append(f"GS ( k {item.params!r} {item.data!r}")
        elif item.name == "ESC $":
            out.append(f"ESC $ {position(item)} dots")
        elif item.name == "GS v 0":
            p = item.params
            out.append(f"GS v 0 m={p[0]} {(p[1] + 256 * p[2]) * 8}x{p[3] + 256 * p[4]} dots")
        else:
            out.append(repr(item)[1:-1])
    return "\n".join(out) + "\n"
