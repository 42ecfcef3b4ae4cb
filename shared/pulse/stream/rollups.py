"""Rollups: 1-minute and 1-hour aggregates of telemetry, recomputed for the hours ingest marked dirty.

Ingest adds (tenant, hour) to ``telemetry_dirty_hours`` in the transaction that stores the rows, late
data included. A refresh takes a batch of those rows (``FOR UPDATE SKIP LOCKED``, so concurrent runs
split the work instead of repeating it), and in the same transaction replaces the 1-minute buckets of
each hour with aggregates of the raw rows, and the hour's 1-hour bucket with aggregates of those
minutes. ``last_value`` is the value at the newest ts; when several rows share it, the largest value
wins (the same rule the raw queries use, so both always agree).

Buckets are aligned with ``date_bin(..., TIMESTAMPTZ 'epoch')``, which ignores the session time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

DEFAULT_BATCH_HOURS = 500

_TAKE_DIRTY_HOURS = """
WITH picked AS (
    SELECT tenant_id, hour FROM telemetry_dirty_hours
    ORDER BY hour, tenant_id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM telemetry_dirty_hours d USING picked p
WHERE d.tenant_id = p.tenant_id AND d.hour = p.hour
RETURNING d.tenant_id, d.hour
"""

# The constant bounds (low, high) let the planner prune the partitions outside the batch.
_DELETE_MINUTES = """
DELETE FROM telemetry_1m r
USING unnest(%(tenants)s::text[], %(hours)s::timestamptz[]) AS h(tenant_id, hour)
WHERE r.tenant_id = h.tenant_id AND r.bucket >= h.hour AND r.bucket < h.hour + interval '1 hour'
  AND r.bucket >= %(low)s AND r.bucket < %(high)s
"""

_DELETE_HOURS = """
DELETE FROM telemetry_1h r
USING unnest(%(tenants)s::text[], %(hours)s::timestamptz[]) AS h(tenant_id, hour)
WHERE r.tenant_id = h.tenant_id AND r.bucket = h.hour
  AND r.bucket >= %(low)s AND r.bucket < %(high)s
"""

# Minutes from the raw rows, one dirty hour at a time (LATERAL: each reads only its hour's partition
# and index range), then each hour from the minutes just written (the CTE's RETURNING), so the hour
# never reads the rollup table back.
_INSERT_MINUTES_AND_HOURS = """
WITH minutes AS (
    INSERT INTO telemetry_1m (tenant_id, device_id, metric, bucket, count, sum, min, max, last_ts, last_value)
    SELECT h.tenant_id, m.*
    FROM unnest(%(tenants)s::text[], %(hours)s::timestamptz[]) AS h(tenant_id, hour)
    CROSS JOIN LATERAL (
        SELECT t.device_id, t.metric, date_bin('1 minute', t.ts, TIMESTAMPTZ 'epoch'),
               count(*), sum(t.value), min(t.value), max(t.value), max(t.ts),
               (array_agg(t.value ORDER BY t.ts DESC, t.value DESC))[1]
        FROM telemetry t
        WHERE t.tenant_id = h.tenant_id AND t.ts >= h.hour AND t.ts < h.hour + interval '1 hour'
        GROUP BY 1, 2, 3
    ) AS m
    RETURNING tenant_id, device_id, metric, bucket, count, sum, min, max, last_ts, last_value
), hours AS (
    INSERT INTO telemetry_1h (tenant_id, device_id, metric, bucket, count, sum, min, max, last_ts, last_value)
    SELECT tenant_id, device_id, metric, date_bin('1 hour', bucket, TIMESTAMPTZ 'epoch'),
           sum(count), sum(sum), min(min), max(max), max(last_ts),
           (array_agg(last_value ORDER BY last_ts DESC, last_value DESC))[1]
    FROM minutes
    GROUP BY 1, 2, 3, 4
    RETURNING 1
)
SELECT (SELECT count(*) FROM minutes), (SELECT count(*) FROM hours)
"""


@dataclass(frozen=True, slots=True)
class RollupRefresh:
    """What one refresh did: dirty (tenant, hour) rows taken and rollup rows written."""

    hours: int = 0
    minute_rows: int = 0
    hour_rows: int = 0

    def __add__(self, other: RollupRefresh) -> RollupRefresh:
        return RollupRefresh(
            self.hours + other.hours, self.minute_rows + other.minute_rows, self.hour_rows + other.hour_rows
        )


def refresh_dirty_rollups(conn: psycopg.Connection, *, limit_hours: int = DEFAULT_BATCH_HOURS) -> RollupRefresh:
    """Recomputes the rollups of up to ``limit_hours`` dirty (tenant, hour) pairs, oldest first.

    Runs inside the caller's transaction: if it rolls back, the hours are dirty again.
    """
    if limit_hours < 1:
        raise ValueError("limit_hours must be at least 1")
    taken: list[tuple[str, datetime]] = conn.execute(_TAKE_DIRTY_HOURS, (limit_hours,)).fetchall()
    if not taken:
        return RollupRefresh()
    hours = [h for _, h in taken]
    params: dict[str, Any] = {
        "tenants": [t for t, _ in taken],
        "hours": hours,
        "low": min(hours),
        "high": max(hours) + timedelta(hours=1),
    }
    conn.execute(_DELETE_MINUTES, params)
    conn.execute(_DELETE_HOURS, params)
    row = conn.execute(_INSERT_MINUTES_AND_HOURS, params).fetchone()
    minute_rows, hour_rows = row if row is not None else (0, 0)
    return RollupRefresh(hours=len(taken), minute_rows=minute_rows, hour_rows=hour_rows)
