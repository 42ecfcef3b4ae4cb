"""The tenant dashboard: the fleet's connectivity, open alerts, ingest rate and recent events, in one read."""

from __future__ import annotations

from datetime import datetime, timedelta

from pulse.dashboard.models import TenantDashboard
from pulse.identity.scope import TenantScope
from pulse.noc import feed, measures
from pulse.noc.models import ConnectivityCounts, IngestRate, RatePoint, SeverityCounts

MINUTE = timedelta(minutes=1)
SERIES_MINUTES = 60
RECENT_EVENTS = 20


def ingest_rate(
    series: dict[datetime, int], last_minute: int, *, end: datetime, step: timedelta, buckets: int
) -> IngestRate:
    start = end - buckets * step
    return IngestRate(
        per_second_now=round(last_minute / 60, 3),
        bucket_seconds=int(step.total_seconds()),
        series=[RatePoint(at=at, messages=series.get(at, 0)) for at in measures.buckets(start, end, step)],
    )


def tenant_dashboard(scope: TenantScope, now: datetime) -> TenantDashboard:
    tenant = scope.tenant_id
    tenants = [tenant]
    end = measures.floor_time(now, MINUTE)
    with scope.transaction() as conn:
        devices = measures.connectivity(conn, tenants, now).get(tenant, ConnectivityCounts())
        alerts = measures.open_alerts(conn, tenants).get(tenant, SeverityCounts())
        series = measures.ingest_series(conn, tenants, end - SERIES_MINUTES * MINUTE, end, MINUTE)
        last_minute = measures.ingest_windows(conn, tenants, now, [MINUTE]).get(tenant, [0])[0]
        events, _ = feed.newest(conn, tenants, ("alert", "presence"), limit=RECENT_EVENTS)
    return TenantDashboard(
        tenant_id=tenant,
        generated_at=now,
        devices=devices,
        open_alerts=alerts,
        ingest=ingest_rate(series, last_minute, end=end, step=MINUTE, buckets=SERIES_MINUTES),
        recent_events=events,
    )
