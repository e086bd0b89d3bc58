"""The device's Ed25519 key pair, and the public keys of devices whose ticket codes we verify.

* The private key is a PKCS #8 PEM file, `<key dir>/device-<uid>.key`, created on first
  start with mode 0600 (os.open with O_CREAT|O_EXCL on a temporary name, then linked into
  place, so two processes starting at once never see a half-written key). A key file that
  anyone but its owner may read or write is refused, with the command that fixes it.
* The key directory is `keys/` beside the database that holds the device's identity (by
  default `<data_dir>/keys/`): the device uid and its key stay together, whatever
  $KIOSK_DATA_DIR says when a command runs, and a test or benchmark database in a temporary
  directory keeps its key there too.
* Public keys live in `device_key` (source own | import | sync). The own one is written on
  first start; a key file that does not match it is refused rather than silently replacing it
  (every code this kiosk printed would stop verifying).
* `signing_key` is cached per device: a registration signs without reading the file.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from db.models import DeviceKey, database_proxy, utc_now
from kiosk.domain.ticketcode import KnownKey, key_id

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_DIR_NAME = "keys"
EXPORT_HEADER = "# metrology-kiosk device public keys: <device uid> <Ed25519 public key, raw 32 bytes, Base64>"

_signing_keys: dict[str, Ed25519PrivateKey] = {}  # device uid -> its private key, checked against the database


class KeyFileError(PermissionError):
    """The device's private key file cannot be used (readable by others, missing, does not match).
    A PermissionError (an OSError), so start-up reports it as it reports an unusable database."""


class KeyImportError(ValueError):
    """A key file to import is malformed or would change a known device's key; nothing was imported."""


def default_key_dir() -> Path:
    """`keys/` beside the open database; for an in-memory database, under the data directory."""
    path = getattr(database_proxy.obj, "database", None)
    if path and path != ":memory:" and not str(path).startswith("file:"):
        return Path(path).resolve().parent / KEY_DIR_NAME
    from kiosk.settings.config import default_data_dir

    return default_data_dir() / KEY_DIR_NAME


def key_path(device_uid: str, key_dir: Path | None = None) -> Path:
    return (key_dir or default_key_dir()) / f"device-{uuid.UUID(device_uid)}.key"


def _check_private(fd: int, path: Path) -> None:
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        raise KeyFileError(f"{path}: the device key is not a regular file")
    if mode & 0o077:
        raise KeyFileError(
            f"{path}: the device's private key may be read or changed by other users (mode {stat.S_IMODE(mode):04o}); "
            f"refusing to use it. Make it readable by its owner only: chmod 600 {path}"
        )


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    fd = os.open(path, os.O_RDONLY)
    try:
        _check_private(fd, path)
        with os.fdopen(fd, "rb", closefd=False) as f:
            pem = f.read()
    finally:
        os.close(fd)
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{path}: not a readable private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def _create_private_key(path: Path) -> None:
    """A new key at `path`, readable by the owner only; FileExistsError if one appeared meanwhile."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path)  # never replaces: FileExistsError if another process won
    finally:
        temporary.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def ensure_own_key(device_uid: str, key_dir: Path | None = None) -> Ed25519PrivateKey:
    """The device's private key, created on first start, its public key recorded in
    `device_key` (source "own"). KeyFileError when the file is unsafe, missing while the
    database knows the device's key, or does not match that key. Cached for `signing_key`."""
    path = key_path(device_uid, key_dir)
    with database_proxy.atomic():
        row = DeviceKey.get_or_none(DeviceKey.device_uid == device_uid)
        if not path.exists():
            if row is not None:
                raise KeyFileError(
                    f"{path}: the private key of device {device_uid} is missing, but this database holds its "
                    "public key. Restore the key file from a backup; a new key would leave every ticket code "
                    "this device printed unverifiable."
                )
            try:
                _create_private_key(path)
            except FileExistsError:
                pass  # another process created it first: use that one
        key = _read_private_key(path)
        public = _raw_public(key)
        if row is None:
            DeviceKey.create(device_uid=device_uid, public_key=public, source="own", added_at=utc_now())
        elif bytes(row.public_key) != public:
            raise KeyFileError(
                f"{path}: this private key does not match the public key this database holds for device "
                f"{device_uid}. Restore the original key file; refusing to sign with a different key."
            )
    _signing_keys[device_uid] = key
    return key


def signing_key(device_uid: str, key_dir: Path | None = None) -> Ed25519PrivateKey:
    """The device's private key: from the cache after the first call (no file read, no query)."""
    key = _signing_keys.get(device_uid)
    return key if key is not None else ensure_own_key(device_uid, key_dir)


def keys_for(signer_id: bytes) -> list[KnownKey]:
    """For ticketcode.decode: the known device keys whose key id is `signer_id` (revoked ones
    flagged). Every row is read and hashed: a site has tens of devices, not thousands."""
    return [KnownKey(r.device_uid, bytes(r.public_key), r.revoked_at is not None)
            for r in DeviceKey.select() if key_id(bytes(r.public_key)) == signer_id]


def export_public_keys() -> str:
    """Every known, unrevoked public key as text lines `<device uid> <Base64 key>`, own first."""
    rows = (DeviceKey.select().where(DeviceKey.revoked_at.is_null())
            .order_by(DeviceKey.source != "own", DeviceKey.device_uid))
    lines = [EXPORT_HEADER] + [f"{r.device_uid} {base64.b64encode(bytes(r.public_key)).decode('ascii')}"
                               for r in rows]
    return "\n".join(lines) + "\n"


def parse_public_keys(text: str) -> dict[str, bytes]:
    """device uid -> raw key, from the export format (blank lines and # comments skipped)."""
    keys: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise KeyImportError(f"line {number}: expected '<device uid> <public key in Base64>'")
        uid, encoded = fields
        try:
            canonical = str(uuid.UUID(uid))
        except ValueError:
            raise KeyImportError(f"line {number}: {uid!r} is not a device uid") from None
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyImportError(f"line {number}: the key is not Base64") from None
        if len(raw) != 32:
            raise KeyImportError(f"line {number}: an Ed25519 public key has 32 bytes, not {len(raw)}")
        if keys.get(canonical, raw) != raw:
            raise KeyImportError(f"line {number}: device {canonical} appears twice with different keys")
        keys[canonical] = raw
    return keys


def import_public_keys(text: str) -> int:
    """Add the keys in `text` (export format) with source "import"; returns how many were new.
    All or nothing: a malformed line, or a key that differs from the one already known for
    that device, raises KeyImportError and imports nothing. A known key is left as it is
    (a revoked key stays revoked)."""
    keys = parse_public_keys(text)
    added = 0
    with database_proxy.atomic():
        known = {r.device_uid: r for r in DeviceKey.select().where(DeviceKey.device_uid.in_(list(keys)))}
        for uid, raw in keys.items():
            row = known.get(uid)
            if row is None:
                continue
            if bytes(row.public_key) != raw:
                raise KeyImportError(
                    f"device {uid} already has a different public key here ({row.source}); refusing to "
                    "replace it. If the device really has a new key, its old key must be withdrawn first."
                )
        now = utc_now()
        for uid, raw in keys.items():
            if uid not in known:
                DeviceKey.create(device_uid=uid, public_key=raw, source="import", added_at=now)
                added += 1
    return added
