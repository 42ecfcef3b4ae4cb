"""Channels as customers manage them: create, read, update under If-Match, delete, rotate a webhook's
signing secret, send a test. Every write is audited in its transaction (the channel view: no secret).

Secrets are write-only: validated against the channel's type, sealed (bound to tenant and channel)
and stored; answers say only ``secret_set`` and the rotation state. A webhook rotation keeps the old
secret signing next to the new one for a grace period, so receivers can switch without a gap.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr, ValidationError

from pulse.errors import PulseError
from pulse.identity.scope import TenantScope
from pulse.notify import delivery_store as ds
from pulse.notify import store
from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, ChannelConfig, ChannelSecrets, check_pair
from pulse.notify.channels.message import TEST_EVENT, Notification
from pulse.notify.channels.models import ChannelType, MqttConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.secrets import WebhookSecrets
from pulse.notify.delivery import channel_secrets, deliver_in
from pulse.notify.models import Channel, ChannelIn, DeliveryStatus, SecretRotateIn, TestResult
from pulse.notify.sealing import SecretSealer, seal_secrets
from pulse.notify.store import ChannelRow
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "channels_by_name"


class ChannelInvalid(PulseError):
    """A channel's config or secrets do not fit its type; ``detail`` names the field."""

    status = 422
    title = "Validation failed"


def _errors(where: str, exc: ValidationError) -> ChannelInvalid:
    parts = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in error["loc"] if p not in [t.value for t in ChannelType])
        parts.append(f"{where}{'.' + loc if loc else ''}: {error['msg']}")
    return ChannelInvalid("; ".join(parts[:5]))


def _config(tenant_id: str, body: ChannelIn) -> ChannelConfig:
    try:
        config = CHANNEL_CONFIG.validate_python({**body.config, "type": body.type.value})
        if isinstance(config, MqttConfig):
            config.check_tenant(tenant_id)
    except ValidationError as exc:
        raise _errors("config", exc) from None
    except ValueError as exc:
        raise ChannelInvalid(f"config.topic: {exc}") from None
    return config


def _secrets(channel_type: ChannelType, given: dict[str, Any] | None) -> ChannelSecrets:
    if given is not None and ({"previous", "previous_valid_until"} & given.keys()):
        raise ChannelInvalid("secrets: the previous secret is kept by rotate-secret, not set directly")
    try:
        return CHANNEL_SECRETS.validate_python({**(given or {}), "type": channel_type.value})
    except ValidationError as exc:
        if given is None:
            raise ChannelInvalid(f"secrets: a {channel_type.value} channel needs its secrets") from None
        raise _errors("secrets", exc) from None


def _paired(config: ChannelConfig, secrets: ChannelSecrets) -> None:
    try:
        check_pair(config, secrets)
    except ValueError as exc:
        raise ChannelInvalid(f"secrets: {exc}") from None


def _sealed(sealer: SecretSealer, secrets: ChannelSecrets, tenant_id: str, channel_id: str) -> str | None:
    if not [name for name in type(secrets).model_fields if name != "type"]:
        return None  # email and MQTT channels hold no secret of their own
    return seal_secrets(sealer, secrets, tenant_id=tenant_id, channel_id=channel_id)


def create_channel(scope: TenantScope, body: ChannelIn, sealer: SecretSealer, *, now: datetime) -> Channel:
    config = _config(scope.tenant_id, body)
    secrets = _secrets(body.type, body.secrets)
    _paired(config, secrets)
    channel_id = f"chn_{uuid.uuid4().hex}"
    row = ChannelRow(
        tenant_id=scope.tenant_id,
        id=channel_id,
        type=body.type.value,
        name=body.name,
        config=config.model_dump(mode="json", exclude={"type"}),
        sealed_secret=_sealed(sealer, secrets, scope.tenant_id, channel_id),
        previous_sealed_secret=None,
        previous_valid_until=None,
        enabled=body.enabled,
        version=1,
        created_at=now,
        updated_at=now,
    )
    with scope.transaction() as conn:
        if store.name_taken(conn, scope.tenant_id, body.name):
            raise Conflict(f"a channel is already named {body.name!r}")
        store.insert_channel(conn, row)
        view = row.view(now)
        record_change(conn, scope.tenant_id, scope.actor, "channel.create", "channel", channel_id, None, view)
    return view


def get_channel(scope: TenantScope, channel_id: str, *, now: datetime) -> Channel:
    with scope.transaction() as conn:
        row = store.get_channel(conn, scope.tenant_id, channel_id, team_only=True)
    if row is None:
        raise NotFound(f"no channel {channel_id!r}")
    return row.view(now)


def list_channels(scope: TenantScope, *, now: datetime, limit: int, cursor: str | None) -> Page[Channel]:
    """By name."""
    after = decode_cursor(cursor, _SORT)
    with scope.transaction() as conn:
        rows = store.list_channels(
            conn, scope.tenant_id, after=(str(after[0]), str(after[1])) if after else None, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda c: [c.name.lower(), c.id])
    return Page[Channel](items=[r.view(now) for r in items], next_cursor=next_cursor)


def _locked(scope: TenantScope, conn: Any, channel_id: str, if_match: int | None) -> ChannelRow:
    row = store.get_channel(conn, scope.tenant_id, channel_id, lock=True, team_only=True)
    if row is None:
        raise NotFound(f"no channel {channel_id!r}")
    if if_match is not None and if_match != row.version:
        raise PreconditionFailed(f"channel {channel_id!r} is at version {row.version}, not {if_match}")
    return row


def update_channel(
    scope: TenantScope, channel_id: str, body: ChannelIn, sealer: SecretSealer, *, if_match: int | None, now: datetime
) -> Channel:
    """Replaces name, config, enabled and (when given) the secrets; the type never changes."""
    if if_match is None:
        raise PreconditionRequired("If-Match: send the channel's ETag (its version) to change it")
    config = _config(scope.tenant_id, body)
    with scope.transaction() as conn:
        before = _locked(scope, conn, channel_id, if_match)
        if before.type != body.type.value:
            raise Conflict(f"channel {channel_id!r} is a {before.type} channel; its type cannot change")
        if store.name_taken(conn, scope.tenant_id, body.name, except_id=channel_id):
            raise Conflict(f"a channel is already named {body.name!r}")
        changes: dict[str, Any] = {}
        if body.secrets is not None:
            secrets = _secrets(body.type, body.secrets)
            _paired(config, secrets)
            changes = {
                "sealed_secret": _sealed(sealer, secrets, scope.tenant_id, channel_id),
                "previous_sealed_secret": None,
                "previous_valid_until": None,
            }
        else:
            _paired(config, channel_secrets(before, sealer, now))
        after = replace(
            before,
            name=body.name,
            config=config.model_dump(mode="json", exclude={"type"}),
            enabled=body.enabled,
            version=before.version + 1,
            updated_at=now,
            **changes,
        )
        store.update_channel(conn, after)
        view = after.view(now)
        record_change(
            conn, scope.tenant_id, scope.actor, "channel.update", "channel", channel_id, before.view(now), view
        )
    return view


def delete_channel(scope: TenantScope, channel_id: str, *, if_match: int | None, now: datetime) -> None:
    with scope.transaction() as conn:
        before = _locked(scope, conn, channel_id, if_match)
        users = [r.name for r in store.list_routes(conn, scope.tenant_id) if channel_id in r.channel_ids]
        if users:
            raise Conflict(f"channel {channel_id!r} is used by the routes {', '.join(map(repr, users[:5]))}")
        store.delete_channel(conn, scope.tenant_id, channel_id)
        record_change(
            conn, scope.tenant_id, scope.actor, "channel.delete", "channel", channel_id, before.view(now), None
        )


def rotate_secret(
    scope: TenantScope,
    channel_id: str,
    body: SecretRotateIn,
    sealer: SecretSealer,
    *,
    if_match: int | None,
    now: datetime,
) -> Channel:
    """A new webhook signing secret; the current one keeps signing for ``grace_s`` (receivers accept
    either signature meanwhile). A rotation during a grace period drops the older previous secret."""
    with scope.transaction() as conn:
        before = _locked(scope, conn, channel_id, if_match)
        if before.type != ChannelType.WEBHOOK.value:
            raise Conflict(f"only webhook channels sign deliveries; update the {before.type} channel's secrets instead")
        fresh = WebhookSecrets(signing_secret=SecretStr(body.signing_secret))
        keep = body.grace_s > 0 and before.sealed_secret is not None
        after = replace(
            before,
            sealed_secret=_sealed(sealer, fresh, scope.tenant_id, channel_id),
            previous_sealed_secret=before.sealed_secret if keep else None,
            previous_valid_until=now + timedelta(seconds=body.grace_s) if keep else None,
            version=before.version + 1,
            updated_at=now,
        )
        store.update_channel(conn, after)
        view = after.view(now)
        record_change(
            conn, scope.tenant_id, scope.actor, "channel.rotate_secret", "channel", channel_id, before.view(now), view
        )
    return view


def send_test(
    scope: TenantScope, channel_id: str, sealer: SecretSealer, ports: SenderPorts, *, now: datetime
) -> TestResult:
    """Sends a test notification now through the delivery path; the delivery and its one attempt are
    in the delivery log (no retry: a failure ends the test delivery dead, with the receiver's answer)."""
    test_id = uuid.uuid4().hex
    sample = Notification.channel_test(scope.tenant_id, channel_id, now, test_id)
    detail = {
        "metadata": {
            "event_name": TEST_EVENT,
            "event_version": 1,
            "event_id": sample.event_id,
            "tenant_id": scope.tenant_id,
            "correlation_id": sample.event_id,
            "occurred_at": now.isoformat(),
        },
        "data": sample.alert,
    }
    delivery_id = f"dlv_{uuid.uuid4().hex}"
    notification_id = f"ntf_{test_id}"
    with scope.transaction() as conn:
        if store.get_channel(conn, scope.tenant_id, channel_id) is None:  # contact-method tests too
            raise NotFound(f"no channel {channel_id!r}")
        ds.insert_notification(conn, scope.tenant_id, notification_id, None, "", now, detail, None, now)
        ds.insert_delivery(
            conn,
            ds.NewDelivery(
                tenant_id=scope.tenant_id,
                id=delivery_id,
                event_id=sample.event_id,
                event_name=TEST_EVENT,
                alert_id=None,
                channel_id=channel_id,
                route_id=None,
                notification_id=notification_id,
                status=DeliveryStatus.PENDING,
                reason="test",
                send_at=now,
                execution_id=None,
                created_at=now,
            ),
        )
        record_change(
            conn,
            scope.tenant_id,
            scope.actor,
            "channel.test",
            "channel",
            channel_id,
            None,
            {"delivery_id": delivery_id},
        )
    outcome = deliver_in(scope.transaction, delivery_id, attempt=1, sealer=sealer, ports=ports, now=now, final=True)
    status = "permanent" if outcome.status == "duplicate" else outcome.status
    return TestResult(
        delivery_id=delivery_id,
        status=status,
        response_code=outcome.response_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error or None,
    )
