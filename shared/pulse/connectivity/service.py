"""Connectivity use cases: record an IoT Core lifecycle event, sweep the fleet's status, read both.

Lifecycle events arrive from the rule ``SELECT * FROM '$aws/events/presence/+/+'`` with only the MQTT
client id, which is the device's thing name (``pulse.connect.topics.thing_name``; the Connect plane
admits a sender only under that client id). An event of an unknown client (the console's test
client, a deleted device) or one that is not a lifecycle event is logged and counted, never raised:
a retry could not make it valid. Every event of a known device goes into the history once (IoT
rules deliver at least once); it becomes the current presence only if it is newer than the stored
one, so a late ``disconnected`` never overrides a newer ``connected``. An applied event re-evaluates
its device's status at once; the scheduled sweep catches the heartbeat deadlines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from pulse.connectivity import store
from pulse.connectivity.models import (
    Connectivity,
    ConnectivityEvent,
    LifecycleEvent,
    PresenceOutcome,
)
from pulse.connectivity.status import Presence, connectivity_status, status_deadlines
from pulse.db import Database
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope, operator_transaction
from pulse.observability import logger, metrics
from pulse.registry.errors import NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page

LIFECYCLE_EVENT_TYPES = frozenset({"connected", "disconnected"})
_SORT = "at_desc"


def is_lifecycle_event(event: dict[str, Any]) -> bool:
    return event.get("eventType") in LIFECYCLE_EVENT_TYPES


def record_presence(db: Database, raw: dict[str, Any], *, now: datetime | None = None) -> PresenceOutcome:
    """Record one lifecycle event (as pulse_operator: the client id names the tenant only via the device)."""
    at = now if now is not None else datetime.now(UTC)
    try:
        event = LifecycleEvent.model_validate(raw)
    except ValidationError as exc:
        return _ignored(PresenceOutcome.INVALID, str(raw.get("clientId", ""))[:128], str(exc)[:300])
    with operator_transaction(db) as conn:
        device = store.device_for_client(conn, event.client_id)
        if device is None:
            return _ignored(PresenceOutcome.UNKNOWN_CLIENT, event.client_id, "no device has this client id")
        tenant_id, device_id = device
        if not store.add_lifecycle_event(conn, tenant_id, device_id, event):
            outcome = PresenceOutcome.DUPLICATE
        elif not store.apply_presence(conn, tenant_id, device_id, event, at):
            outcome = PresenceOutcome.LATE
        else:
            outcome = PresenceOutcome.APPLIED
            store.sweep(conn, at, (tenant_id, device_id))
    metrics.add_metric(name="PresenceEventRecorded", unit=MetricUnit.Count, value=1)
    logger.info(
        "presence event recorded",
        extra={
            "tenant_id": tenant_id,
            "device_id": device_id,
            "event_type": event.event_type,
            "event_at": event.at.isoformat(),
            "reason": event.disconnect_reason,
            "outcome": outcome.value,
        },
    )
    return outcome


def _ignored(outcome: PresenceOutcome, client_id: str, detail: str) -> PresenceOutcome:
    metrics.add_metric(name="PresenceEventIgnored", unit=MetricUnit.Count, value=1)
    logger.warning("presence event ignored", extra={"client_id": client_id, "outcome": outcome.value, "detail": detail})
    return outcome


def sweep_connectivity(db: Database, now: datetime) -> int:
    """Scheduled, across tenants: recompute every device's status; history rows only where it changed.

    Returns how many devices changed; -1 when another sweep holds the lock (this run does nothing).
    """
    with operator_transaction(db) as conn:
        if not store.try_sweep_lock(conn):
            logger.warning("connectivity sweep skipped: another sweep is running")
            return -1
        changed = store.sweep(conn, now)
    counts: dict[str, int] = {}
    for _, _, status in changed:
        counts[status] = counts.get(status, 0) + 1
    metrics.add_metric(name="ConnectivityStatusChanged", unit=MetricUnit.Count, value=len(changed))
    logger.info("connectivity swept", extra={"changed": len(changed), "by_status": counts})
    return len(changed)


def get_connectivity(scope: TenantScope, device_id: str, *, now: datetime) -> Connectivity:
    """The status as of ``now`` (the same rule as the sweep, not the sweep's last result)."""
    with scope.transaction() as conn:
        row = store.read(conn, scope.tenant_id, device_id)
    if row is None:
        raise NotFound(f"no device {device_id!r}")
    presence = (
        Presence(row.connected, row.presence_at) if row.connected is not None and row.presence_at is not None else None
    )
    heartbeat = row.heartbeat_interval_s
    status = connectivity_status(now, last_seen_at=row.last_seen_at, heartbeat_interval_s=heartbeat, presence=presence)
    stale_at, offline_at = status_deadlines(
        last_seen_at=row.last_seen_at, heartbeat_interval_s=heartbeat, presence=presence
    )
    return Connectivity(
        device_id=device_id,
        status=status,
        evaluated_at=now,
        last_seen_at=row.last_seen_at,
        heartbeat_interval_s=row.heartbeat_interval_s,
        connected=row.connected,
        since=row.presence_at,
        session_id=row.session_id,
        last_disconnect_reason=row.disconnect_reason,
        last_disconnected_at=row.disconnected_at,
        stale_at=stale_at if stale_at is not None and stale_at > now else None,
        offline_at=offline_at if offline_at is not None and offline_at > now else None,
    )


def _history_key(values: list[Any] | None) -> tuple[datetime, int] | None:
    if values is None:
        return None
    try:
        at, event_id = values
        return datetime.fromisoformat(str(at)), int(event_id)
    except (TypeError, ValueError):
        raise RequestInvalid("cursor: not a cursor this API issued") from None


def list_history(scope: TenantScope, device_id: str, *, limit: int, cursor: str | None) -> Page[ConnectivityEvent]:
    key = _history_key(decode_cursor(cursor, _SORT))
    with scope.transaction() as conn:
        if store.read(conn, scope.tenant_id, device_id) is None:
            raise NotFound(f"no device {device_id!r}")
        rows = store.history(conn, scope.tenant_id, device_id, after=key, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda e: [e.at.isoformat(), e.id])
    return Page[ConnectivityEvent](items=items, next_cursor=next_cursor)
