"""Connectivity of a device: its status now (ONLINE / STALE / OFFLINE) and its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pulse.api.deps import ServicesDep, TenantDep
from pulse.connectivity import service
from pulse.connectivity.models import Connectivity, ConnectivityEvent
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["connectivity"])


@router.get("/devices/{device_id}/connectivity", responses={404: {}})
def get_connectivity(scope: TenantDep, svc: ServicesDep, device_id: str) -> Connectivity:
    return service.get_connectivity(scope, device_id, now=svc.clock())


@router.get("/devices/{device_id}/connectivity/history", responses={400: {}, 404: {}})
def list_connectivity_history(
    scope: TenantDep,
    device_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ConnectivityEvent]:
    """Lifecycle events (connected, disconnected with IoT Core's reason) and status changes, newest first."""
    return service.list_history(scope, device_id, limit=limit, cursor=cursor)
