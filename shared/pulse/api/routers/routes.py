"""Notification routes: which alert events go to which channels, tried in order (first match stops
unless ``continue``), with grouping, repeat interval and throttle. Reorder with
``POST /notification-routes:reorder``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from pulse.api.deps import IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.notify import route_admin
from pulse.notify.models import Route, RouteCreate, RouteIn, RouteOrder
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/notification-routes", tags=["notifications"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
_REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "a named channel does not exist"},
    404: {"description": "no such route"},
    412: {"description": "If-Match is stale"},
    428: {"description": "If-Match missing"},
}


def _answer(route: Route, response: Response) -> Route:
    response.headers["ETag"] = etag(route.version)
    return route


@router.post("", status_code=status.HTTP_201_CREATED, responses=_REFUSALS)
def create_route(scope: WriterDep, svc: ServicesDep, body: RouteCreate, response: Response) -> Route:
    """Appended last unless ``position`` says where (later routes move down one)."""
    return _answer(route_admin.create_route(scope, body, now=svc.clock()), response)


@router.get("")
def list_routes(scope: TenantDep, limit: LimitQ = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Route]:
    """In evaluation order."""
    return route_admin.list_routes(scope, limit=limit, cursor=cursor)


@router.post(":reorder", responses={400: {"description": "route_ids is not every route once"}})
def reorder_routes(scope: WriterDep, svc: ServicesDep, body: RouteOrder) -> list[Route]:
    return route_admin.reorder_routes(scope, body, now=svc.clock())


@router.get("/{route_id}", responses={404: {"description": "no such route"}})
def get_route(scope: TenantDep, route_id: str, response: Response) -> Route:
    return _answer(route_admin.get_route(scope, route_id), response)


@router.put("/{route_id}", responses=_REFUSALS)
def update_route(
    scope: WriterDep, svc: ServicesDep, route_id: str, body: RouteIn, if_match: IfMatchDep, response: Response
) -> Route:
    return _answer(route_admin.update_route(scope, route_id, body, if_match=if_match, now=svc.clock()), response)


@router.delete("/{route_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}, 412: {}})
def delete_route(scope: WriterDep, svc: ServicesDep, route_id: str, if_match: IfMatchDep) -> None:
    route_admin.delete_route(scope, route_id, if_match=if_match, now=svc.clock())
