"""What people do to alerts: acknowledge, unacknowledge, snooze, assign, comment, resolve, close, reopen.

Each action checks that the alert's state allows it (409 otherwise), honours ``If-Match`` when
given (412 when stale), and writes the change, its timeline entry, its audit row and its outbox
event in one transaction. Allowed states:

=============  ===========================================
acknowledge    open, snoozed
unacknowledge  acknowledged
snooze         open, acknowledged (until in the future, at most 7 days)
assign         open, acknowledged, snoozed, resolved
comment        any
resolve        open, acknowledged, snoozed
close          open, acknowledged, snoozed, resolved
reopen         resolved, closed (409 while another alert of the same rule and device is active)
=============  ===========================================

Acknowledging a latched alert releases the latch: the ``LatchReleaser`` (the rules plane's
``release_latch`` on its stored rule state) answers ``Resolved`` when the condition has already
cleared, and the alert resolves in the same transaction; otherwise it resolves when it clears.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import psycopg

from pulse.alerts import lifecycle, store
from pulse.alerts.models import ACTIVE, Alert, AlertDetail, AlertState, EventType
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed
from pulse.rules.signals import Resolved, Transition

Action = Literal["acknowledge", "unacknowledge", "snooze", "assign", "comment", "resolve", "close", "reopen"]
MAX_SNOOZE = timedelta(days=7)
_ALL = frozenset(AlertState)
ALLOWED: dict[str, frozenset[AlertState]] = {
    "acknowledge": frozenset({AlertState.OPEN, AlertState.SNOOZED}),
    "unacknowledge": frozenset({AlertState.ACKNOWLEDGED}),
    "snooze": frozenset({AlertState.OPEN, AlertState.ACKNOWLEDGED}),
    "assign": frozenset({*ACTIVE, AlertState.RESOLVED}),
    "comment": _ALL,
    "resolve": frozenset(ACTIVE),
    "close": frozenset({*ACTIVE, AlertState.RESOLVED}),
    "reopen": frozenset({AlertState.RESOLVED, AlertState.CLOSED}),
}
_DONE = {
    "acknowledge": "acknowledged",
    "unacknowledge": "unacknowledged",
    "snooze": "snoozed",
    "assign": "assigned",
    "close": "closed",
    "reopen": "reopened",
}


class LatchReleaser(Protocol):
    """Releases the evaluator's latch of (rule, device) in the caller's transaction; returns its transitions."""

    def __call__(
        self, conn: psycopg.Connection, *, tenant_id: str, rule_id: str, device_id: str, at: datetime
    ) -> Sequence[Transition]: ...


def no_rule_state(
    conn: psycopg.Connection, *, tenant_id: str, rule_id: str, device_id: str, at: datetime
) -> Sequence[Transition]:
    """A releaser for when no rule state is stored: the alert's own ``condition_cleared_at`` decides."""
    return ()


def act(
    scope: TenantScope,
    alert_id: str,
    action: Action,
    *,
    now: datetime,
    note: str = "",
    if_match: int | None = None,
    until: datetime | None = None,
    assignee: str | None = None,
    latch: LatchReleaser = no_rule_state,
) -> AlertDetail:
    actor = scope.actor.display
    with scope.transaction() as conn:
        before = store.get(conn, scope.tenant_id, alert_id, lock=True)
        if before is None:
            raise NotFound(f"no alert {alert_id!r}")
        if if_match is not None and if_match != before.version:
            raise PreconditionFailed(f"alert {alert_id!r} is at version {before.version}, not {if_match}")
        if before.state not in ALLOWED[action]:
            raise Conflict(f"cannot {action} alert {alert_id!r}: it is {before.state.value}")
        alert = Alert.model_validate(before.model_dump(exclude={"explanation"}))
        tenant = scope.tenant_id
        if action == "resolve":
            lifecycle.resolve(conn, tenant, alert, now, actor, reason="manual", note=note)
        elif action == "comment":
            lifecycle.record(conn, tenant, alert, now, "commented", actor, event=EventType.COMMENTED, note=note)
        else:
            changes, event, detail = _changes(conn, tenant, alert, action, now, actor, until, assignee)
            store.update(conn, tenant, alert.id, now, **changes)
            changed = alert.model_copy(update={**changes, "version": alert.version + 1, "updated_at": now})
            lifecycle.record(conn, tenant, changed, now, _DONE[action], actor, event=event, note=note, detail=detail)
            if action == "acknowledge" and alert.latched:
                _release_latch(conn, tenant, changed, now, actor, latch)
        after = store.get(conn, tenant, alert_id)
        assert after is not None
        record_change(
            conn,
            tenant,
            scope.actor,
            f"alert.{action}",
            "alert",
            alert_id,
            alert,
            Alert.model_validate(after.model_dump(exclude={"explanation"})),
        )
    return after


def _changes(
    conn: psycopg.Connection,
    tenant_id: str,
    alert: Alert,
    action: Action,
    now: datetime,
    actor: str,
    until: datetime | None,
    assignee: str | None,
) -> tuple[dict[str, Any], EventType, dict[str, Any]]:
    if action == "acknowledge":
        acknowledged = {"state": AlertState.ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": actor}
        return acknowledged, EventType.ACKNOWLEDGED, {}
    if action == "unacknowledge":
        open_again = {"state": AlertState.OPEN, "acknowledged_at": None, "acknowledged_by": None}
        return open_again, EventType.UNACKNOWLEDGED, {}
    if action == "snooze":
        if until is None or until <= now:
            raise RequestInvalid("until: must be in the future")
        if until > now + MAX_SNOOZE:
            raise RequestInvalid(f"until: at most {MAX_SNOOZE.days} days ahead")
        return {"state": AlertState.SNOOZED, "snoozed_until": until}, EventType.SNOOZED, {}
    if action == "assign":
        return {"assignee": assignee}, EventType.ASSIGNED, {"previous_assignee": alert.assignee}
    if action == "close":
        changes: dict[str, Any] = {"state": AlertState.CLOSED, "closed_at": now, "snoozed_until": None}
        return {**changes, "resolve_due_at": None}, EventType.CLOSED, {}
    active = store.active_for(conn, tenant_id, alert.fingerprint)
    if active is not None:
        raise Conflict(f"alert {active.id!r} of the same rule and device is active; act on that one")
    return (
        {
            "state": AlertState.OPEN,
            "episode_started_at": now,
            "resolved_at": None,
            "resolved_by": None,
            "closed_at": None,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "condition_cleared_at": None,
        },
        EventType.REOPENED,
        {"reason": "manual"},
    )


def _release_latch(
    conn: psycopg.Connection, tenant_id: str, alert: Alert, now: datetime, actor: str, latch: LatchReleaser
) -> None:
    transitions = latch(conn, tenant_id=tenant_id, rule_id=alert.rule_id, device_id=alert.device_id, at=now)
    cleared = any(isinstance(t, Resolved) for t in transitions) or alert.condition_cleared_at is not None
    if cleared:
        lifecycle.resolve(conn, tenant_id, alert, now, actor, reason="released", detail={"latch": "released"})
