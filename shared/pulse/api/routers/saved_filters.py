"""Saved fleet filters: named ``GET /devices`` queries, personal (anyone) or shared with the tenant (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from pulse.api.deps import PrincipalDep, ServicesDep, TenantDep
from pulse.dashboard import saved_filters
from pulse.dashboard.models import FilterScope, SavedFilter, SavedFilterIn
from pulse.identity.models import Principal, Role
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/saved-filters", tags=["saved filters"])
_ADMINS = frozenset({Role.CUSTOMER_ADMIN, Role.OPERATOR_ADMIN})


def _is_admin(principal: Principal) -> bool:
    return principal.role in _ADMINS


@router.get("")
def list_saved_filters(
    scope: TenantDep,
    principal: PrincipalDep,
    scope_: Annotated[FilterScope | None, Query(alias="scope", description="only personal or only shared")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SavedFilter]:
    """Your personal filters and the tenant's shared ones, by name."""
    return saved_filters.list_filters(scope, is_admin=_is_admin(principal), only=scope_, limit=limit, cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED, responses={403: {}, 409: {}})
def create_saved_filter(
    scope: TenantDep, principal: PrincipalDep, body: SavedFilterIn, svc: ServicesDep
) -> SavedFilter:
    """``scope: personal`` for anyone (viewers included); ``scope: tenant`` for administrators. The query
    takes the parameters of ``GET /devices`` (not ``limit``/``cursor``); anything else is a 422."""
    return saved_filters.create_filter(scope, body, is_admin=_is_admin(principal), now=svc.clock())


@router.delete("/{filter_id}", status_code=status.HTTP_204_NO_CONTENT, responses={403: {}, 404: {}})
def delete_saved_filter(scope: TenantDep, principal: PrincipalDep, filter_id: str) -> None:
    """Your own personal filter, or (administrators) a shared one."""
    saved_filters.delete_filter(scope, filter_id, is_admin=_is_admin(principal))
