"""Device identities and the credentials folder written by the seed step.

Layout (default ``.pulse/devices``)::

    ca.pem                      the CA that signed the broker's certificate (shared)
    <device_id>/cert.pem        the device certificate
    <device_id>/key.pem         its private key
    <device_id>/device.json     {"tenant_id", "device_id", "thing_name", "host", "port", "site_id"?}

The same files work against the local broker and a real AWS IoT Core endpoint: only ``host`` and
``port`` differ. A device without a folder can still run with ``--insecure-plain`` or
``--dry-run``; its identity is then derived from the tenant given on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pulse.connect.topics import thing_name

DEFAULT_CREDENTIALS_DIR = Path(".pulse/devices")
DEVICE_FILE = "device.json"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
CA_FILE = "ca.pem"
TLS_PORT = 8883
PLAIN_PORT = 1883


class CredentialsError(ValueError):
    """A device's credentials are missing or unreadable; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who a device is on the wire: its topics use tenant and device id, its MQTT client id is the thing."""

    tenant_id: str
    device_id: str
    thing_name: str
    site_id: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


class DeviceFile(BaseModel):
    """``device.json``; fields the simulator does not use (certificate id, ARN) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str = Field(min_length=1)
    device_id: str = Field(min_length=1)
    thing_name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=TLS_PORT, ge=1, le=65535)
    site_id: str | None = None


def read_device_file(root: Path, device_id: str) -> DeviceFile | None:
    """The device's ``device.json``, or None when the device has no folder."""
    path = root / device_id / DEVICE_FILE
    if not path.is_file():
        return None
    try:
        record = DeviceFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise CredentialsError(f"{path}: {exc}") from exc
    if record.device_id != device_id:
        raise CredentialsError(f"{path}: device_id is {record.device_id!r} but the folder is {device_id!r}")
    return record


def resolve_identity(root: Path, device_id: str, tenant_id: str) -> DeviceIdentity:
    """From ``device.json`` when the device is provisioned, else derived from ``tenant_id``."""
    record = read_device_file(root, device_id)
    if record is None:
        return DeviceIdentity(tenant_id, device_id, thing_name(tenant_id, device_id))
    return DeviceIdentity(record.tenant_id, record.device_id, record.thing_name, record.site_id)


def tls_files(root: Path, device_id: str) -> TlsFiles:
    """The CA, certificate and key of a device; refuses a missing file by name."""
    files = TlsFiles(ca=root / CA_FILE, cert=root / device_id / CERT_FILE, key=root / device_id / KEY_FILE)
    missing = [str(p) for p in (files.ca, files.cert, files.key) if not p.is_file()]
    if missing:
        raise CredentialsError(
            f"device {device_id}: missing {', '.join(missing)} "
            f"(provision the device, or use --insecure-plain / --dry-run)"
        )
    return files


def endpoint_of(root: Path, device_id: str, host: str | None, port: int | None, *, plain: bool) -> Endpoint:
    """The broker of a device: command-line values override ``device.json``.

    The port in ``device.json`` is the TLS port, so a plain-TCP run defaults to 1883 instead.
    """
    record = read_device_file(root, device_id)
    resolved_host = host or (record.host if record else None)
    if resolved_host is None:
        raise CredentialsError(f"device {device_id}: no broker host (no {root / device_id / DEVICE_FILE}; pass --host)")
    if port is not None:
        return Endpoint(resolved_host, port)
    if plain:
        return Endpoint(resolved_host, PLAIN_PORT)
    return Endpoint(resolved_host, record.port if record else TLS_PORT)
