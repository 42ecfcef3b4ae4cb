"""Escalation policies as customers manage them (create, read, replace under If-Match, delete) and an
alert's escalation as the API shows it. Every write is audited in its transaction; a policy may only
name channels and schedules of its own tenant, and a policy a route uses cannot be deleted."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg

from pulse.alerts import store as alerts_store
from pulse.errors import RequestInvalid
from pulse.escalation import store
from pulse.escalation.models import (
    AlertEscalation,
    DoneAction,
    EscalationPolicy,
    EscalationPolicyIn,
    EscalationStatus,
    Phase,
)
from pulse.identity.scope import TenantScope
from pulse.notify import store as notify_store
from pulse.oncall import store as oncall_store
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "escalation_policies_by_name"


def _check_refs(conn: psycopg.Connection, tenant_id: str, body: EscalationPolicyIn) -> None:
    wanted = sorted(body.channel_ids())
    missing = [c for c in wanted if c not in notify_store.existing_channel_ids(conn, tenant_id, wanted)]
    if missing:
        raise RequestInvalid(f"steps: no channel {', '.join(map(repr, missing[:5]))}")
    for schedule_id in sorted(body.schedule_ids()):
        if oncall_store.get_schedule(conn, tenant_id, schedule_id) is None:
            raise RequestInvalid(f"steps: no on-call schedule {schedule_id!r}")
    if store.policy_name_taken(conn, tenant_id, body.name, getattr(body, "id", None)):
        raise Conflict(f"an escalation policy is already named {body.name!r}")


def create_policy(scope: TenantScope, body: EscalationPolicyIn, *, now: datetime) -> EscalationPolicy:
    policy = EscalationPolicy(
        **body.model_dump(), id=f"esc_{uuid.uuid4().hex}", version=1, created_at=now, updated_at=now
    )
    with scope.transaction() as conn:
        _check_refs(conn, scope.tenant_id, body)
        store.insert_policy(conn, scope.tenant_id, policy)
        record_change(conn, scope.tenant_id, scope.actor, "escalation_policy.create", "escalation_policy", policy.id,
                      None, policy)  # fmt: skip
    return policy


def get_policy(scope: TenantScope, policy_id: str) -> EscalationPolicy:
    with scope.transaction() as conn:
        found = store.get_policy(conn, scope.tenant_id, policy_id)
    if found is None:
        raise NotFound(f"no escalation policy {policy_id!r}")
    return found


def list_policies(scope: TenantScope, *, limit: int, cursor: str | None) -> Page[EscalationPolicy]:
    """By name."""
    after = decode_cursor(cursor, _SORT)
    with scope.transaction() as conn:
        rows = store.list_policies(
            conn, scope.tenant_id, after=(str(after[0]), str(after[1])) if after else None, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda p: [p.name.lower(), p.id])
    return Page[EscalationPolicy](items=items, next_cursor=next_cursor)


def _locked(conn: psycopg.Connection, tenant_id: str, policy_id: str, if_match: int | None) -> EscalationPolicy:
    found = store.get_policy(conn, tenant_id, policy_id, lock=True)
    if found is None:
        raise NotFound(f"no escalation policy {policy_id!r}")
    if if_match is not None and if_match != found.version:
        raise PreconditionFailed(f"escalation policy {policy_id!r} is at version {found.version}, not {if_match}")
    return found


def replace_policy(
    scope: TenantScope, policy_id: str, body: EscalationPolicyIn, *, if_match: int | None, now: datetime
) -> EscalationPolicy:
    """Running escalations follow the new steps from their current position on."""
    if if_match is None:
        raise PreconditionRequired("If-Match: send the policy's ETag (its version) to change it")
    with scope.transaction() as conn:
        before = _locked(conn, scope.tenant_id, policy_id, if_match)
        after = EscalationPolicy(
            **body.model_dump(), id=policy_id, version=before.version + 1, created_at=before.created_at, updated_at=now
        )
        _check_refs(conn, scope.tenant_id, after)
        store.update_policy(conn, scope.tenant_id, after)
        record_change(conn, scope.tenant_id, scope.actor, "escalation_policy.update", "escalation_policy", policy_id,
                      before, after)  # fmt: skip
    return after


def delete_policy(scope: TenantScope, policy_id: str, *, if_match: int | None) -> None:
    """Refused while a route starts it; running escalations of it end at their next tick."""
    with scope.transaction() as conn:
        before = _locked(conn, scope.tenant_id, policy_id, if_match)
        routes = store.routes_using(conn, scope.tenant_id, policy_id)
        if routes:
            raise Conflict(f"escalation policy {policy_id!r} is used by the routes {', '.join(map(repr, routes[:5]))}")
        store.delete_policy(conn, scope.tenant_id, policy_id)
        record_change(conn, scope.tenant_id, scope.actor, "escalation_policy.delete", "escalation_policy", policy_id,
                      before, None)  # fmt: skip


def alert_escalation(scope: TenantScope, alert_id: str) -> AlertEscalation:
    """The alert's escalation: where it stands (phase from its status and the alert's state) and what ran."""
    with scope.transaction() as conn:
        alert = alerts_store.get(conn, scope.tenant_id, alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id!r}")
        row = store.get_escalation(conn, scope.tenant_id, alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id!r} has no escalation (no route with an escalation policy took it)")
        policy = store.get_policy(conn, scope.tenant_id, row["policy_id"])
    status = EscalationStatus(row["status"])
    if status is EscalationStatus.DONE:
        phase = Phase.DONE
    elif alert.state.value in (Phase.ACKNOWLEDGED.value, Phase.SNOOZED.value):
        phase = Phase(alert.state.value)
    else:
        phase = Phase.ESCALATING if row["step_due_at"] is not None else Phase.EXHAUSTED
    return AlertEscalation(
        alert_id=alert_id,
        policy_id=row["policy_id"],
        policy_name=policy.name if policy else None,
        route_id=row["route_id"],
        episode=row["episode"],
        status=status,
        phase=phase,
        position=row["position"],
        repeat=row["repeat"],
        next_step_due_at=row["step_due_at"],
        next_due_at=row["next_due_at"],
        reminders=row["reminders"],
        ended_reason=row["ended_reason"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        steps=[s.model_dump(mode="json") for s in policy.steps] if policy else [],
        done=[DoneAction.model_validate(d) for d in row["done"]],
    )
