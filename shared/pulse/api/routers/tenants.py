"""The caller's tenant and subscription; operators create tenants and change subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from pulse.api.deps import (
    AdminDep,
    DbDep,
    OperatorAdminDep,
    OperatorDep,
    PrincipalDep,
    ServicesDep,
    TenantDep,
    operator_actor,
)
from pulse.identity.models import Principal
from pulse.identity.scope import operator_transaction
from pulse.registry import subscriptions
from pulse.registry.models import (
    Plan,
    Subscription,
    SubscriptionChange,
    SubscriptionEvent,
    Tenant,
    TenantIn,
    TenantPatch,
)
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor

router = APIRouter(tags=["tenants"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/me")
def me(principal: PrincipalDep) -> Principal:
    return principal


@router.get("/plans")
def list_plans(principal: PrincipalDep, db: DbDep) -> list[Plan]:
    with db.transaction() as conn:
        return subscriptions.list_plans(conn)


@router.get("/tenant")
def current_tenant(scope: TenantDep) -> Tenant:
    with scope.transaction() as conn:
        return subscriptions.get_tenant(conn, scope.tenant_id)


@router.patch("/tenant")
def rename_tenant(scope: AdminDep, body: TenantPatch) -> Tenant:
    with scope.transaction() as conn:
        return subscriptions.rename_tenant(conn, scope.tenant_id, body.name, scope.actor)


@router.get("/subscription")
def current_subscription(scope: TenantDep) -> Subscription:
    with scope.transaction() as conn:
        return subscriptions.get_subscription(conn, scope.tenant_id)


@router.get("/subscription/events")
def subscription_events(
    scope: TenantDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[SubscriptionEvent]:
    after = decode_cursor(cursor, "subscription-events")
    with scope.transaction() as conn:
        rows = subscriptions.list_events(
            conn, scope.tenant_id, before_id=int(after[0]) if after else None, limit=limit + 1
        )
    items = rows[:limit]
    return Page(
        items=items, next_cursor=encode_cursor("subscription-events", [items[-1].id]) if len(rows) > limit else None
    )


@router.put("/subscription")
def change_subscription(
    principal: OperatorAdminDep, scope: TenantDep, body: SubscriptionChange, svc: ServicesDep
) -> Subscription:
    """Operator administrators: change the plan and/or the end of the paid period (``X-Pulse-Tenant``)."""
    with scope.transaction() as conn:
        return subscriptions.change_subscription(conn, scope.tenant_id, body, scope.actor, svc.clock())


@router.get("/tenants", tags=["operators"])
def list_tenants(
    principal: OperatorDep, db: DbDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Tenant]:
    after = decode_cursor(cursor, "tenants")
    with operator_transaction(db) as conn:
        rows = subscriptions.list_tenants(conn, after=str(after[0]) if after else None, limit=limit + 1)
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor("tenants", [items[-1].id]) if len(rows) > limit else None)


@router.post("/tenants", status_code=status.HTTP_201_CREATED, tags=["operators"])
def create_tenant(principal: OperatorAdminDep, body: TenantIn, db: DbDep, request: Request, svc: ServicesDep) -> Tenant:
    with operator_transaction(db) as conn:
        return subscriptions.create_tenant(conn, body, operator_actor(principal, request), svc.clock())
