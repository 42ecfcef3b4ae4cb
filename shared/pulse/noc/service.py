"""NOC reads across tenants (or one, ``tenant_id``): gauges, time series, the alert heatmap.

Callers pass a ``pulse_operator`` transaction. Series hold complete buckets only (the last one ends
where the current bucket begins), zeros included, so a chart never dips at its right edge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from pulse.noc import measures
from pulse.noc.models import (
    ConnectivityCounts,
    DeliveryFailures,
    Heatmap,
    NocPoint,
    NocSummary,
    NocTimeseries,
    SeverityCounts,
)

# Window (minutes) -> bucket: per minute for an hour, 5 minutes for 6 hours, 15 minutes for a day.
BUCKETS = {60: timedelta(minutes=1), 360: timedelta(minutes=5), 1440: timedelta(minutes=15)}
DAY_LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _tenants(tenant_id: str | None) -> list[str] | None:
    return [tenant_id] if tenant_id is not None else None


def summary(conn: psycopg.Connection, now: datetime, tenant_id: str | None) -> NocSummary:
    tenants = _tenants(tenant_id)
    devices = sum(measures.connectivity(conn, tenants, now).values(), ConnectivityCounts())
    alerts = sum(measures.open_alerts(conn, tenants).values(), SeverityCounts())
    last_minute = sum(n for (n,) in measures.ingest_windows(conn, tenants, now, [timedelta(minutes=1)]).values())
    failed, dead = measures.delivery_failures(conn, tenants, now - timedelta(hours=1))
    return NocSummary(
        generated_at=now,
        tenant_id=tenant_id,
        devices=devices,
        online_percent=round(100 * devices.online / devices.total, 1) if devices.total else None,
        ingest_per_second=round(last_minute / 60, 3),
        open_alerts=alerts,
        delivery_failures_last_hour=DeliveryFailures(failed_attempts=failed, dead_letters=dead),
    )


def timeseries(conn: psycopg.Connection, now: datetime, tenant_id: str | None, minutes: int) -> NocTimeseries:
    step = BUCKETS[minutes]
    end = measures.floor_time(now, step)
    start = end - timedelta(minutes=minutes)
    tenants = _tenants(tenant_id)
    ingest = measures.ingest_series(conn, tenants, start, end, step)
    opened = measures.alerts_opened_series(conn, tenants, start, end, step)
    deliveries = measures.delivery_series(conn, tenants, start, end, step)
    points = []
    for at in measures.buckets(start, end, step):
        delivered, failed, dead = deliveries.get(at, (0, 0, 0))
        points.append(
            NocPoint(
                at=at,
                ingest_messages=ingest.get(at, 0),
                alerts_opened=opened.get(at, 0),
                deliveries_succeeded=delivered,
                deliveries_failed=failed,
                dead_letters=dead,
            )
        )
    return NocTimeseries(tenant_id=tenant_id, minutes=minutes, bucket_seconds=int(step.total_seconds()), points=points)


def heatmap(conn: psycopg.Connection, now: datetime, tenant_id: str | None, days: int) -> Heatmap:
    """Alerts opened in the last ``days`` x 24 h by (ISO weekday, UTC hour): a full 7 x 24 matrix."""
    since = now - timedelta(days=days)
    matrix = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in measures.alerts_opened_by_hour(conn, _tenants(tenant_id), since, now):
        matrix[weekday - 1][hour] = count
    return Heatmap(
        tenant_id=tenant_id,
        days=days,
        since=since,
        until=now,
        day_labels=DAY_LABELS,
        matrix=matrix,
        total=sum(map(sum, matrix)),
        max=max(map(max, matrix)),
    )
