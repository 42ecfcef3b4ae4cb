"""The delivery log (every delivery with its attempts) and dead letters with redrive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pulse.api.deps import ServicesDep, TenantDep, WriterDep
from pulse.notify import deadletters, delivery_log
from pulse.notify.deadletters import DeliveryStarter
from pulse.notify.defaults import default_starter
from pulse.notify.models import (
    DeadLetterFilter,
    Delivery,
    DeliveryDetail,
    DeliveryFilter,
    DeliveryStatus,
    RedriveIn,
    RedriveResult,
)
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["notifications"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def get_starter(request: Request, svc: ServicesDep) -> DeliveryStarter:
    injected: DeliveryStarter | None = getattr(request.app.state, "notify_starter", None)
    return injected if injected is not None else default_starter(svc.settings)


StarterDep = Annotated[DeliveryStarter, Depends(get_starter)]


@router.get("/deliveries")
def list_deliveries(
    scope: TenantDep,
    status: Annotated[list[DeliveryStatus], Query()] = [],  # noqa: B006 - FastAPI copies query defaults per request
    channel_id: str | None = None,
    event_id: str | None = None,
    alert_id: str | None = None,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Delivery]:
    """Newest first. ``event_id`` and ``alert_id`` also find grouped notifications that carried them."""
    f = DeliveryFilter(status=status, channel_id=channel_id, event_id=event_id, alert_id=alert_id)
    return delivery_log.list_deliveries(scope, f, limit=limit, cursor=cursor)


@router.get("/deliveries/{delivery_id}", responses={404: {"description": "no such delivery"}})
def get_delivery(scope: TenantDep, delivery_id: str) -> DeliveryDetail:
    """With every attempt (redrives included) and the events the notification carried."""
    return delivery_log.get_delivery(scope, delivery_id)


@router.get("/dead-letters")
def list_dead_letters(
    scope: TenantDep,
    channel_id: str | None = None,
    alert_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Delivery]:
    """Deliveries that will not be tried again, most recently dead first, with their last error."""
    f = DeadLetterFilter(channel_id=channel_id, alert_id=alert_id, since=since, until=until)
    return deadletters.list_dead_letters(scope, f, limit=limit, cursor=cursor)


@router.post(
    "/dead-letters/redrive",
    responses={404: {"description": "a named delivery is not dead"}, 502: {"description": "workflow unavailable"}},
)
def redrive(scope: WriterDep, svc: ServicesDep, starter: StarterDep, body: RedriveIn) -> RedriveResult:
    """Resets the named dead deliveries (or all matching, at most 1000) and starts each again."""
    return deadletters.redrive(scope, body, starter, now=svc.clock())
