"""Subscriptions for operators: every tenant's plan, status and limits, and changing one.

A change goes through ``pulse.registry.subscriptions.change_subscription`` (the same as
``PUT /subscription``): a new plan and/or a new end of the paid period. The status follows from the
dates and the plan (trial/active until ``ends_at``, then grace, suspended, expired), and the limits
are the plan's, copied onto the tenant; so neither is set directly here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from pulse.errors import RequestInvalid
from pulse.identity.scope import Actor
from pulse.noc import measures
from pulse.noc.models import OperatorSubscription, TenantLimits
from pulse.registry import subscriptions
from pulse.registry.errors import NotFound, PreconditionFailed
from pulse.registry.models import SubscriptionChange, SubscriptionStatus
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "operator-subscriptions"
_COLUMNS = """s.tenant_id, t.name, s.plan_id, p.name, s.status, s.is_trial, s.started_at, s.ends_at, s.version,
              t.device_limit, t.device_rate_per_minute, t.api_rate_per_minute, t.retention_days"""
_FROM = "subscriptions s JOIN tenants t ON t.id = s.tenant_id JOIN plans p ON p.id = s.plan_id"


def _subscription(row: tuple[Any, ...], devices: int) -> OperatorSubscription:
    tenant_id, name, plan_id, plan_name, status, is_trial, started_at, ends_at, version, *limits = row
    return OperatorSubscription(
        tenant_id=tenant_id,
        tenant_name=name,
        plan_id=plan_id,
        plan_name=plan_name,
        status=status,
        is_trial=is_trial,
        started_at=started_at,
        ends_at=ends_at,
        version=version,
        limits=TenantLimits(**dict(zip(TenantLimits.model_fields, limits, strict=True))),
        devices=devices,
    )


def list_subscriptions(
    conn: psycopg.Connection,
    *,
    status: list[SubscriptionStatus],
    plan_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[OperatorSubscription]:
    """By tenant id."""
    clauses = ["s.tenant_id > %(after)s"]
    after = decode_cursor(cursor, _SORT)
    params: dict[str, Any] = {"after": str(after[0]) if after else "", "limit": limit + 1}
    if status:
        clauses.append("s.status = ANY(%(status)s)")
        params["status"] = [s.value for s in status]
    if plan_id is not None:
        clauses.append("s.plan_id = %(plan)s")
        params["plan"] = plan_id
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(clauses)} ORDER BY s.tenant_id LIMIT %(limit)s", params
    ).fetchall()
    page, next_cursor = keyset_page(rows, limit, _SORT, lambda r: [r[0]])
    devices = measures.devices(conn, [r[0] for r in page])
    items = [_subscription(r, devices.get(r[0], 0)) for r in page]
    return Page[OperatorSubscription](items=items, next_cursor=next_cursor)


def get_subscription(conn: psycopg.Connection, tenant_id: str) -> OperatorSubscription:
    row = conn.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE s.tenant_id = %s", (tenant_id,)).fetchone()
    if row is None:
        raise NotFound(f"tenant {tenant_id!r} has no subscription")
    return _subscription(row, measures.devices(conn, [tenant_id]).get(tenant_id, 0))


def change_subscription(
    conn: psycopg.Connection,
    tenant_id: str,
    change: SubscriptionChange,
    actor: Actor,
    now: datetime,
    *,
    if_match: int | None,
) -> OperatorSubscription:
    """Audited like every write (``subscription.change`` in the tenant's audit log, and a subscription
    event); ``if_match`` (optional) must be the version read, else 412."""
    if change.plan_id is None and change.ends_at is None:
        raise RequestInvalid("body: give plan_id and/or ends_at")
    current = subscriptions.get_subscription(conn, tenant_id, lock=True)
    if if_match is not None and if_match != current.version:
        raise PreconditionFailed(
            f"the subscription changed since you read it (version {current.version}, you sent {if_match})"
        )
    subscriptions.change_subscription(conn, tenant_id, change, actor, now)
    return get_subscription(conn, tenant_id)
