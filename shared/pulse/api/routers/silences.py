"""Silences (matching alerts open silenced: nobody is notified) and maintenance windows (nothing opens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from pulse.alerts import silences
from pulse.alerts.suppression import MaintenanceIn, MaintenanceWindow, Silence, SilenceIn
from pulse.api.deps import ServicesDep, TenantDep, WriterDep
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["silences"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ActiveQ = Annotated[bool, Query(description="only those not ended yet")]


@router.post("/silences", status_code=status.HTTP_201_CREATED)
def create_silence(scope: WriterDep, svc: ServicesDep, body: SilenceIn) -> Silence:
    return silences.create_silence(scope, body, now=svc.clock())


@router.get("/silences")
def list_silences(
    scope: TenantDep,
    svc: ServicesDep,
    active: ActiveQ = False,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Silence]:
    """Newest start first."""
    return silences.list_silences(scope, active_at=svc.clock() if active else None, limit=limit, cursor=cursor)


@router.get("/silences/{silence_id}", responses={404: {}})
def get_silence(scope: TenantDep, silence_id: str) -> Silence:
    return silences.get_silence(scope, silence_id)


@router.delete("/silences/{silence_id}", responses={404: {}, 409: {"description": "already ended"}})
def expire_silence(scope: WriterDep, svc: ServicesDep, silence_id: str) -> Silence:
    """Ends the silence now (kept for the record; ``SilenceExpired`` follows within a minute)."""
    return silences.expire_silence(scope, silence_id, now=svc.clock())


@router.post("/maintenance", status_code=status.HTTP_201_CREATED, responses={404: {}})
def start_maintenance(scope: WriterDep, svc: ServicesDep, body: MaintenanceIn) -> MaintenanceWindow:
    """A device or a whole site raises no alerts from ``starts_at`` (default now) to ``ends_at``."""
    return silences.start_maintenance(scope, body, now=svc.clock())


@router.get("/maintenance")
def list_maintenance(
    scope: TenantDep,
    svc: ServicesDep,
    active: ActiveQ = False,
    device_id: str | None = None,
    site_id: str | None = None,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[MaintenanceWindow]:
    return silences.list_maintenance(
        scope,
        active_at=svc.clock() if active else None,
        device_id=device_id,
        site_id=site_id,
        limit=limit,
        cursor=cursor,
    )


@router.post("/maintenance/{window_id}/end", responses={404: {}, 409: {"description": "already ended"}})
def end_maintenance(scope: WriterDep, svc: ServicesDep, window_id: str) -> MaintenanceWindow:
    return silences.end_maintenance(scope, window_id, now=svc.clock())
