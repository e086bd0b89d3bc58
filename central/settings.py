"""Central's settings, from its environment. Central is a deployable of its own: it reads
neither the kiosk's configuration file nor its code (kiosk/settings/config.py).

    DATABASE_URL         postgresql://... or sqlite:///PATH (else central.sqlite3 in the data folder)
    CENTRAL_POOL_SIZE    database connections per worker process (8)
    INSTITUTE_TIME_ZONE  the zone of every date the office shows or a rule counts (Asia/Shanghai)
    CENTRAL_SITES        the institute's sites, comma-separated, the first the default (main)
    CENTRAL_PUBLIC_PORT  the public site's own port (set by `kiosk central serve --public-port` for its
                         worker processes: they send /public/... there)
    CENTRAL_QUOTAS       per-device quotas: `off`, or e.g. `pushes_per_minute=120,push_mb_per_day=256`
                         over the defaults (central/api/quotas.py)
    CENTRAL_API_DOCS     `on`: the API's /docs and /redoc pages (they load their script from a CDN);
                         off unless set: the description itself is always at /openapi.json
    CENTRAL_SECURE_COOKIES  `on`: the office's session cookie is Secure even when central itself is
                         reached over http (behind a proxy that serves https); else Secure over https
    FORWARDED_ALLOW_IPS  uvicorn's: the proxies whose X-Forwarded-For names the client (127.0.0.1, a
                         proxy on this machine): the address the audit log keeps and a sign-in
                         lock-out counts; name a proxy on another machine here
    CENTRAL_RETENTION_YEARS  years a ticket's personal data is kept after pickup (3; central/retention.py)
    CENTRAL_CORRECTION_DAYS  working days the lab has to correct a certificate returned at dispatch, for a
                         return whose event names no promise (2; the desks' own kiosk.correction_days
                         stamps each return they record)
    KIOSK_DATA_DIR       the data folder (else the platform's user data folder)
    CENTRAL_NOTICES_FILE a TOML file: the notices' channels and schedule (central/notices/config.py);
                         unset: notices are queued but no channel sends them
    CENTRAL_SMTP_PASSWORD, CENTRAL_SMS_SECRET  the notices' secrets (never in the file)
    CENTRAL_INSTITUTE_FILE  the institute file (the kiosk's institute.toml: its [name] zh/en is what
                         notices say); unset: the demo institute's shipped with the kiosk
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.domain.clock import DEFAULT_ZONE

# The kiosk's folder name (kiosk/settings/config.py APP_NAME): a machine that runs a kiosk and a
# small central keeps central.sqlite3 beside the kiosk's database, where it has always been.
DATA_FOLDER = "metrology-kiosk"
POOL_SIZE = 8


def data_dir() -> Path:
    if os.environ.get("KIOSK_DATA_DIR"):
        return Path(os.environ["KIOSK_DATA_DIR"])
    from platformdirs import user_data_dir

    return Path(user_data_dir(DATA_FOLDER, appauthor=False))


def database_url(explicit: str | None = None, db_path: str | Path | None = None) -> str:
    """`--database-url`, else $DATABASE_URL, else an SQLite file (`--db`, else central.sqlite3
    in the data folder)."""
    url = explicit or os.environ.get("DATABASE_URL")
    if url:
        return url
    if db_path is None:
        db_path = data_dir() / "central.sqlite3"
    return f"sqlite:///{Path(db_path).resolve()}"


def pool_size() -> int:
    return int(os.environ.get("CENTRAL_POOL_SIZE", str(POOL_SIZE)))


def serves() -> str:
    """Which routes this process serves: all, devices or office ($CENTRAL_SERVES; set by
    `kiosk central serve --office-port` for its worker processes)."""
    chosen = os.environ.get("CENTRAL_SERVES", "all").strip() or "all"
    if chosen not in ("all", "devices", "office", "public"):
        raise ValueError(f"CENTRAL_SERVES: all, devices, office or public, not {chosen!r}")
    return chosen


def office_port() -> int | None:
    """Where the back office is served when it has a process of its own ($CENTRAL_OFFICE_PORT)."""
    text = os.environ.get("CENTRAL_OFFICE_PORT", "").strip()
    return int(text) if text.isdigit() else None


def public_port() -> int | None:
    """Where the public site is served when it has a process of its own ($CENTRAL_PUBLIC_PORT)."""
    text = os.environ.get("CENTRAL_PUBLIC_PORT", "").strip()
    return int(text) if text.isdigit() else None


def quotas() -> str:
    """As set; central/api/quotas.py `Quotas.parse` reads it."""
    return os.environ.get("CENTRAL_QUOTAS", "")


def api_docs() -> bool:
    return os.environ.get("CENTRAL_API_DOCS", "").strip().lower() in ("on", "1", "yes", "true")


def secure_cookies() -> bool:
    return os.environ.get("CENTRAL_SECURE_COOKIES", "").strip().lower() in ("on", "1", "yes", "true")


def time_zone() -> str:
    """The institute's zone: a server's own clock is usually UTC."""
    return os.environ.get("INSTITUTE_TIME_ZONE") or DEFAULT_ZONE


DEFAULT_SITE = "main"


def sites() -> tuple[str, ...]:
    """The institute's sites (a branch office, a second building): a device serves one, a
    desk pulls only its site's tickets. One site, `main`, unless set."""
    named = tuple(dict.fromkeys(s.strip() for s in os.environ.get("CENTRAL_SITES", "").split(",") if s.strip()))
    return named or (DEFAULT_SITE,)


CORRECTION_DAYS = 2  # kiosk/domain/certificate_check.py RETURN_DAYS


def correction_days() -> int:
    """Working days the lab is given to correct a certificate returned at dispatch, for a return
    whose event carries no promise (a desk's own setting, kiosk.correction_days, stamps each one):
    $CENTRAL_CORRECTION_DAYS, 1–30, else 2."""
    value = os.environ.get("CENTRAL_CORRECTION_DAYS", "").strip()
    if not value:
        return CORRECTION_DAYS
    days = int(value)
    if not 1 <= days <= 30:
        raise ValueError(f"CENTRAL_CORRECTION_DAYS must be 1–30 working days, not {days}")
    return days


RETENTION_YEARS = 3


def retention_years() -> int:
    """Years the personal data of a ticket is kept after its pickup (central/retention.py)."""
    return int(os.environ.get("CENTRAL_RETENTION_YEARS") or RETENTION_YEARS)


def notices_file() -> Path | None:
    """The notices' settings file (central/notices/config.py), if any."""
    value = os.environ.get("CENTRAL_NOTICES_FILE", "").strip()
    return Path(value) if value else None


def secret(name: str) -> str:
    """A notices secret from the environment: CENTRAL_SMTP_PASSWORD, CENTRAL_SMS_SECRET."""
    return os.environ.get(name, "")


def institute_file() -> Path | None:
    value = os.environ.get("CENTRAL_INSTITUTE_FILE", "").strip()
    return Path(value) if value else None
