"""NOC: platform gauges, time series, the alert heatmap, the live event feed, the service health strip.

Operators only (customers get 403). Every endpoint reads across tenants, or one with ``tenant_id``
(then logged in the operator access log for that tenant, see ``routers.operator``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pulse.api.deps import ServicesDep
from pulse.api.routers.operator import ConsoleDep, TenantQ
from pulse.noc import feed, health, service
from pulse.noc.models import (
    EventFeed,
    FeedKind,
    Heatmap,
    HeatmapWindow,
    NocHealth,
    NocSummary,
    NocTimeseries,
    SeriesWindow,
)

router = APIRouter(prefix="/noc", tags=["noc"])
MAX_EVENTS = 200


@router.get("/summary")
def noc_summary(session: ConsoleDep, svc: ServicesDep, tenant_id: TenantQ = None) -> NocSummary:
    """Fleet online % (active devices), messages per second over the last minute, open alerts (total and
    by severity), delivery failures in the last hour (failed attempts, dead letters)."""
    with session.transaction() as conn:
        return service.summary(conn, svc.clock(), tenant_id)


@router.get("/timeseries")
def noc_timeseries(
    session: ConsoleDep,
    svc: ServicesDep,
    minutes: Annotated[
        SeriesWindow, Query(description="window: 60 (1-minute buckets), 360 (5-minute), 1440 (15-minute)")
    ] = SeriesWindow.HOUR,
    tenant_id: TenantQ = None,
) -> NocTimeseries:
    """Per bucket: messages received, alerts opened, delivery attempts delivered and failed, dead letters."""
    with session.transaction() as conn:
        return service.timeseries(conn, svc.clock(), tenant_id, int(minutes))


@router.get("/heatmap")
def noc_heatmap(
    session: ConsoleDep,
    svc: ServicesDep,
    days: Annotated[HeatmapWindow, Query(description="window ending now")] = HeatmapWindow.WEEK,
    tenant_id: TenantQ = None,
) -> Heatmap:
    """Alerts opened by (weekday, hour of day) in UTC: a 7 x 24 matrix, Monday first, zeros included."""
    with session.transaction() as conn:
        return service.heatmap(conn, svc.clock(), tenant_id, int(days))


@router.get("/events")
def noc_events(
    session: ConsoleDep,
    after: Annotated[str | None, Query(description="the cursor of the previous answer: only newer events")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
    kind: Annotated[list[FeedKind], Query(description="only these kinds (repeatable)")] = [],  # noqa: B006
    tenant_id: TenantQ = None,
) -> EventFeed:
    """Alert lifecycle steps, quarantined messages, dead letters and presence changes, newest first. Poll
    with ``after=<cursor>`` for only the events stored since; ``has_more`` says more are waiting."""
    tenants = [tenant_id] if tenant_id else None
    with session.transaction() as conn:
        return feed.feed(conn, tenants, kind or feed.ALL_KINDS, after=after, limit=limit)


@router.get("/health")
def noc_health(session: ConsoleDep, svc: ServicesDep, tenant_id: TenantQ = None) -> NocHealth:
    """One entry per service (ingest, evaluator, outbox, delivery, escalation, connectivity sweep): ok,
    degraded or down, with the measure and the thresholds it was judged by (see ``pulse.noc.health``)."""
    with session.transaction() as conn:
        return health.service_health(conn, svc.clock(), tenant_id)
