"""Configuration: a small TOML file, validated strictly (a typo is an error, not a default).

Where it is read from: `--config FILE`, else $KIOSK_CONFIG, else `kiosk.toml` in the
platform config directory if it exists, else the embedded defaults. $KIOSK_DATA_DIR
moves the data directory (database, preview output) without a config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_NAME = "metrology-kiosk"
LANGUAGES = ("zh", "en")
PICKUP_DAYS = 30  # kiosk.pickup_days when neither the file nor a storage charge says otherwise
CORRECTION_DAYS = 2  # kiosk.correction_days: kiosk/domain/certificate_check.py RETURN_DAYS


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    """The kiosk's settings, as `load_config` read and checked them."""  # a docstring: see Text

    data_dir: Path
    database: Path
    language: str = "zh"
    device_prefix: str = ""  # empty: derived from the device id on first start
    info_file: Path | None = None  # the welcome screen's texts; empty: the built-in demo
    idle_seconds: int = 90  # no touch for this long: the form is wiped, the welcome returns
    idle_warning_seconds: int = 20  # the countdown shown before the wipe
    ticket_seconds: int = 60  # the ticket screen returns to the welcome screen by itself
    # The maintenance PIN of older configurations, in plain text: moved into the database (hashed)
    # at the kiosk's start, or unused if one is set there (kiosk/store/maintenance.py); None: not given.
    maintenance_pin: str | None = None
    policy_file: Path | None = None  # empty: the built-in demo pricing policy
    # Receipts: a printer URI (usb://, serial://, tcp://, file://, cups://, preview://; a
    # relative preview directory is under data_dir), its profile, and a CJK font for
    # printers without a Chinese font (empty: found on the system, else the bundled one).
    printer_uri: str = "preview://receipts"
    printer_profile: str = "58mm"
    printer_font: Path | None = None
    # Instrument labels at intake (printer/labels/): a label printer's URI (the schemes of
    # printer_uri; empty: the labels print on the receipt printer, one per cut), the language it
    # speaks (tspl | zpl), its label stock (printer/labels/document.py MEDIA) and whether it takes
    # the QR code as its own command or as an image (native | image).
    label_uri: str = ""
    label_language: str = "tspl"
    label_size: str = "40x30"
    label_qr: str = "native"
    # Days off besides weekends, for working-day deadlines (feedback follow-ups): a text file,
    # one ISO date per line, `DATE workday` for a worked weekend day, # comments
    # (kiosk/domain/holidays.py). Empty: weekends only.
    holidays_file: Path | None = None
    # kiosk.pickup_days as the file gives it (None: not given); read `pickup_days` below.
    pickup_days_given: int | None = None
    # Working days the lab is given to correct a certificate returned at the dispatch check (the
    # corrected one's promise, issue 23; central has its own, for returns that name none).
    correction_days: int = CORRECTION_DAYS
    # The institute's time zone, for every date a person sees or a rule counts (kiosk/domain/clock.py):
    # not the machine's, which is often UTC.
    time_zone: str = "Asia/Shanghai"
    source: Path | None = None  # the file this came from, for messages

    @property
    def pickup_days(self) -> int:
        """Days a customer has to collect once the certificates are ready (the institute's
        commitment); after that the desk's work list shows the ticket as overdue. One fact: a
        pricing policy that charges storage starts it after its free days (load_config has checked
        that a kiosk.pickup_days given agrees), and a ticket is overdue from the same day."""
        from kiosk.settings.pricing import configured_policy  # the policy: read when first asked

        storage = configured_policy().storage
        if storage is not None:
            return storage.free_days
        return PICKUP_DAYS if self.pickup_days_given is None else self.pickup_days_given


# section -> key -> (type, attribute)
SCHEMA: dict[str, dict[str, tuple[type, str]]] = {
    "kiosk": {
        "language": (str, "language"),
        "device_prefix": (str, "device_prefix"),
        "info_file": (str, "info_file"),
        "idle_seconds": (int, "idle_seconds"),
        "idle_warning_seconds": (int, "idle_warning_seconds"),
        "ticket_seconds": (int, "ticket_seconds"),
        "maintenance_pin": (str, "maintenance_pin"),
        "holidays_file": (str, "holidays_file"),
        "pickup_days": (int, "pickup_days"),
        "correction_days": (int, "correction_days"),
        "time_zone": (str, "time_zone"),
    },
    "database": {"path": (str, "database")},
    "pricing": {"policy": (str, "policy_file")},
    "printer": {"uri": (str, "printer_uri"), "profile": (str, "printer_profile"), "font": (str, "printer_font")},
    "labels": {"uri": (str, "label_uri"), "language": (str, "label_language"), "size": (str, "label_size"),
               "qr": (str, "label_qr")},
}


def default_data_dir() -> Path:
    if os.environ.get("KIOSK_DATA_DIR"):
        return Path(os.environ["KIOSK_DATA_DIR"])
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_path(explicit: str | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get("KIOSK_CONFIG"):
        return Path(os.environ["KIOSK_CONFIG"])
    from platformdirs import user_config_dir

    candidate = Path(user_config_dir(APP_NAME, appauthor=False)) / "kiosk.toml"
    return candidate if candidate.exists() else None


def load_config(explicit: str | None = None) -> Config:
    data_dir = default_data_dir()
    values: dict[str, Any] = {}  # each of SCHEMA's type, checked as read
    path = config_path(explicit)
    if path is not None:
        import tomllib  # here: a kiosk on the embedded defaults starts without it (bench/startup.py)

        try:
            raw = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: configuration file not found") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        for section, table in raw.items():
            if section not in SCHEMA or not isinstance(table, dict):
                raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(SCHEMA)})")
            for key, value in table.items():
                if key not in SCHEMA[section]:
                    raise ConfigError(
                        f"{path}: unknown key {section}.{key} (known: {', '.join(SCHEMA[section])})"
                    )
                kind, attribute = SCHEMA[section][key]
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise ConfigError(f"{path}: {section}.{key} must be a {kind.__name__}, not {value!r}")
                values[attribute] = value
    language = values.get("language", "zh")
    if language not in LANGUAGES:
        raise ConfigError(f"{path}: kiosk.language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    prefix = str(values.get("device_prefix", "")).upper()
    if prefix and not (1 <= len(prefix) <= 4 and prefix.isascii() and prefix.isalnum()):
        raise ConfigError(f"{path}: kiosk.device_prefix must be 1–4 letters or digits, not {prefix!r}")
    for key, low, high in (("idle_seconds", 15, 3600), ("idle_warning_seconds", 5, 120),
                           ("ticket_seconds", 5, 600)):
        if key in values and not low <= values[key] <= high:
            raise ConfigError(f"{path}: kiosk.{key} must be {low}–{high} seconds, not {values[key]}")
    if "pickup_days" in values and not 1 <= values["pickup_days"] <= 365:
        raise ConfigError(f"{path}: kiosk.pickup_days must be 1–365 days, not {values['pickup_days']}")
    if "correction_days" in values and not 1 <= values["correction_days"] <= 30:
        raise ConfigError(f"{path}: kiosk.correction_days must be 1–30 working days, not {values['correction_days']}")
    if values.get("idle_warning_seconds", 20) >= values.get("idle_seconds", 90):
        raise ConfigError(f"{path}: kiosk.idle_warning_seconds must be shorter than kiosk.idle_seconds")
    pin = values.get("maintenance_pin")
    if pin is not None and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ConfigError(f"{path}: kiosk.maintenance_pin must be 4–12 digits (better: remove it and use "
                          "`kiosk maintenance-pin set`)")
    # The printer modules that check these are imported only when the file names them: the
    # lobby's first frame does not wait for printer/ (the defaults are known to be good).
    profile = str(values.get("printer_profile", Config.printer_profile))
    if "printer_profile" in values:
        from printer.profiles import PROFILES

        if profile not in PROFILES:
            raise ConfigError(f"{path}: printer.profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    if any(key in values for key in ("label_language", "label_size", "label_qr")):
        from printer.labels.document import MEDIA

        for key, known in (("label_language", ("tspl", "zpl")), ("label_size", tuple(MEDIA)),
                           ("label_qr", ("native", "image"))):
            if key in values and values[key] not in known:
                raise ConfigError(f"{path}: labels.{key.removeprefix('label_')} must be one of {', '.join(known)}, "
                                  f"not {values[key]!r}")
    if values.get("label_uri"):
        from printer.uri import PrinterError, parse_printer_uri

        try:
            parse_printer_uri(values["label_uri"])  # a typo is an error at start, not a lost label
        except PrinterError as e:
            raise ConfigError(f"{path}: labels.uri: {e}") from None
    base = path.parent if path is not None else Path.cwd()
    database = Path(values["database"]) if "database" in values else data_dir / "kiosk.sqlite3"
    policy = values.get("policy_file")
    holidays = None if not values.get("holidays_file") else base / str(values["holidays_file"])
    if holidays is not None:
        from kiosk.domain.holidays import HolidaysError, read_holidays

        try:
            read_holidays(holidays)  # checked now: a typo is an error at start, not a wrong deadline
        except HolidaysError as e:
            raise ConfigError(f"{path}: kiosk.holidays_file: {e}") from None
    from kiosk.settings.pricing import use_built_in_policy, use_policy_file

    pickup_days = None if "pickup_days" not in values else int(values["pickup_days"])
    if not policy and pickup_days is None:
        # Nothing to check: the built-in policy (tested with the package) is read when first
        # asked for, after the lobby's first frame, not here.
        use_built_in_policy()
    else:
        from kiosk.domain.fees import PolicyError

        try:
            charged = use_policy_file(None if not policy else base / str(policy))  # one policy for every path
        except PolicyError as e:
            raise ConfigError(f"{path}: pricing.policy: {e}") from None
        # The pickup period is one fact (Config.pickup_days): a policy that charges storage starts
        # it after its free days, and a ticket is overdue (work list, progress) from the same day.
        if charged.storage is not None and pickup_days is not None and pickup_days != charged.storage.free_days:
            raise ConfigError(f"{path}: kiosk.pickup_days is {pickup_days} but the pricing policy charges storage "
                              f"after {charged.storage.free_days} days: leave pickup_days out or make them agree")
    from kiosk.domain.clock import DEFAULT_ZONE, set_zone, use_default_zone

    zone = str(values.get("time_zone", Config.time_zone))
    try:
        if zone == DEFAULT_ZONE:
            use_default_zone()  # the same zone, made when a date first needs it (after the first frame)
        else:
            set_zone(zone)  # one zone for the whole process, read at start with the rest
    except ValueError as e:
        raise ConfigError(f"{path}: kiosk.time_zone: {e}") from None
    return Config(
        data_dir=data_dir,
        database=database if database.is_absolute() else base / database,
        language=str(language),
        device_prefix=prefix,
        info_file=None if not values.get("info_file") else base / str(values["info_file"]),
        idle_seconds=int(values.get("idle_seconds", Config.idle_seconds)),
        idle_warning_seconds=int(values.get("idle_warning_seconds", Config.idle_warning_seconds)),
        ticket_seconds=int(values.get("ticket_seconds", Config.ticket_seconds)),
        maintenance_pin=pin,
        policy_file=None if not policy else (base / str(policy)),
        printer_uri=str(values.get("printer_uri") or Config.printer_uri),
        printer_profile=profile,
        printer_font=None if not values.get("printer_font") else base / str(values["printer_font"]),
        label_uri=str(values.get("label_uri", "")).strip(),
        label_language=str(values.get("label_language", Config.label_language)),
        label_size=str(values.get("label_size", Config.label_size)),
        label_qr=str(values.get("label_qr", Config.label_qr)),
        holidays_file=holidays,
        pickup_days_given=pickup_days,
        correction_days=int(values.get("correction_days", CORRECTION_DAYS)),
        time_zone=zone,
        source=path,
    )
