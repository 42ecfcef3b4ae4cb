"""Notification routes as customers manage them: create (at a position or last), read in evaluation
order, update under If-Match, delete, reorder. Positions stay 0..n-1 without gaps; every write is
audited in its transaction. A route may only name channels of its own tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg

from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.notify import store
from pulse.notify.models import Route, RouteCreate, RouteIn, RouteOrder
from pulse.ops.audit import record_change
from pulse.registry.errors import NotFound, PreconditionFailed, PreconditionRequired
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "routes_by_position"
_FIELDS = set(RouteIn.model_fields)


def _check_channels(conn: psycopg.Connection, tenant_id: str, channel_ids: list[str]) -> None:
    missing = [c for c in channel_ids if c not in store.existing_channel_ids(conn, tenant_id, channel_ids)]
    if missing:
        raise RequestInvalid(f"channel_ids: no channel {', '.join(map(repr, missing[:5]))}")


def _check_policy(conn: psycopg.Connection, tenant_id: str, policy_id: str | None) -> None:
    if policy_id is not None and not store.escalation_policy_exists(conn, tenant_id, policy_id):
        raise RequestInvalid(f"escalation_policy_id: no escalation policy {policy_id!r}")


def create_route(scope: TenantScope, body: RouteCreate, *, now: datetime) -> Route:
    with scope.transaction() as conn:
        _check_channels(conn, scope.tenant_id, body.channel_ids)
        _check_policy(conn, scope.tenant_id, body.escalation_policy_id)
        order = store.lock_routes(conn, scope.tenant_id)
        position = len(order) if body.position is None else min(body.position, len(order))
        route = Route(
            **body.model_dump(include=_FIELDS),
            id=f"rte_{uuid.uuid4().hex}",
            position=position,
            version=1,
            created_at=now,
            updated_at=now,
        )
        store.insert_route(conn, scope.tenant_id, route)
        if position < len(order):
            store.set_positions(conn, scope.tenant_id, [*order[:position], route.id, *order[position:]], now)
        record_change(conn, scope.tenant_id, scope.actor, "route.create", "route", route.id, None, route)
    return route


def get_route(scope: TenantScope, route_id: str) -> Route:
    with scope.transaction() as conn:
        route = store.get_route(conn, scope.tenant_id, route_id)
    if route is None:
        raise NotFound(f"no route {route_id!r}")
    return route


def list_routes(scope: TenantScope, *, limit: int, cursor: str | None) -> Page[Route]:
    """In evaluation order (position)."""
    after = decode_cursor(cursor, _SORT)
    with scope.transaction() as conn:
        rows = store.list_routes(
            conn, scope.tenant_id, after_position=int(after[0]) if after else None, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda r: [r.position])
    return Page[Route](items=items, next_cursor=next_cursor)


def _locked(conn: psycopg.Connection, scope: TenantScope, route_id: str, if_match: int | None) -> Route:
    route = store.get_route(conn, scope.tenant_id, route_id, lock=True)
    if route is None:
        raise NotFound(f"no route {route_id!r}")
    if if_match is not None and if_match != route.version:
        raise PreconditionFailed(f"route {route_id!r} is at version {route.version}, not {if_match}")
    return route


def update_route(scope: TenantScope, route_id: str, body: RouteIn, *, if_match: int | None, now: datetime) -> Route:
    """Replaces the route's settings; its position changes only through reorder."""
    if if_match is None:
        raise PreconditionRequired("If-Match: send the route's ETag (its version) to change it")
    with scope.transaction() as conn:
        before = _locked(conn, scope, route_id, if_match)
        _check_channels(conn, scope.tenant_id, body.channel_ids)
        _check_policy(conn, scope.tenant_id, body.escalation_policy_id)
        fields: dict[str, Any] = body.model_dump(include=_FIELDS)
        after = Route(
            **fields,
            id=route_id,
            position=before.position,
            version=before.version + 1,
            created_at=before.created_at,
            updated_at=now,
        )
        store.update_route(conn, scope.tenant_id, after)
        record_change(conn, scope.tenant_id, scope.actor, "route.update", "route", route_id, before, after)
    return after


def delete_route(scope: TenantScope, route_id: str, *, if_match: int | None, now: datetime) -> None:
    with scope.transaction() as conn:
        before = _locked(conn, scope, route_id, if_match)
        order = store.lock_routes(conn, scope.tenant_id)
        store.delete_route(conn, scope.tenant_id, route_id)
        store.set_positions(conn, scope.tenant_id, [r for r in order if r != route_id], now)
        record_change(conn, scope.tenant_id, scope.actor, "route.delete", "route", route_id, before, None)


def reorder_routes(scope: TenantScope, body: RouteOrder, *, now: datetime) -> list[Route]:
    """The routes in the order given; ``route_ids`` must name every route of the tenant once."""
    with scope.transaction() as conn:
        order = store.lock_routes(conn, scope.tenant_id)
        if sorted(body.route_ids) != sorted(order) or len(set(body.route_ids)) != len(body.route_ids):
            raise RequestInvalid("route_ids: name every route of the tenant exactly once")
        store.set_positions(conn, scope.tenant_id, body.route_ids, now)
        record_change(
            conn,
            scope.tenant_id,
            scope.actor,
            "route.reorder",
            "route",
            "*",
            {"order": order},
            {"order": body.route_ids},
        )
        return store.list_routes(conn, scope.tenant_id)
