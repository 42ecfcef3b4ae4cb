"""Steps shared by the evaluator path, user actions and sweeps: change an alert, add its timeline
entry and its outbox event in the caller's transaction, so the three commit together or not at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from pulse.alerts import store
from pulse.alerts.explain import event_data
from pulse.alerts.models import Alert, AlertState, EventType
from pulse.outbox import store as outbox

SYSTEM_ACTOR = "system:rules"


def record(
    conn: psycopg.Connection,
    tenant_id: str,
    alert: Alert,
    at: datetime,
    action: str,
    actor: str,
    *,
    event: EventType | None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    publish: bool = True,
) -> None:
    """Timeline entry ``action`` for ``alert`` (as it is now) and, when ``event`` and ``publish``, its event."""
    store.add_timeline(conn, tenant_id, alert.id, at, action, actor, note, detail)
    if event is not None and publish:
        data = event_data(alert, event, at, actor, note, **(detail or {}))
        outbox.put(conn, tenant_id, event.value, alert.id, at, data)


def resolve_changes(at: datetime, actor: str) -> dict[str, Any]:
    """The columns a resolve sets (the bulk path applies them in memory)."""
    return {
        "state": AlertState.RESOLVED,
        "resolved_at": at,
        "resolved_by": actor,
        "resolve_due_at": None,
        "snoozed_until": None,
    }


def resolve(
    conn: psycopg.Connection,
    tenant_id: str,
    alert: Alert,
    at: datetime,
    actor: str,
    *,
    reason: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
    publish: bool = True,
) -> Alert:
    """Resolve an active alert at ``at``; returns it as stored."""
    changes = resolve_changes(at, actor)
    store.update(conn, tenant_id, alert.id, at, **changes)
    after = alert.model_copy(update={**changes, "updated_at": at, "version": alert.version + 1})
    record(
        conn,
        tenant_id,
        after,
        at,
        "resolved",
        actor,
        event=EventType.RESOLVED,
        note=note,
        detail={"reason": reason, **(detail or {})},
        publish=publish,
    )
    return after


def resolve_for_rule(
    conn: psycopg.Connection, tenant_id: str, rule_id: str, at: datetime, actor: str, *, reason: str
) -> list[Alert]:
    """Resolve every active alert of a rule that stops being evaluated (disabled, deleted): nothing
    would ever resolve them otherwise. Each gets its timeline entry and ``AlertResolved``."""
    return [
        resolve(conn, tenant_id, alert, at, actor, reason=reason)
        for alert in store.active_of_rule(conn, tenant_id, rule_id)
    ]
