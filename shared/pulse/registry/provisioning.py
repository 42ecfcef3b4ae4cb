"""Provisioning: IoT thing + certificate + device policy, HTTP tokens, rotation, revocation,
decommissioning and activation-code claims.

IoT calls happen inside the transaction that records them, after every database check: if IoT
refuses, nothing is stored; the private key and tokens leave this module once, in the response.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from pulse.connect.credentials import hash_device_token, new_device_token
from pulse.connect.topics import TopicKind, build_topic, thing_name
from pulse.db import Database
from pulse.identity.scope import Actor, TenantScope, operator_transaction
from pulse.ops.audit import record_change
from pulse.registry import store
from pulse.registry.errors import Conflict, DeviceLimitReached, NotFound, SubscriptionInactive
from pulse.registry.identities import DeviceIdentities, DeviceIdentity
from pulse.registry.models import (
    ActivationCode,
    CredentialsBundle,
    Device,
    DeviceIn,
    DeviceStatus,
    DeviceToken,
    ProvisionedDevice,
)
from pulse.registry.service import check_site, device
from pulse.registry.subscriptions import get_tenant

AMAZON_ROOT_CA_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
PROVISIONING_STATUSES = frozenset({"trial", "active"})
_TOPIC_KINDS = (
    TopicKind.TELEMETRY,
    TopicKind.HEARTBEAT,
    TopicKind.EVENT,
    TopicKind.TWIN_UPDATE,
    TopicKind.TWIN_GET,
    TopicKind.TWIN_DELTA,
    TopicKind.COMMANDS,
)


@dataclass(frozen=True, slots=True)
class ProvisioningConfig:
    root_ca_pem: str = ""
    credential_grace: timedelta = timedelta(days=1)
    activation_code_ttl: timedelta = timedelta(days=7)


def _bundle(
    tenant_id: str, device_id: str, identity: DeviceIdentity, identities: DeviceIdentities, config: ProvisioningConfig
) -> CredentialsBundle:
    return CredentialsBundle(
        device_id=device_id,
        thing_name=identity.thing_name,
        certificate_id=identity.certificate_id,
        certificate_pem=identity.certificate_pem,
        private_key=identity.private_key,
        root_ca_url=AMAZON_ROOT_CA_URL,
        root_ca_pem=config.root_ca_pem,
        endpoint=identities.endpoint(),
        topics={kind.name.lower(): build_topic(tenant_id, device_id, kind) for kind in _TOPIC_KINDS},
    )


def _record_certificate(conn: psycopg.Connection, tenant_id: str, device_id: str, certificate_id: str) -> None:
    conn.execute(
        "INSERT INTO device_certificates (tenant_id, device_id, certificate_id, status) VALUES (%s, %s, %s, 'active')",
        (tenant_id, device_id, certificate_id),
    )


def check_capacity(conn: psycopg.Connection, tenant_id: str, adding: int = 1) -> None:
    """Refuses provisioning for an inactive subscription or past the plan's device limit."""
    tenant = get_tenant(conn, tenant_id)
    if tenant.status.value not in PROVISIONING_STATUSES:
        raise SubscriptionInactive(f"the subscription is {tenant.status.value}: no new devices can be provisioned")
    if tenant.device_limit is not None:
        used = store.count_billable_devices(conn, tenant_id)
        if used + adding > tenant.device_limit:
            raise DeviceLimitReached(
                f"the plan allows {tenant.device_limit} devices; {used} are provisioned "
                f"(decommission devices or change the plan)"
            )


def insert_new_device(conn: psycopg.Connection, tenant_id: str, new: DeviceIn, token: str | None) -> Device:
    check_site(conn, tenant_id, new.site_id)
    created = store.insert_device(conn, tenant_id, new.id, new, token_hash=hash_device_token(token) if token else None)
    if created is None:
        raise Conflict(f"device {new.id!r} exists")
    return created


def provision_device(
    scope: TenantScope, new: DeviceIn, identities: DeviceIdentities, config: ProvisioningConfig
) -> ProvisionedDevice:
    token = new_device_token() if new.http_token else None
    with scope.transaction() as conn:
        store.lock_tenant_devices(conn, scope.tenant_id)
        check_capacity(conn, scope.tenant_id)
        insert_new_device(conn, scope.tenant_id, new, token)
        thing = thing_name(scope.tenant_id, new.id)
        identities.create_thing(scope.tenant_id, new.id, thing)
        columns: dict[str, object] = {"thing_name": thing}
        bundle = None
        if new.issue_certificate:
            identity = identities.add_certificate(thing)
            _record_certificate(conn, scope.tenant_id, new.id, identity.certificate_id)
            columns["certificate_id"] = identity.certificate_id
            bundle = _bundle(scope.tenant_id, new.id, identity, identities, config)
        created = store.set_device_columns(conn, scope.tenant_id, new.id, columns)
        record_change(conn, scope.tenant_id, scope.actor, "device.create", "device", new.id, None, created)
    return ProvisionedDevice(device=created, credentials=bundle, http_token=token)


def _active(conn: psycopg.Connection, tenant_id: str, device_id: str) -> Device:
    found = device(conn, tenant_id, device_id, lock=True)
    if found.status is not DeviceStatus.ACTIVE:
        raise Conflict(f"device {device_id!r} is {found.status.value}")
    return found


def issue_token(scope: TenantScope, device_id: str) -> DeviceToken:
    """A new HTTPS device token; the previous one stops working at once."""
    token = new_device_token()
    with scope.transaction() as conn:
        before = _active(conn, scope.tenant_id, device_id)
        after = store.set_device_columns(conn, scope.tenant_id, device_id, {"token_hash": hash_device_token(token)})
        record_change(conn, scope.tenant_id, scope.actor, "device.token", "device", device_id, before, after)
    return DeviceToken(device_id=device_id, token=token)


def rotate_certificate(
    scope: TenantScope, device_id: str, identities: DeviceIdentities, config: ProvisioningConfig, now: datetime
) -> CredentialsBundle:
    """New certificate now; the previous ones keep working until ``now + grace`` (then revoked)."""
    with scope.transaction() as conn:
        before = _active(conn, scope.tenant_id, device_id)
        if before.thing_name is None:
            raise Conflict(f"device {device_id!r} has no IoT thing")
        identity = identities.add_certificate(before.thing_name)
        conn.execute(
            "UPDATE device_certificates SET status = 'retiring', revoke_after = %s "
            "WHERE tenant_id = %s AND device_id = %s AND status = 'active'",
            (now + config.credential_grace, scope.tenant_id, device_id),
        )
        _record_certificate(conn, scope.tenant_id, device_id, identity.certificate_id)
        after = store.set_device_columns(conn, scope.tenant_id, device_id, {"certificate_id": identity.certificate_id})
        record_change(conn, scope.tenant_id, scope.actor, "device.rotate", "device", device_id, before, after)
    return _bundle(scope.tenant_id, device_id, identity, identities, config)


def _revoke_all(conn: psycopg.Connection, tenant_id: str, device_id: str, identities: DeviceIdentities) -> None:
    rows = conn.execute(
        "UPDATE device_certificates SET status = 'revoked', revoked_at = now() "
        "WHERE tenant_id = %s AND device_id = %s AND status <> 'revoked' RETURNING certificate_id",
        (tenant_id, device_id),
    ).fetchall()
    for (certificate_id,) in rows:
        identities.revoke_certificate(certificate_id)


def revoke_device(scope: TenantScope, device_id: str, identities: DeviceIdentities) -> Device:
    """Certificates INACTIVE, token cleared, status revoked: ingest quarantines the next message."""
    with scope.transaction() as conn:
        before = _active(conn, scope.tenant_id, device_id)
        _revoke_all(conn, scope.tenant_id, device_id, identities)
        after = store.set_device_columns(
            conn,
            scope.tenant_id,
            device_id,
            {"status": "revoked", "token_hash": None, "status_changed_at": datetime.now(UTC)},
        )
        record_change(conn, scope.tenant_id, scope.actor, "device.revoke", "device", device_id, before, after)
    return after


def decommission_device(scope: TenantScope, device_id: str, identities: DeviceIdentities) -> Device:
    """The thing is deleted, every credential revoked; the row stays (history), not counted by the plan."""
    with scope.transaction() as conn:
        before = device(conn, scope.tenant_id, device_id, lock=True)
        if before.status is DeviceStatus.DECOMMISSIONED:
            raise Conflict(f"device {device_id!r} is already decommissioned")
        _revoke_all(conn, scope.tenant_id, device_id, identities)
        if before.thing_name is not None:
            identities.delete_thing(before.thing_name)
        after = store.set_device_columns(
            conn,
            scope.tenant_id,
            device_id,
            {
                "status": "decommissioned",
                "token_hash": None,
                "thing_name": None,
                "certificate_id": None,
                "status_changed_at": datetime.now(UTC),
            },
        )
        record_change(conn, scope.tenant_id, scope.actor, "device.decommission", "device", device_id, before, after)
    return after


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(code.strip().upper().encode()).digest()


def create_activation_code(
    scope: TenantScope, device_id: str, config: ProvisioningConfig, now: datetime
) -> ActivationCode:
    code = "-".join(secrets.token_hex(3).upper() for _ in range(4))  # 96 bits, typeable in the field
    expires_at = now + config.activation_code_ttl
    with scope.transaction() as conn:
        _active(conn, scope.tenant_id, device_id)
        conn.execute(
            "INSERT INTO activation_codes (code_hash, tenant_id, device_id, expires_at) VALUES (%s, %s, %s, %s)",
            (_code_hash(code), scope.tenant_id, device_id, expires_at),
        )
        record_change(
            conn,
            scope.tenant_id,
            scope.actor,
            "device.activation_code",
            "device",
            device_id,
            None,
            {"expires_at": expires_at.isoformat()},
        )
    return ActivationCode(device_id=device_id, code=code, expires_at=expires_at)


def claim_activation_code(
    db: Database, code: str, identities: DeviceIdentities, config: ProvisioningConfig, request_id: str
) -> CredentialsBundle:
    """A device in the field presents its one-time code and receives the device's only valid certificate."""
    digest = _code_hash(code)
    with db.transaction() as conn:
        row = conn.execute("SELECT tenant_id, device_id FROM pulse_find_activation_code(%s)", (digest,)).fetchone()
    if row is None:
        raise NotFound("the activation code is unknown, used or expired")
    tenant_id, device_id = str(row[0]), str(row[1])
    scope = TenantScope(
        db,
        tenant_id,
        Actor(subject=f"device:{device_id}", display=f"device:{device_id}", role="device", request_id=request_id),
    )
    with scope.transaction() as conn:
        claimed = conn.execute(
            "UPDATE activation_codes SET claimed_at = now() WHERE code_hash = %s AND claimed_at IS NULL RETURNING 1",
            (digest,),
        ).fetchone()
        if claimed is None:
            raise NotFound("the activation code is unknown, used or expired")
        before = _active(conn, tenant_id, device_id)
        thing = before.thing_name or thing_name(tenant_id, device_id)
        if before.thing_name is None:
            identities.create_thing(tenant_id, device_id, thing)
        _revoke_all(conn, tenant_id, device_id, identities)
        identity = identities.add_certificate(thing)
        _record_certificate(conn, tenant_id, device_id, identity.certificate_id)
        after = store.set_device_columns(
            conn, tenant_id, device_id, {"thing_name": thing, "certificate_id": identity.certificate_id}
        )
        record_change(conn, tenant_id, scope.actor, "device.activate", "device", device_id, before, after)
    return _bundle(tenant_id, device_id, identity, identities, config)


def retire_certificates(db: Database, identities: DeviceIdentities, now: datetime) -> int:
    """Revokes certificates whose rotation grace period ended (scheduled); returns how many."""
    with operator_transaction(db) as conn:
        rows = conn.execute(
            "UPDATE device_certificates SET status = 'revoked', revoked_at = now() "
            "WHERE status = 'retiring' AND revoke_after <= %s "
            "RETURNING tenant_id, device_id, certificate_id",
            (now,),
        ).fetchall()
        actor = Actor.system("credential-rotation")
        for tenant_id, device_id, certificate_id in rows:
            identities.revoke_certificate(certificate_id)
            record_change(
                conn,
                tenant_id,
                actor,
                "certificate.revoke",
                "device",
                device_id,
                None,
                {"certificate_id": certificate_id, "reason": "rotation grace period ended"},
            )
    return len(rows)
