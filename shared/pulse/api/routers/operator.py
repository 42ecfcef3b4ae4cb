"""Operator console: tenants' health, device search across tenants, the quarantine, subscriptions.

Operators only (``operator``, ``operator_admin``; customers get 403); changing a subscription takes
``operator_admin``. Reads run as ``pulse_operator`` across tenants, like ``GET /tenants``. The
operator access log (``GET /operator-audit``) gets a row, written before the endpoint runs:
- for every request that names a tenant (``tenant_id`` in the path or the query), as for an
  ``X-Pulse-Tenant`` request: the tenant sees it in its log; an unknown tenant is a 404;
- for the cross-tenant reads that show tenants' records (device search, quarantined payloads), with
  ``tenant_id`` ``*``. Aggregates (health, counts, subscriptions list) are not logged, like ``GET /tenants``.
Writes are in the tenant's audit log as well (``subscription.change``, before and after).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response

from pulse.api.deps import DbDep, IfMatchDep, OperatorAdminDep, OperatorDep, ServicesDep, etag, operator_actor
from pulse.connect.quarantine import QuarantineReason
from pulse.db import Database
from pulse.identity.models import Principal
from pulse.identity.scope import Actor, operator_transaction
from pulse.noc import console, quarantine, subscriptions
from pulse.noc.models import (
    ConnectivityState,
    OperatorDevice,
    OperatorSubscription,
    QuarantinedMessage,
    QuarantineReasons,
    TenantHealth,
)
from pulse.ops.operator_audit import record_access
from pulse.registry.errors import NotFound
from pulse.registry.fleet import parse_tag_filters
from pulse.registry.models import DeviceStatus, SubscriptionChange, SubscriptionStatus
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/operator", tags=["operators"])
PLATFORM = "*"  # operator_audit.tenant_id of a cross-tenant read
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
TenantQ = Annotated[
    str | None, Query(min_length=1, max_length=63, description="only this tenant (logged for the tenant)")
]


@dataclass(frozen=True, slots=True)
class Console:
    """An operator's cross-tenant session: transactions as ``pulse_operator``, the actor for audit rows."""

    db: Database
    actor: Actor

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        with operator_transaction(self.db) as conn:
            yield conn


def _console(request: Request, principal: Principal, db: Database, *, log_platform: bool) -> Console:
    tenant = request.path_params.get("tenant_id") or request.query_params.get("tenant_id")
    if tenant or log_platform:
        with operator_transaction(db) as conn:
            if tenant and conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant,)).fetchone() is None:
                raise NotFound(f"no tenant {tenant!r}")
            actor = operator_actor(principal, request)
            record_access(
                conn,
                {
                    "tenant_id": tenant or PLATFORM,
                    "operator": principal.display,
                    "role": principal.role.value,
                    "method": request.method,
                    "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                    "ip": request.client.host if request.client else "",
                    "user_agent": request.headers.get("user-agent", ""),
                    "request_id": actor.request_id,
                },
            )
    return Console(db, operator_actor(principal, request))


def get_console(request: Request, principal: OperatorDep, db: DbDep) -> Console:
    """Logs the request when it names a tenant."""
    return _console(request, principal, db, log_platform=False)


def get_records_console(request: Request, principal: OperatorDep, db: DbDep) -> Console:
    """Logs every request: for the tenant it names, else as ``*`` (it shows tenants' records)."""
    return _console(request, principal, db, log_platform=True)


ConsoleDep = Annotated[Console, Depends(get_console)]
RecordsConsoleDep = Annotated[Console, Depends(get_records_console)]


@router.get("/tenants/health")
def tenants_health(
    session: ConsoleDep, svc: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[TenantHealth]:
    """Per tenant (by id): devices, online now, open alerts by severity, messages per minute over the last
    5 and 60 minutes, messages quarantined in the last 24 h, subscription plan and status."""
    with session.transaction() as conn:
        return console.tenants_health(conn, svc.clock(), limit=limit, cursor=cursor)


@router.get("/devices")
def search_devices(
    session: RecordsConsoleDep,
    svc: ServicesDep,
    q: Annotated[str | None, Query(max_length=100, description="name or id substring, or key:value of a tag")] = None,
    tenant_id: TenantQ = None,
    status: Annotated[list[DeviceStatus], Query(description="lifecycle status")] = [],  # noqa: B006 - copied per request
    connectivity: Annotated[list[ConnectivityState], Query()] = [],  # noqa: B006 - FastAPI copies query defaults per request
    tag: Annotated[list[str], Query(description="key:value, repeatable (all must match)")] = [],  # noqa: B006
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[OperatorDevice]:
    """Devices of every tenant (or one), by tenant and id, with their connectivity now."""
    tags = parse_tag_filters(tag)
    with session.transaction() as conn:
        return console.search_devices(
            conn,
            svc.clock(),
            q=q,
            tenant_id=tenant_id,
            status=status,
            connectivity=connectivity,
            tags=tags,
            limit=limit,
            cursor=cursor,
        )


@router.get("/quarantine")
def list_quarantine(
    session: RecordsConsoleDep,
    reason: QuarantineReason | None = None,
    tenant_id: TenantQ = None,
    device_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[QuarantinedMessage]:
    """Refused messages, newest first: reason, detail, topic, device, tenant, when, and at most 512 bytes
    of the payload as text."""
    with session.transaction() as conn:
        return quarantine.list_quarantine(
            conn,
            reason=reason,
            tenant_id=tenant_id,
            device_id=device_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )


@router.get("/quarantine/reasons")
def quarantine_reasons(
    session: ConsoleDep,
    svc: ServicesDep,
    tenant_id: TenantQ = None,
    hours: Annotated[int, Query(ge=1, le=720, description="window ending now")] = 24,
) -> QuarantineReasons:
    """Refused messages per reason over the last ``hours`` (minute resolution)."""
    now = svc.clock()
    with session.transaction() as conn:
        return quarantine.reason_counts(conn, tenant_id=tenant_id, since=now - timedelta(hours=hours), until=now)


@router.get("/subscriptions")
def list_subscriptions(
    session: ConsoleDep,
    status: Annotated[list[SubscriptionStatus], Query()] = [],  # noqa: B006 - FastAPI copies query defaults per request
    plan_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[OperatorSubscription]:
    """Every tenant's subscription (by tenant id): plan, status, period, limits and devices in use."""
    with session.transaction() as conn:
        return subscriptions.list_subscriptions(conn, status=status, plan_id=plan_id, limit=limit, cursor=cursor)


@router.put("/tenants/{tenant_id}/subscription", responses={400: {}, 403: {}, 404: {}, 412: {}})
def change_subscription(
    principal: OperatorAdminDep,
    session: ConsoleDep,
    tenant_id: str,
    body: SubscriptionChange,
    if_match: IfMatchDep,
    svc: ServicesDep,
    response: Response,
) -> OperatorSubscription:
    """Operator administrators: a new plan and/or a new end of the paid period. The status follows from
    the dates (trial/active until ``ends_at``, then grace, suspended, expired by the plan) and the limits
    from the plan. ``If-Match`` with the version read is honoured when sent."""
    with session.transaction() as conn:
        changed = subscriptions.change_subscription(
            conn, tenant_id, body, session.actor, svc.clock(), if_match=if_match
        )
    response.headers["ETag"] = etag(changed.version)
    return changed
