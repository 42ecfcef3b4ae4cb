"""Bucketed queries equal a Python reference over random series, computed from raw rows and from rollups."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse.db import Database, tenant_transaction
from pulse.stream.models import Bucket, BucketedSeries
from pulse.stream.query import bucket_start, bucketed
from pulse.stream.rollups import refresh_dirty_rollups

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 1, tzinfo=UTC)
SPAN_HOURS = 48
SPAN_MS = SPAN_HOURS * 3_600_000
DEVICE = "dev-1"
METRICS = ("temp_c", "rh")
# Bucket edges, so that rows land exactly on (and just before) minute, hour, 6 h and day boundaries.
EDGES_MS = [0, 59_999, 60_000, 3_599_999, 3_600_000, 21_599_999, 21_600_000, 86_399_999, 86_400_000]
_tenants = itertools.count()

Point = tuple[datetime, str, float]

timestamps = st.one_of(st.integers(0, SPAN_MS - 1), st.sampled_from(EDGES_MS)).map(
    lambda ms: BASE + timedelta(milliseconds=ms)
)
# Quarter units: every sum is exact in float8, whatever order PostgreSQL adds them in.
values = st.integers(-4000, 4000).map(lambda v: v / 4)
series = st.lists(st.tuples(timestamps, st.sampled_from(METRICS), values), max_size=80)
ranges_ms = st.tuples(st.integers(0, SPAN_MS - 1), st.integers(1, SPAN_MS)).map(sorted).filter(lambda r: r[0] < r[1])
hour_ranges = (
    st.tuples(st.integers(0, SPAN_HOURS - 1), st.integers(1, SPAN_HOURS)).map(sorted).filter(lambda r: r[0] < r[1])
)


def store(sql: psycopg.Connection, tenant_id: str, points: Iterable[Point]) -> None:
    """Rows as ingest writes them: partitions first, metric rows, then the dirty hours."""
    points = list(points)
    for day in sorted({ts.date() for ts, _, _ in points}):
        sql.execute("SELECT pulse_ensure_day_partition('telemetry', %s)", (day,))
    with sql.cursor() as cur:
        cur.executemany(
            "INSERT INTO telemetry (tenant_id, device_id, ts, metric, value) VALUES (%s, %s, %s, %s, %s)",
            [(tenant_id, DEVICE, ts, metric, value) for ts, metric, value in points],
        )
        cur.executemany(
            "INSERT INTO telemetry_dirty_hours VALUES (%s, %s) ON CONFLICT DO NOTHING",
            sorted({(tenant_id, ts.replace(minute=0, second=0, microsecond=0)) for ts, _, _ in points}),
        )


def reference(points: list[Point], start: datetime, end: datetime, bucket: Bucket) -> list[tuple]:
    """(metric, bucket, count, avg, min, max, last, last_ts) per bucket with rows.

    ``last`` is the value at the newest ts; of several values at that ts, the largest.
    """
    groups: dict[tuple[str, datetime], list[tuple[datetime, float]]] = {}
    for ts, metric, value in points:
        if start <= ts < end:
            groups.setdefault((metric, bucket_start(ts, bucket)), []).append((ts, value))
    out = []
    for (metric, b), rows in sorted(groups.items()):
        vals = [v for _, v in rows]
        last_ts, last = max(rows)
        out.append((metric, b, len(vals), sum(vals) / len(vals), min(vals), max(vals), last, last_ts))
    return out


def as_tuples(series: BucketedSeries) -> list[tuple]:
    return [(s.metric, s.bucket, s.count, s.avg, s.min, s.max, s.last, s.last_ts) for s in series.stats]


def query(db: Database, tenant_id: str, start: datetime, end: datetime, bucket: Bucket) -> BucketedSeries:
    with tenant_transaction(db, tenant_id) as conn:
        return bucketed(conn, tenant_id, DEVICE, METRICS, start=start, end=end, bucket=bucket)


def refresh_all(db: Database) -> None:
    with db.transaction() as conn:
        refresh_dirty_rollups(conn, limit_hours=10_000)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=series, raw_range_ms=ranges_ms, rollup_hours=hour_ranges)
def test_buckets_equal_python_reference_from_raw_and_from_rollups(sql, owner_db, points, raw_range_ms, rollup_hours):
    # Given a random series of a tenant of its own (the database is shared by the examples)
    tenant = f"prop-{next(_tenants)}"
    store(sql, tenant, points)
    start, end = (BASE + timedelta(milliseconds=ms) for ms in raw_range_ms)
    hour_start, hour_end = (BASE + timedelta(hours=h) for h in rollup_hours)

    # When its hours are dirty, every bucket width is computed from the raw rows
    for bucket in Bucket:
        result = query(owner_db, tenant, start, end, bucket)
        assert result.source == "raw"
        assert as_tuples(result) == reference(points, start, end, bucket)

    # When the rollups are refreshed, hour-aligned ranges of wide buckets read them and agree
    refresh_all(owner_db)
    for bucket in (Bucket.HOUR, Bucket.SIX_HOURS, Bucket.DAY):
        result = query(owner_db, tenant, hour_start, hour_end, bucket)
        assert result.source == "rollup_1h"
        assert as_tuples(result) == reference(points, hour_start, hour_end, bucket)
    # and ranges the hours cannot cover exactly still come from raw rows
    assert query(owner_db, tenant, start + timedelta(microseconds=1), end, Bucket.HOUR).source == "raw"
