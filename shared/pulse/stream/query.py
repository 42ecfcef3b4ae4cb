"""Tenant-scoped reads of telemetry: raw ranges (keyset pages), time buckets, latest values.

Callers run these inside ``tenant_transaction`` so row-level security applies; every statement also
filters by ``tenant_id`` itself, so an owner connection (maintenance, tests) reads the same rows.

Buckets start on multiples of their width since 1970-01-01T00:00Z (``date_bin``). Narrow buckets are
computed from raw rows. Buckets of an hour or more combine, per UTC hour, the hourly rollup of each
whole hour of the range that is not waiting for a refresh (the rollup then holds exactly the
aggregates of its raw rows) with the raw rows of the partial hours at the ends and of dirty hours,
so the answer always equals the raw computation while a long range reads one row per metric and hour.

``latest`` reads the device row that ingest updates in the same transaction as it stores telemetry
(``devices.last_metrics``): one indexed row per device, whatever the retention, instead of a scan of
the newest partitions per metric.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pulse.connect.envelope import METRIC_NAME_PATTERN
from pulse.errors import RequestInvalid
from pulse.stream.models import (
    Bucket,
    BucketedSeries,
    BucketStat,
    DeviceLatest,
    RawCursor,
    RawPage,
    RawPoint,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_QUERY_RANGE = timedelta(days=366)
MAX_METRICS_PER_QUERY = 20
DEFAULT_RAW_LIMIT = 1000
MAX_RAW_LIMIT = 5000
MAX_BUCKET_POINTS = 10_000
MAX_LATEST_DEVICES = 1000
ROLLUP_MIN_WIDTH = timedelta(hours=1)

_METRIC = re.compile(METRIC_NAME_PATTERN)


# --- validation and bucket arithmetic (no database) ---


def parse_bucket(value: str | Bucket) -> Bucket:
    try:
        return Bucket(value)
    except ValueError:
        choices = ", ".join(b.value for b in Bucket)
        raise RequestInvalid(f"bucket {value!r} is not one of {choices}") from None


def bucket_start(ts: datetime, bucket: Bucket) -> datetime:
    """The start of the bucket holding ``ts``, as PostgreSQL's ``date_bin(width, ts, epoch)`` computes it."""
    width = bucket.width
    return EPOCH + ((ts - EPOCH) // width) * width


def validate_window(start: datetime, end: datetime, max_range: timedelta = MAX_QUERY_RANGE) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise RequestInvalid("start and end must carry a time zone (RFC 3339 with an offset)")
    if start >= end:
        raise RequestInvalid("start must be before end")
    if end - start > max_range:
        raise RequestInvalid(f"the range spans {end - start}; the limit is {max_range.days} days")


def validate_metrics(metrics: Sequence[str]) -> list[str]:
    """Distinct metric names in order; at least one, at most ``MAX_METRICS_PER_QUERY``."""
    if isinstance(metrics, str):
        metrics = [metrics]
    names = list(dict.fromkeys(metrics))
    if not names:
        raise RequestInvalid("name at least one metric")
    if len(names) > MAX_METRICS_PER_QUERY:
        raise RequestInvalid(f"{len(names)} metrics requested; the limit is {MAX_METRICS_PER_QUERY}")
    bad = [m for m in names if not _METRIC.fullmatch(m)]
    if bad:
        raise RequestInvalid(f"not a metric name: {bad[0]!r}")
    return names


def bucket_count(start: datetime, end: datetime, bucket: Bucket) -> int:
    """How many buckets the half-open range [start, end) touches."""
    first = bucket_start(start, bucket)
    last = bucket_start(end - timedelta(microseconds=1), bucket)
    return (last - first) // bucket.width + 1


def validate_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_RAW_LIMIT:
        raise RequestInvalid(f"limit must be between 1 and {MAX_RAW_LIMIT}")


# --- raw rows ---

_RAW_PAGE = """
SELECT r.ts, m.metric, r.value
FROM unnest(%(metrics)s::text[]) AS m(metric)
CROSS JOIN LATERAL (
    SELECT t.ts, t.value
    FROM telemetry t
    WHERE t.tenant_id = %(tenant)s AND t.device_id = %(device)s AND t.metric = m.metric
      AND t.ts >= %(low)s AND t.ts < %(end)s
      AND (t.ts, t.metric) > (%(after_ts)s, %(after_metric)s)
    ORDER BY t.ts
    LIMIT %(n)s
) AS r
ORDER BY r.ts, m.metric, r.value
LIMIT %(n)s
"""

_RAW_TIE_GROUP = """
SELECT ts, metric, value FROM telemetry
WHERE tenant_id = %s AND device_id = %s AND metric = %s AND ts = %s
ORDER BY value
"""


def raw_range(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    metrics: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    limit: int = DEFAULT_RAW_LIMIT,
    after: RawCursor | None = None,
) -> RawPage:
    """One page of a device's points in [start, end), ordered by (ts, metric), after ``after``.

    Two messages may carry the same metric at the same ts; a page never splits such a group (it may
    then hold a few more than ``limit`` points), so the keyset cursor loses nothing.
    """
    names = validate_metrics(metrics)
    validate_window(start, end)
    validate_limit(limit)
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "device": device_id,
        "metrics": names,
        "end": end,
        "n": limit + 1,
        # Without a cursor, a position just before `start` admits every row of the range.
        "low": max(start, after.ts) if after else start,
        "after_ts": after.ts if after else start - timedelta(microseconds=1),
        "after_metric": after.metric if after else "",
    }
    rows: list[tuple[datetime, str, float]] = conn.execute(_RAW_PAGE, params).fetchall()
    next_cursor = None
    if len(rows) > limit:
        boundary = rows[limit]
        rows = rows[:limit]
        if (rows[-1][0], rows[-1][1]) == (boundary[0], boundary[1]):
            ts, metric = boundary[0], boundary[1]
            rows = [r for r in rows if (r[0], r[1]) != (ts, metric)]
            rows += conn.execute(_RAW_TIE_GROUP, (tenant_id, device_id, metric, ts)).fetchall()
        next_cursor = RawCursor(ts=rows[-1][0], metric=rows[-1][1])
    return RawPage(
        points=[RawPoint(ts=ts, device_id=device_id, metric=metric, value=value) for ts, metric, value in rows],
        next_cursor=next_cursor,
    )


# --- buckets ---

_BUCKETS_FROM_RAW = """
SELECT metric, date_bin(%(width)s, ts, TIMESTAMPTZ 'epoch') AS bucket,
       count(*), sum(value), min(value), max(value), max(ts),
       (array_agg(value ORDER BY ts DESC, value DESC))[1]
FROM telemetry
WHERE tenant_id = %(tenant)s AND device_id = %(device)s AND metric = ANY(%(metrics)s)
  AND ts >= %(start)s AND ts < %(end)s
GROUP BY metric, bucket
ORDER BY metric, bucket
"""

# Whole hours inside the range come from `telemetry_1h` unless they are dirty; raw rows fill in the
# partial hours at both ends and the dirty hours. One statement, so one snapshot: ingest marks an
# hour dirty in the transaction that stores its rows, and a refresh clears the mark in the one that
# rewrites its rollup, so each hour is read from exactly one complete source.
_BUCKETS_FROM_HOURS_AND_RAW = """
WITH dirty AS MATERIALIZED (
    SELECT hour FROM telemetry_dirty_hours
    WHERE tenant_id = %(tenant)s AND hour >= %(inner_start)s AND hour < %(inner_end)s
), parts AS (
    SELECT r.metric, r.bucket AS at, r.count, r.sum, r.min, r.max, r.last_ts, r.last_value
    FROM telemetry_1h r
    WHERE r.tenant_id = %(tenant)s AND r.device_id = %(device)s AND r.metric = ANY(%(metrics)s)
      AND r.bucket >= %(inner_start)s AND r.bucket < %(inner_end)s
      AND r.bucket NOT IN (SELECT hour FROM dirty)
    UNION ALL
    SELECT t.metric, t.ts, 1, t.value, t.value, t.value, t.ts, t.value
    FROM telemetry t
    WHERE t.tenant_id = %(tenant)s AND t.device_id = %(device)s AND t.metric = ANY(%(metrics)s)
      AND t.ts >= %(start)s AND t.ts < %(inner_start)s
    UNION ALL
    SELECT t.metric, t.ts, 1, t.value, t.value, t.value, t.ts, t.value
    FROM telemetry t
    WHERE t.tenant_id = %(tenant)s AND t.device_id = %(device)s AND t.metric = ANY(%(metrics)s)
      AND t.ts >= %(inner_end)s AND t.ts < %(end)s
    UNION ALL
    SELECT t.metric, t.ts, 1, t.value, t.value, t.value, t.ts, t.value
    FROM dirty d
    JOIN telemetry t ON t.ts >= d.hour AND t.ts < d.hour + interval '1 hour'
    WHERE t.tenant_id = %(tenant)s AND t.device_id = %(device)s AND t.metric = ANY(%(metrics)s)
      AND t.ts >= %(inner_start)s AND t.ts < %(inner_end)s
)
SELECT metric, date_bin(%(width)s, at, TIMESTAMPTZ 'epoch') AS bucket,
       sum(count)::bigint, sum(sum), min(min), max(max), max(last_ts),
       (array_agg(last_value ORDER BY last_ts DESC, last_value DESC))[1]
FROM parts
GROUP BY metric, bucket
ORDER BY metric, bucket
"""


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The span of whole UTC hours inside [start, end), or None when it holds none."""
    hour = Bucket.HOUR
    inner_start = bucket_start(start, hour)
    if inner_start < start:
        inner_start += hour.width
    inner_end = bucket_start(end, hour)
    return (inner_start, inner_end) if inner_start < inner_end else None


def bucketed(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    metrics: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    bucket: str | Bucket,
    max_points: int = MAX_BUCKET_POINTS,
) -> BucketedSeries:
    """avg/min/max/count/last of each metric per bucket over [start, end); empty buckets are left out.

    A bucket cut by ``start`` or ``end`` aggregates only the rows inside the range. Buckets of an hour
    or more read the hourly rollup for the whole, refreshed hours of the range and raw rows for the rest.
    """
    width = parse_bucket(bucket)
    names = validate_metrics(metrics)
    validate_window(start, end)
    points = bucket_count(start, end, width) * len(names)
    if points > max_points:
        raise RequestInvalid(
            f"{points} buckets requested (metrics x buckets); the limit is {max_points}: "
            "choose a wider bucket or a shorter range"
        )
    params = {
        "tenant": tenant_id,
        "device": device_id,
        "metrics": names,
        "start": start,
        "end": end,
        "width": width.width,
    }
    hours = whole_hours(start, end) if width.width >= ROLLUP_MIN_WIDTH else None
    if hours is None:
        rows = conn.execute(_BUCKETS_FROM_RAW, params).fetchall()
    else:
        params |= {"inner_start": hours[0], "inner_end": hours[1]}
        rows = conn.execute(_BUCKETS_FROM_HOURS_AND_RAW, params).fetchall()
    return BucketedSeries(
        bucket=width,
        source="raw" if hours is None else "rollup_1h",
        stats=[
            BucketStat(
                metric=metric,
                bucket=b,
                count=count,
                avg=total / count,
                min=low,
                max=high,
                last=last,
                last_ts=last_ts,
            )
            for metric, b, count, total, low, high, last_ts, last in rows
        ],
    )


# --- latest ---

_LATEST = """
SELECT id, last_msg_ts, last_seen_at, last_metrics
FROM devices
WHERE tenant_id = %(tenant)s AND last_msg_ts IS NOT NULL
  AND (%(all)s OR id = ANY(%(ids)s::text[]))
ORDER BY id
"""


def latest(conn: psycopg.Connection, tenant_id: str, device_ids: Sequence[str] | None = None) -> list[DeviceLatest]:
    """Newest value per metric of the given devices (all of the tenant's when None), by device id.

    Devices that never reported, or that are not the tenant's, are absent from the result.
    """
    ids = None if device_ids is None else list(dict.fromkeys(device_ids))
    if ids is not None and len(ids) > MAX_LATEST_DEVICES:
        raise RequestInvalid(f"{len(ids)} devices requested; the limit is {MAX_LATEST_DEVICES}")
    rows = conn.execute(_LATEST, {"tenant": tenant_id, "all": ids is None, "ids": ids or []}).fetchall()
    return [
        DeviceLatest(device_id=device_id, last_msg_ts=last_msg_ts, last_seen_at=last_seen_at, metrics=last_metrics)
        for device_id, last_msg_ts, last_seen_at, last_metrics in rows
    ]
