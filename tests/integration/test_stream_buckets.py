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
from pulse.stream.query import bucket_start, bucketed, whole_hours
from pulse.stream.rollups import refresh_dirty_rollups
from tests.builders import store_points

pytestmark = pytest.mark.integration

# Twelve hours across a UTC midnight: minute, hour, 6-hour and day boundaries all fall inside.
BASE = datetime(2026, 2, 28, 18, tzinfo=UTC)
SPAN_HOURS = 12
SPAN_MS = SPAN_HOURS * 3_600_000
DEVICE = "dev-1"
METRICS = ("temp_c", "rh")
# Rows exactly on (and just before) minute and hour boundaries, the ones +6 h is a 6-hour and day boundary.
EDGES_MS = [59_999, 60_000, *(h * 3_600_000 + d for h in range(SPAN_HOURS) for d in (-1, 0) if h or d == 0)]
_tenants = itertools.count()

Point = tuple[datetime, str, float]

timestamps = st.one_of(st.integers(0, SPAN_MS - 1), st.sampled_from(EDGES_MS)).map(
    lambda ms: BASE + timedelta(milliseconds=ms)
)
# Quarter units: every sum is exact in float8, whatever order PostgreSQL adds them in.
values = st.integers(-4000, 4000).map(lambda v: v / 4)
series = st.lists(st.tuples(timestamps, st.sampled_from(METRICS), values), max_size=80)
# Range ends: an hour plus an offset that is often 0 (aligned) or just past / before the hour.
range_ends_ms = st.tuples(
    st.integers(0, SPAN_HOURS - 1),
    st.one_of(st.sampled_from([0, 1, 1_800_000, 3_599_999]), st.integers(0, 3_599_999)),
).map(lambda e: e[0] * 3_600_000 + e[1])
ranges_ms = st.tuples(range_ends_ms, range_ends_ms).map(sorted).filter(lambda r: r[0] < r[1])


def store(sql: psycopg.Connection, tenant_id: str, points: Iterable[Point]) -> None:
    store_points(sql, tenant_id, DEVICE, points)


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


def check_every_bucket(db: Database, tenant_id: str, points: list[Point], start: datetime, end: datetime) -> None:
    for bucket in Bucket:
        result = query(db, tenant_id, start, end, bucket)
        assert as_tuples(result) == reference(points, start, end, bucket), bucket
        uses_hours = bucket.width >= timedelta(hours=1) and whole_hours(start, end) is not None
        assert result.source == ("rollup_1h" if uses_hours else "raw")


def edge_points(start: datetime, end: datetime, vals: list[float]) -> list[Point]:
    """Rows on both sides of every edge the query splits the range at: start, end and the whole hours."""
    ms = timedelta(milliseconds=1)
    hours = whole_hours(start, end) or (start, start)
    edges = [start - ms, start, hours[0] - ms, hours[0], hours[1] - ms, hours[1], end - ms, end]
    return [(ts, METRICS[i % 2], v) for i, (ts, v) in enumerate(zip(edges, vals, strict=True))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=series,
    late=series,
    range_ms=ranges_ms,
    edge_values=st.lists(values, min_size=8, max_size=8),
)
def test_buckets_equal_python_reference_whatever_the_rollup_state(sql, owner_db, points, late, range_ms, edge_values):
    # Given a random series of a tenant of its own (the database is shared by the examples)
    tenant = f"prop-{next(_tenants)}"
    start, end = (BASE + timedelta(milliseconds=ms) for ms in range_ms)
    points = points + edge_points(start, end, edge_values)
    store(sql, tenant, points)

    # Every hour dirty: buckets come from raw rows
    check_every_bucket(owner_db, tenant, points, start, end)
    # Every hour refreshed: wide buckets read the hourly rollup for whole hours
    refresh_all(owner_db)
    check_every_bucket(owner_db, tenant, points, start, end)
    # Late rows make some hours dirty again: those hours come from raw rows, the others from the rollup
    store(sql, tenant, late)
    check_every_bucket(owner_db, tenant, points + late, start, end)
    refresh_all(owner_db)
    check_every_bucket(owner_db, tenant, points + late, start, end)
