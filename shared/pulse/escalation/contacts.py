"""People's contact methods and personal notification policies, as the API manages them.

A contact method is a channel owned by a person (``channels.owner``): email, SMS (Amazon SNS) or a
Slack message mentioning their member id, so a page travels the one delivery pipeline (retries,
dead letters, the delivery log). Addresses are checked when written: an email address, an E.164
phone number, a Slack member id. A person manages their own; tenant administrators manage anyone's
(the router decides who may). Every write is audited (the Slack webhook URL never is).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

import psycopg
from pydantic import ValidationError

from pulse.escalation import people_store
from pulse.escalation.models import (
    ContactKind,
    ContactMethod,
    ContactMethodIn,
    NotificationPolicy,
    NotificationPolicyIn,
)
from pulse.escalation.people_store import OwnedChannel
from pulse.identity.scope import TenantScope
from pulse.notify import store as notify_store
from pulse.notify.channel_admin import ChannelInvalid, send_test
from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.models import TestResult
from pulse.notify.sealing import SecretSealer, seal_secrets
from pulse.notify.store import ChannelRow
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired

_ADDRESS_FIELD = {ContactKind.EMAIL: "to", ContactKind.SMS: "phone_number", ContactKind.SLACK: "member_id"}


def _config(body: ContactMethodIn) -> dict[str, object]:
    value: object = [body.address] if body.kind is ContactKind.EMAIL else body.address
    try:
        config = CHANNEL_CONFIG.validate_python({"type": body.kind.value, _ADDRESS_FIELD[body.kind]: value})
    except ValidationError as exc:
        raise ChannelInvalid(f"address: {exc.errors(include_url=False)[0]['msg']}") from None
    return config.model_dump(mode="json", exclude={"type"})


def _sealed(sealer: SecretSealer, body: ContactMethodIn, tenant_id: str, channel_id: str) -> str | None:
    if body.kind is not ContactKind.SLACK:
        return None
    if body.slack_webhook_url is None:
        raise ChannelInvalid("slack_webhook_url: a Slack contact method needs the incoming webhook that reaches them")
    try:
        secrets = CHANNEL_SECRETS.validate_python({"type": "slack", "webhook_url": body.slack_webhook_url})
    except ValidationError as exc:
        raise ChannelInvalid(f"slack_webhook_url: {exc.errors(include_url=False)[0]['msg']}") from None
    return seal_secrets(sealer, secrets, tenant_id=tenant_id, channel_id=channel_id)


def _view(row: OwnedChannel) -> ContactMethod:
    field = _ADDRESS_FIELD[ContactKind(row.type)]
    address = row.config[field][0] if row.type == ContactKind.EMAIL.value else row.config[field]
    label = row.name.split(": ", 1)[1] if ": " in row.name else ""
    return ContactMethod(
        id=row.id,
        username=row.owner,
        kind=ContactKind(row.type),
        address=str(address),
        label=label,
        enabled=row.enabled,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _name(username: str, body: ContactMethodIn, channel_id: str) -> str:
    """Channel names are unique per tenant: the person, a short id, then their label."""
    return f"{username} {body.kind.value} {channel_id[-6:]}: {body.label or body.address}"[:200]


def create_method(
    scope: TenantScope, username: str, body: ContactMethodIn, sealer: SecretSealer, *, now: datetime
) -> ContactMethod:
    channel_id = f"chn_{uuid.uuid4().hex}"
    row = ChannelRow(
        tenant_id=scope.tenant_id,
        id=channel_id,
        type=body.kind.value,
        name=_name(username, body, channel_id),
        config=_config(body),
        sealed_secret=_sealed(sealer, body, scope.tenant_id, channel_id),
        previous_sealed_secret=None,
        previous_valid_until=None,
        enabled=body.enabled,
        version=1,
        created_at=now,
        updated_at=now,
    )
    with scope.transaction() as conn:
        existing = people_store.contact_methods(conn, scope.tenant_id, username)
        if any((m.type, _view(m).address) == (body.kind.value, _view_address(body)) for m in existing):
            raise Conflict(f"{username} already has the {body.kind.value} contact method {body.address!r}")
        notify_store.insert_channel(conn, row)
        people_store.set_owner(conn, scope.tenant_id, channel_id, username)
        found = people_store.contact_method(conn, scope.tenant_id, username, channel_id)
        assert found is not None
        view = _view(found)
        record_change(conn, scope.tenant_id, scope.actor, "contact_method.create", "channel", channel_id, None, view)
    return view


def _view_address(body: ContactMethodIn) -> str:
    config = _config(body)
    value = config[_ADDRESS_FIELD[body.kind]]
    return str(value[0] if isinstance(value, list) else value)


def list_methods(scope: TenantScope, username: str) -> list[ContactMethod]:
    with scope.transaction() as conn:
        return [_view(m) for m in people_store.contact_methods(conn, scope.tenant_id, username)]


def _locked(
    scope: TenantScope, conn: psycopg.Connection, username: str, method_id: str, if_match: int | None
) -> OwnedChannel:
    found = people_store.contact_method(conn, scope.tenant_id, username, method_id)
    if found is None:
        raise NotFound(f"{username} has no contact method {method_id!r}")
    if if_match is not None and if_match != found.version:
        raise PreconditionFailed(f"contact method {method_id!r} is at version {found.version}, not {if_match}")
    return found


def update_method(
    scope: TenantScope,
    username: str,
    method_id: str,
    body: ContactMethodIn,
    sealer: SecretSealer,
    *,
    if_match: int | None,
    now: datetime,
) -> ContactMethod:
    """Replaces address, label and enabled; the kind stays (409). A Slack webhook omitted is kept."""
    if if_match is None:
        raise PreconditionRequired("If-Match: send the contact method's ETag (its version) to change it")
    with scope.transaction() as conn:
        before = _locked(scope, conn, username, method_id, if_match)
        if before.type != body.kind.value:
            raise Conflict(f"contact method {method_id!r} is {before.type}; create a new one for {body.kind.value}")
        row = notify_store.get_channel(conn, scope.tenant_id, method_id, lock=True)
        assert row is not None
        keep = body.kind is ContactKind.SLACK and body.slack_webhook_url is None
        after = replace(
            row,
            name=_name(username, body, method_id),
            config=_config(body),
            sealed_secret=row.sealed_secret if keep else _sealed(sealer, body, scope.tenant_id, method_id),
            enabled=body.enabled,
            version=row.version + 1,
            updated_at=now,
        )
        notify_store.update_channel(conn, after)
        changed = people_store.contact_method(conn, scope.tenant_id, username, method_id)
        assert changed is not None
        view = _view(changed)
        record_change(conn, scope.tenant_id, scope.actor, "contact_method.update", "channel", method_id,
                      _view(before), view)  # fmt: skip
    return view


def delete_method(scope: TenantScope, username: str, method_id: str, *, if_match: int | None) -> None:
    """Refused while the person's notification policy names it."""
    with scope.transaction() as conn:
        before = _locked(scope, conn, username, method_id, if_match)
        if people_store.policies_using(conn, scope.tenant_id, method_id):
            raise Conflict(f"{username}'s notification policy uses contact method {method_id!r}; change it first")
        notify_store.delete_channel(conn, scope.tenant_id, method_id)
        record_change(conn, scope.tenant_id, scope.actor, "contact_method.delete", "channel", method_id,
                      _view(before), None)  # fmt: skip


def test_method(
    scope: TenantScope, username: str, method_id: str, sealer: SecretSealer, ports: SenderPorts, *, now: datetime
) -> TestResult:
    """A test page now, through the delivery path (one attempt, in the delivery log)."""
    with scope.transaction() as conn:
        _locked(scope, conn, username, method_id, None)
    return send_test(scope, method_id, sealer, ports, now=now)


def get_policy(scope: TenantScope, username: str) -> NotificationPolicy:
    with scope.transaction() as conn:
        found = people_store.get_policy(conn, scope.tenant_id, username)
    if found is None:
        raise NotFound(f"{username} has no notification policy (every contact method is paged at once)")
    return found


def put_policy(
    scope: TenantScope, username: str, body: NotificationPolicyIn, *, if_match: int | None, now: datetime
) -> NotificationPolicy:
    """Creates or replaces the person's policy (If-Match required to replace); every rule names one
    of their own contact methods."""
    with scope.transaction() as conn:
        before = people_store.get_policy(conn, scope.tenant_id, username, lock=True)
        if before is not None and if_match is None:
            raise PreconditionRequired("If-Match: send the policy's ETag (its version) to change it")
        if before is not None and if_match != before.version:
            raise PreconditionFailed(f"the notification policy is at version {before.version}, not {if_match}")
        own = {m.id for m in people_store.contact_methods(conn, scope.tenant_id, username)}
        foreign = sorted(body.method_ids() - own)
        if foreign:
            raise ChannelInvalid(f"contact_method_id: {username} has no contact method {foreign[0]!r}")
        version = 1 if before is None else before.version + 1
        people_store.put_policy(conn, scope.tenant_id, username, body, version, scope.actor.display, now)
        after = NotificationPolicy(**body.model_dump(), username=username, version=version,
                                   updated_by=scope.actor.display, updated_at=now)  # fmt: skip
        record_change(conn, scope.tenant_id, scope.actor, "notification_policy.put", "notification_policy", username,
                      before, after)  # fmt: skip
    return after
