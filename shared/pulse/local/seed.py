"""Seed the local platform: the demo tenant and simulator devices provisioned as IoT things.

Idempotent and cheap when nothing changed (three registry reads per device), so ``pulse dev``
runs it on every start: a device whose thing, certificate or credentials went missing (a reset
database, a wiped emulator, a deleted folder) is repaired, the rest is left as it is.

Credentials follow the simulator's layout::

    .pulse/devices/ca.pem                       the emulator's CA (signs the broker and devices)
    .pulse/devices/<device_id>/cert.pem|key.pem|device.json

The tenant is created through the registry (with its subscription); sites and logins are seeded by
``pulse.local.demo`` once the stack's user pool exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from pulse.connect.topics import thing_name
from pulse.local.demo import seed_tenant
from pulse.platform.aws.iot import CertificateNotFound, DeviceCertificate, IotRegistry

DEMO_TENANT = "demo"
DEMO_TENANT_NAME = "Demo Utilities"
DEFAULT_DEVICE_COUNT = 25
# Not driven by the simulator: latency probes connect as this device without kicking a simulated
# one off the broker (MQTT allows one session per client id).
PROBE_DEVICE = "probe-01"


def simulator_device_ids(count: int) -> list[str]:
    """``sim-01`` .. ``sim-25``: the simulator's default ids (zero-padded to the count's width)."""
    width = max(2, len(str(count)))
    return [f"sim-{i:0{width}d}" for i in range(1, count + 1)]


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    ca_pem: str


@dataclass
class SeedReport:
    tenant_id: str
    devices: list[str] = field(default_factory=list)
    provisioned: list[str] = field(default_factory=list)  # got a new certificate this run


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _read_device_file(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "device.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _usable_certificate(iot: IotRegistry, folder: Path, known: dict[str, Any], thing: str) -> bool:
    """The device folder holds a certificate that the registry has ACTIVE and attached to the thing."""
    certificate_id, certificate_arn = known.get("certificate_id"), known.get("certificate_arn")
    if not certificate_id or not certificate_arn:
        return False
    if not ((folder / "cert.pem").is_file() and (folder / "key.pem").is_file()):
        return False
    try:
        if iot.certificate_status(str(certificate_id)) != "ACTIVE":
            return False
    except CertificateNotFound:
        return False
    return certificate_arn in iot.thing_principals(thing)


def provision_device(
    iot: IotRegistry, *, tenant_id: str, device_id: str, policy_name: str, broker: Broker, devices_dir: Path
) -> tuple[dict[str, Any], bool]:
    """Thing + certificate + policy for one device, credentials on disk; returns (device.json, new?)."""
    thing = thing_name(tenant_id, device_id)
    iot.ensure_thing(thing, {"tenant_id": tenant_id, "device_id": device_id})
    folder = devices_dir / device_id
    known = _read_device_file(folder)
    fresh = not _usable_certificate(iot, folder, known, thing)
    if fresh:
        certificate: DeviceCertificate = iot.create_certificate()
        iot.attach(thing_name=thing, certificate_arn=certificate.certificate_arn, policy_name=policy_name)
        _write_private(folder / "key.pem", certificate.private_key_pem)
        (folder / "cert.pem").write_text(certificate.certificate_pem)
        known = {"certificate_id": certificate.certificate_id, "certificate_arn": certificate.certificate_arn}
    else:
        # A redeployed stack may have a new policy; attaching again is a no-op otherwise.
        iot.attach(thing_name=thing, certificate_arn=str(known["certificate_arn"]), policy_name=policy_name)
    record = {
        "tenant_id": tenant_id,
        "device_id": device_id,
        "thing_name": thing,
        "host": broker.host,
        "port": broker.port,
        "certificate_id": known["certificate_id"],
        "certificate_arn": known["certificate_arn"],
    }
    if record != {k: known.get(k) for k in record} or fresh:
        (folder / "device.json").write_text(json.dumps(record, indent=2) + "\n")
    return record, fresh


def upsert_device(conn: psycopg.Connection[Any], record: dict[str, Any]) -> None:
    conn.execute(
        """INSERT INTO devices (tenant_id, id, name, thing_name, certificate_id)
           VALUES (%(tenant_id)s, %(device_id)s, %(device_id)s, %(thing_name)s, %(certificate_id)s)
           ON CONFLICT (tenant_id, id) DO UPDATE
             SET thing_name = EXCLUDED.thing_name, certificate_id = EXCLUDED.certificate_id,
                 status = 'active', updated_at = now()
           WHERE (devices.thing_name, devices.certificate_id, devices.status)
                 IS DISTINCT FROM (EXCLUDED.thing_name, EXCLUDED.certificate_id, 'active')""",
        record,
    )


def seed(
    iot: IotRegistry,
    database_url: str,
    *,
    policy_name: str,
    broker: Broker,
    devices_dir: Path,
    tenant_id: str = DEMO_TENANT,
    device_count: int = DEFAULT_DEVICE_COUNT,
) -> SeedReport:
    devices_dir.mkdir(parents=True, exist_ok=True)
    ca_file = devices_dir / "ca.pem"
    if not ca_file.is_file() or ca_file.read_text() != broker.ca_pem:
        ca_file.write_text(broker.ca_pem)
    report = SeedReport(tenant_id=tenant_id)
    seed_tenant(database_url, tenant_id, DEMO_TENANT_NAME)  # through the registry: tenant + subscription
    with psycopg.connect(database_url, autocommit=True) as conn:
        for device_id in [*simulator_device_ids(device_count), PROBE_DEVICE]:
            record, fresh = provision_device(
                iot,
                tenant_id=tenant_id,
                device_id=device_id,
                policy_name=policy_name,
                broker=broker,
                devices_dir=devices_dir,
            )
            upsert_device(conn, record)
            report.devices.append(device_id)
            if fresh:
                report.provisioned.append(device_id)
    return report
