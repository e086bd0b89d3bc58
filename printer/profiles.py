"""What a receipt printer can do: paper width, columns, the characters its font has, native QR.

Columns are those of the printer's standard font A (12x24 dots): an ASCII character
takes one column, a Chinese character (any GB18030 double-byte character) two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    dots: int  # printable width in dots (8 dots/mm at 203 dpi)
    columns: int  # font A characters per line
    # The characters its own font prints, by the codec that names them: "gb18030", "gbk" or
    # "gb2312" (a Chinese font: a line within it is sent as text in GB18030 bytes, which are
    # the same as GBK's and GB 2312's for their characters; a line with any character outside
    # it is drawn as an image), "ascii" (no Chinese font: a line of pure ASCII is text, any
    # other line an image), "none" (every line drawn as an image).
    repertoire: str
    native_qr: bool  # understands GS ( k: the QR is sent as data; else drawn as an image
    # How the printer says it has a job, asked after the job's bytes: "dle_eot" (real-time
    # status DLE EOT 1, 2, 4: answered as the query arrives, so after every byte before it),
    # "gs_r" (transmit status GS r 1: answered once the printer has processed the job), or
    # "tspl" / "zpl" (a label printer's own status query, printer/labels/status.py), or
    # "none" (it cannot answer: its jobs are unconfirmed).
    confirm: str = "dle_eot"
    # How it prints the characters its font lacks: "raster" (their line drawn, a GS v 0 image)
    # or "user_chars" (each drawn once as user-defined characters, ESC &, then sent as text
    # among the resident ones: printer/user_chars.py; printers without a Chinese font).
    lacking: str = "raster"
    # Dots a module of a QR sent as an image: 4 scans well off thermal paper; 3 (0.375 mm, a
    # 20 mm code) still does with any 2D scanner or phone, and halves the bytes on slow lines.
    image_qr_module: int = 4

    @property
    def chinese_font(self) -> bool:
        """Has a Chinese font: put in Chinese mode (`FS &`), Chinese lines sent as text."""
        return self.repertoire in CHINESE_REPERTOIRES

    def prints_as_text(self, text: str) -> bool:
        """Whether the printer's own font prints every character of `text` as laid out: each
        ASCII, or (a Chinese font) a two-byte character of its repertoire. GB18030 four-byte
        characters (𠮷, ¥) and characters outside GBK (䶮, €) are not, short of GB18030."""
        if self.repertoire == "none":
            return False
        if text.isascii() or self.repertoire == "gb18030":
            return True
        if self.repertoire == "ascii":
            return False
        try:
            encoded = text.encode(self.repertoire)
        except UnicodeEncodeError:
            return False
        return len(encoded) == sum(1 if c.isascii() else 2 for c in text)


CHINESE_REPERTOIRES = ("gb18030", "gbk", "gb2312")


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("58mm", 384, 32, repertoire="gb18030", native_qr=True),
        Profile("80mm", 576, 48, repertoire="gb18030", native_qr=True),
        Profile("80mm-512", 512, 42, repertoire="gb18030", native_qr=True),
        # Cheap printers with a GBK (or GB 2312) font and no, or another, QR command: text in
        # their font, what it lacks and the QR as images.
        Profile("58mm-imageqr", 384, 32, repertoire="gbk", native_qr=False),
        Profile("80mm-imageqr", 576, 48, repertoire="gbk", native_qr=False),
        Profile("58mm-gb2312", 384, 32, repertoire="gb2312", native_qr=False),
        # The same papers on printers sold abroad (Epson TM-T20III, TM-m30): no Chinese font,
        # native QR; ASCII in their font, every other character drawn as a user-defined one.
        Profile("58mm-ascii", 384, 32, repertoire="ascii", native_qr=True, lacking="user_chars"),
        Profile("80mm-ascii", 576, 48, repertoire="ascii", native_qr=True, lacking="user_chars"),
        # Older ones without a QR command (TM-T88IV): the same, the QR as an image.
        Profile("58mm-ascii-imageqr", 384, 32, repertoire="ascii", native_qr=False, lacking="user_chars",
                image_qr_module=3),
        Profile("80mm-ascii-imageqr", 576, 48, repertoire="ascii", native_qr=False, lacking="user_chars",
                image_qr_module=3),
        # Every line an image: for a printer whose ASCII font cannot be trusted either.
        Profile("58mm-raster", 384, 32, repertoire="none", native_qr=False),
        Profile("80mm-raster", 576, 48, repertoire="none", native_qr=False),
    )
}
DEFAULT_PROFILE = "58mm"
