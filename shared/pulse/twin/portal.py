"""The twin as the portal changes it: set desired under If-Match, audited, delta sent to the device.

The document, revision, pending rows and the audit row commit in one transaction (as the scope:
``pulse_app`` or an audited operator). Over HTTP the version is the ETag: missing If-Match is 428 and
a stale one (or a version conflict found under the row lock) is 409, as AWS's shadow answers a
version conflict; 412 is kept for a false ``if`` predicate. The delta goes out after the
commit; a failed publish is logged and the update stands, as with AWS's shadow: the device reads the
twin (``twin/get``) when it reconnects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pulse.connect.topics import TopicKind, build_topic
from pulse.errors import PulseError
from pulse.identity.scope import TenantScope
from pulse.observability import logger
from pulse.ops.audit import record_change
from pulse.registry.errors import PreconditionRequired
from pulse.twin import store
from pulse.twin.document import TwinChange, TwinDocument
from pulse.twin.errors import TwinVersionConflict
from pulse.twin.models import DesiredPatch, TwinSettingsBody
from pulse.twin.protocol import OutgoingMessage
from pulse.twin.publishing import TwinPublisher
from pulse.twin.request import TwinLimits, parse_update
from pulse.twin.service import update_twin_in
from pulse.twin.store import TwinSettings


def _audited(document: TwinDocument) -> dict[str, Any]:
    return {"version": document.version, "desired": document.desired}


def delta_messages(tenant_id: str, device_id: str, change: TwinChange) -> list[OutgoingMessage]:
    delta = change.delta_message()
    if delta is None:
        return []
    return [OutgoingMessage(TopicKind.TWIN_DELTA.value, build_topic(tenant_id, device_id, TopicKind.TWIN_DELTA), delta)]


def set_desired(
    scope: TenantScope,
    device_id: str,
    patch: DesiredPatch,
    expected_version: int | None,
    publisher: TwinPublisher,
    *,
    now: datetime,
    limits: TwinLimits | None = None,
) -> TwinChange:
    if expected_version is None:
        raise PreconditionRequired("send If-Match with the ETag of the twin you read")
    update = parse_update(patch.to_request(expected_version), limits)
    try:
        with scope.transaction() as conn:
            change = update_twin_in(
                conn,
                scope.tenant_id,
                device_id,
                update,
                source="api",
                actor=scope.actor.display,
                at=now,
                limits=limits,
            )
            record_change(
                conn,
                scope.tenant_id,
                scope.actor,
                "twin.desired.update",
                "device_twin",
                device_id,
                _audited(change.before),
                _audited(change.after),
            )
    except TwinVersionConflict as exc:
        raise TwinVersionConflict(
            f"the twin changed since you read it (version {exc.current_version}, you sent {expected_version})",
            exc.current_version,
        ) from None
    messages = delta_messages(scope.tenant_id, device_id, change)
    try:
        publisher.publish(messages)
    except PulseError as exc:
        logger.warning("twin delta not published", extra={"device_id": device_id, "error": exc.detail})
    return change


def put_settings(scope: TenantScope, body: TwinSettingsBody) -> TwinSettingsBody:
    with scope.transaction() as conn:
        before = store.read_settings(conn, scope.tenant_id)
        store.write_settings(conn, scope.tenant_id, TwinSettings(body.auto_clear, body.convergence_minutes))
        record_change(
            conn,
            scope.tenant_id,
            scope.actor,
            "twin.settings.update",
            "twin_settings",
            scope.tenant_id,
            TwinSettingsBody(auto_clear=before.auto_clear, convergence_minutes=before.convergence_minutes),
            body,
        )
    return body


def get_settings(scope: TenantScope) -> TwinSettingsBody:
    with scope.transaction() as conn:
        found = store.read_settings(conn, scope.tenant_id)
    return TwinSettingsBody(auto_clear=found.auto_clear, convergence_minutes=found.convergence_minutes)
