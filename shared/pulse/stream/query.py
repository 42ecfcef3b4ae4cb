"""Tenant-scoped reads of telemetry: raw ranges (keyset pages), time buckets, latest values.

Callers run these inside ``tenant_transaction`` so row-level security applies; every statement also
filters by ``tenant_id`` itself, so an owner connection (maintenance, tests) reads the same rows.

Buckets start on multiples of their width since 1970-01-01T00:00Z (``date_bin``). They are computed
from raw rows, except that buckets of an hour or more over an hour-aligned range read the hourly
rollup when no hour of the range is waiting for a rollup refresh: the rollup then holds exactly the
aggregates of the raw rows, so both sources answer the same.

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


def is_aligned(ts: datetime, width: timedelta) -> bool:
    return (ts - EPOCH) % width == timedelta(0)


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

_BUCKETS_FROM_HOURS = """
SELECT metric, date_bin(%(width)s, bucket, TIMESTAMPTZ 'epoch') AS wide,
       sum(count)::bigint, sum(sum), min(min), max(max), max(last_ts),
       (array_agg(last_value ORDER BY last_ts DESC, last_value DESC))[1]
FROM telemetry_1h
WHERE tenant_id = %(tenant)s AND device_id = %(device)s AND metric = ANY(%(metrics)s)
  AND bucket >= %(start)s AND bucket < %(end)s
GROUP BY metric, wide
ORDER BY metric, wide
"""

_ANY_DIRTY_HOUR = """
SELECT EXISTS (SELECT 1 FROM telemetry_dirty_hours
               WHERE tenant_id = %s AND hour >= %s AND hour < %s)
"""


def _hourly_rollup_is_exact(
    conn: psycopg.Connection, tenant_id: str, bucket: Bucket, start: datetime, end: datetime
) -> bool:
    """True when ``telemetry_1h`` holds exactly the aggregates of the raw rows of [start, end)."""
    if bucket.width < ROLLUP_MIN_WIDTH or not (
        is_aligned(start, ROLLUP_MIN_WIDTH) and is_aligned(end, ROLLUP_MIN_WIDTH)
    ):
        return False
    row = conn.execute(_ANY_DIRTY_HOUR, (tenant_id, start, end)).fetchone()
    return row is not None and not row[0]


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

    A bucket cut by ``start`` or ``end`` aggregates only the rows inside the range.
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
    use_rollup = _hourly_rollup_is_exact(conn, tenant_id, width, start, end)
    rows = conn.execute(_BUCKETS_FROM_HOURS if use_rollup else _BUCKETS_FROM_RAW, params).fetchall()
    return BucketedSeries(
        bucket=width,
        source="rollup_1h" if use_rollup else "raw",
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
