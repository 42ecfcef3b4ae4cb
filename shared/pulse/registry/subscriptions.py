"""Tenants, plans and the subscription lifecycle TRIAL -> ACTIVE -> GRACE -> SUSPENDED -> EXPIRED.

The status is a function of the dates (``status_at``): a subscription is in trial or active until
``ends_at``, then in grace for the plan's ``grace_days``, then suspended for ``suspension_days``,
then expired. The scheduled ``subscriptions`` Lambda calls ``advance_subscriptions`` to apply what
the clock says; every change (by the clock or an operator) is written to ``subscription_events``
and copied onto the ``tenants`` row, which is what ingest (status, device rate) and the API
(API rate) read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from pulse.identity.scope import Actor
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.models import (
    Plan,
    Subscription,
    SubscriptionChange,
    SubscriptionEvent,
    SubscriptionStatus,
    Tenant,
    TenantIn,
)

PLAN_COLUMNS = (
    "id, name, device_limit, device_rate_per_minute, retention_days, api_rate_per_minute, grace_days, suspension_days"
)
SUB_COLUMNS = "tenant_id, plan_id, status, is_trial, started_at, ends_at, version"
TENANT_COLUMNS = (
    "id, name, status, device_limit, device_rate_per_minute, api_rate_per_minute, retention_days, created_at"
)


def status_at(ends_at: datetime, is_trial: bool, plan: Plan, now: datetime) -> SubscriptionStatus:
    if now < ends_at:
        return SubscriptionStatus.TRIAL if is_trial else SubscriptionStatus.ACTIVE
    grace_end = ends_at + timedelta(days=plan.grace_days)
    if now < grace_end:
        return SubscriptionStatus.GRACE
    if now < grace_end + timedelta(days=plan.suspension_days):
        return SubscriptionStatus.SUSPENDED
    return SubscriptionStatus.EXPIRED


def _row(model: type[Any], columns: str, row: tuple[Any, ...]) -> Any:
    return model(**dict(zip(columns.split(", "), row, strict=True)))


def list_plans(conn: psycopg.Connection) -> list[Plan]:
    return [
        _row(Plan, PLAN_COLUMNS, r)
        for r in conn.execute(f"SELECT {PLAN_COLUMNS} FROM plans ORDER BY device_limit").fetchall()
    ]


def get_plan(conn: psycopg.Connection, plan_id: str) -> Plan:
    row = conn.execute(f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = %s", (plan_id,)).fetchone()
    if row is None:
        raise NotFound(f"no plan {plan_id!r}")
    plan: Plan = _row(Plan, PLAN_COLUMNS, row)
    return plan


def get_tenant(conn: psycopg.Connection, tenant_id: str) -> Tenant:
    row = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    if row is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    tenant: Tenant = _row(Tenant, TENANT_COLUMNS, row)
    return tenant


def list_tenants(conn: psycopg.Connection, *, after: str | None, limit: int) -> list[Tenant]:
    rows = conn.execute(
        f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id > %s ORDER BY id LIMIT %s", (after or "", limit)
    ).fetchall()
    return [_row(Tenant, TENANT_COLUMNS, r) for r in rows]


def rename_tenant(conn: psycopg.Connection, tenant_id: str, name: str, actor: Actor) -> Tenant:
    before = get_tenant(conn, tenant_id)
    conn.execute("UPDATE tenants SET name = %s, updated_at = now() WHERE id = %s", (name, tenant_id))
    after = get_tenant(conn, tenant_id)
    record_change(conn, tenant_id, actor, "tenant.update", "tenant", tenant_id, before, after)
    return after


def get_subscription(conn: psycopg.Connection, tenant_id: str, *, lock: bool = False) -> Subscription:
    row = conn.execute(
        f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE tenant_id = %s" + (" FOR UPDATE" if lock else ""), (tenant_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"tenant {tenant_id!r} has no subscription")
    sub: Subscription = _row(Subscription, SUB_COLUMNS, row)
    return sub


def list_events(
    conn: psycopg.Connection, tenant_id: str, *, before_id: int | None, limit: int
) -> list[SubscriptionEvent]:
    rows = conn.execute(
        """SELECT id, at, actor, action, from_status, to_status, plan_id, ends_at, detail
           FROM subscription_events WHERE tenant_id = %s AND id < %s ORDER BY id DESC LIMIT %s""",
        (tenant_id, before_id or 2**62, limit),
    ).fetchall()
    cols = "id, at, actor, action, from_status, to_status, plan_id, ends_at, detail"
    return [_row(SubscriptionEvent, cols, r) for r in rows]


def _apply(
    conn: psycopg.Connection,
    tenant_id: str,
    plan: Plan,
    status: SubscriptionStatus,
    is_trial: bool,
    ends_at: datetime,
    *,
    previous: SubscriptionStatus | None,
    actor: Actor,
    action: str,
    detail: str,
) -> None:
    conn.execute(
        """INSERT INTO subscriptions (tenant_id, plan_id, status, is_trial, ends_at)
           VALUES (%(t)s, %(p)s, %(s)s, %(trial)s, %(ends)s)
           ON CONFLICT (tenant_id) DO UPDATE SET plan_id = %(p)s, status = %(s)s, is_trial = %(trial)s,
               ends_at = %(ends)s, version = subscriptions.version + 1, updated_at = now()""",
        {"t": tenant_id, "p": plan.id, "s": status.value, "trial": is_trial, "ends": ends_at},
    )
    conn.execute(
        """UPDATE tenants SET status = %s, device_limit = %s, device_rate_per_minute = %s, api_rate_per_minute = %s,
                  retention_days = %s, updated_at = now() WHERE id = %s""",
        (
            status.value,
            plan.device_limit,
            plan.device_rate_per_minute,
            plan.api_rate_per_minute,
            plan.retention_days,
            tenant_id,
        ),
    )
    conn.execute(
        """INSERT INTO subscription_events (tenant_id, actor, action, from_status, to_status, plan_id, ends_at, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            actor.display,
            action,
            previous.value if previous else None,
            status.value,
            plan.id,
            ends_at,
            detail,
        ),
    )


def create_tenant(conn: psycopg.Connection, new: TenantIn, actor: Actor, now: datetime) -> Tenant:
    """Operator only (``conn`` runs as pulse_operator): the tenant and its trial subscription."""
    plan = get_plan(conn, new.plan_id)
    inserted = conn.execute(
        "INSERT INTO tenants (id, name, status) VALUES (%s, %s, 'trial') ON CONFLICT DO NOTHING RETURNING id",
        (new.id, new.name),
    ).fetchone()
    if inserted is None:
        raise Conflict(f"tenant {new.id!r} exists")
    ends_at = now + timedelta(days=new.trial_days)
    _apply(
        conn,
        new.id,
        plan,
        status_at(ends_at, True, plan, now),
        True,
        ends_at,
        previous=None,
        actor=actor,
        action="subscription.start",
        detail=f"trial of {new.trial_days} days",
    )
    tenant = get_tenant(conn, new.id)
    record_change(conn, new.id, actor, "tenant.create", "tenant", new.id, None, tenant)
    return tenant


def change_subscription(
    conn: psycopg.Connection, tenant_id: str, change: SubscriptionChange, actor: Actor, now: datetime
) -> Subscription:
    """Operator only: a new plan and/or a new paid-period end (which ends the trial)."""
    before = get_subscription(conn, tenant_id, lock=True)
    plan = get_plan(conn, change.plan_id or before.plan_id)
    is_trial = before.is_trial and change.ends_at is None
    ends_at = change.ends_at or before.ends_at
    status = status_at(ends_at, is_trial, plan, now)
    _apply(
        conn,
        tenant_id,
        plan,
        status,
        is_trial,
        ends_at,
        previous=before.status,
        actor=actor,
        action="subscription.change",
        detail=f"plan {before.plan_id} -> {plan.id}",
    )
    after = get_subscription(conn, tenant_id)
    record_change(conn, tenant_id, actor, "subscription.change", "subscription", tenant_id, before, after)
    return after


def advance_subscriptions(conn: psycopg.Connection, now: datetime) -> dict[str, str]:
    """Applies what the clock says to every subscription whose status is due to change.

    Runs as pulse_operator (all tenants). Returns ``{tenant_id: new status}`` for the changed ones.
    """
    actor = Actor.system("subscription-lifecycle")
    plans = {p.id: p for p in list_plans(conn)}
    due = conn.execute(
        f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE status <> 'expired' AND ends_at <= %s "
        "ORDER BY tenant_id FOR UPDATE",
        (now,),
    ).fetchall()
    changed: dict[str, str] = {}
    for row in due:
        sub: Subscription = _row(Subscription, SUB_COLUMNS, row)
        plan = plans[sub.plan_id]
        status = status_at(sub.ends_at, sub.is_trial, plan, now)
        if status is sub.status:
            continue
        _apply(
            conn,
            sub.tenant_id,
            plan,
            status,
            sub.is_trial,
            sub.ends_at,
            previous=sub.status,
            actor=actor,
            action="subscription.lifecycle",
            detail=f"{sub.status.value} -> {status.value} by date",
        )
        record_change(
            conn,
            sub.tenant_id,
            actor,
            "subscription.lifecycle",
            "subscription",
            sub.tenant_id,
            sub,
            get_subscription(conn, sub.tenant_id),
        )
        changed[sub.tenant_id] = status.value
    return changed
