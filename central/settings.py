"""Central's settings, from its environment. Central is a deployable of its own: it reads
neither the kiosk's configuration file nor its code (kiosk/settings/config.py).

    DATABASE_URL         postgresql://... or sqlite:///PATH (else central.sqlite3 in the data folder)
    CENTRAL_POOL_SIZE    database connections per worker process (8)
    INSTITUTE_TIME_ZONE  the zone of every date the office shows or a rule counts (Asia/Shanghai)
    CENTRAL_SITES        the institute's sites, comma-separated, the first the default (main)
    CENTRAL_QUOTAS       per-device quotas: `off`, or e.g. `pushes_per_minute=120,push_mb_per_day=256`
                         over the defaults (central/api/quotas.py)
    CENTRAL_API_DOCS     `on`: the API's /docs and /redoc pages (they load their script from a CDN);
                         off unless set: the description itself is always at /openapi.json
    CENTRAL_SECURE_COOKIES  `on`: the office's session cookie is Secure even when central itself is
                         reached over http (behind a proxy that serves https); else Secure over https
    CENTRAL_RETENTION_YEARS  years a ticket's personal data is kept after pickup (3; central/retention.py)
    KIOSK_DATA_DIR       the data folder (else the platform's user data folder)
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


RETENTION_YEARS = 3


def retention_years() -> int:
    """Years the personal data of a ticket is kept after its pickup (central/retention.py)."""
    return int(os.environ.get("CENTRAL_RETENTION_YEARS") or RETENTION_YEARS)
