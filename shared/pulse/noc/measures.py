"""SQL of the fleet measures the dashboard, the operator console and the NOC share (psycopg 3).

Each function takes ``tenants``: the tenants to measure, or None for every tenant (operators, as
``pulse_operator``). A customer's transaction passes its own tenant; row-level security admits
nothing else anyway. Counts come back per tenant; callers add them up where they need one figure.

Ingest is counted in ``telemetry_messages`` by the time a message was received (a BRIN index,
migration 0060). That table is partitioned by the device's timestamp, so the read is also bounded to
messages whose device timestamp is at most ``BACKFILL_SLACK`` older than the window (partition
pruning): a device that replays a buffer older than that is not counted in the live rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from pulse.noc.models import ConnectivityCounts, SeverityCounts

Tenants = Sequence[str] | None
BACKFILL_SLACK = timedelta(hours=1)
BUCKET_ORIGIN = datetime.fromisoformat("2000-01-03T00:00:00+00:00")  # a Monday, midnight UTC
ACTIVE_ALERT = "state NOT IN ('resolved', 'closed')"  # the predicate of alerts_one_active


def tenant_clause(tenants: Tenants, params: dict[str, Any], column: str = "tenant_id") -> str:
    """`` AND <column> = ANY(...)`` when ``tenants`` is given (adds the parameter), else nothing."""
    if tenants is None:
        return ""
    params["tenants"] = list(tenants)
    return f" AND {column} = ANY(%(tenants)s)"


def floor_time(at: datetime, step: timedelta) -> datetime:
    """``at`` rounded down to a multiple of ``step`` since ``BUCKET_ORIGIN``."""
    return at - (at - BUCKET_ORIGIN) % step


def buckets(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """Starts of the buckets of ``step`` in [start, end), oldest first (``start`` on a bucket boundary)."""
    return [start + n * step for n in range(int((end - start) / step))]


def connectivity(conn: psycopg.Connection, tenants: Tenants, now: datetime) -> dict[str, ConnectivityCounts]:
    """Active devices by connectivity now: the rule of ``pulse_connectivity_status`` (migration 0013)
    evaluated at ``now``, not the sweep's last result; ``never`` when never heard from nor connected."""
    params: dict[str, Any] = {"now": now}
    where = tenant_clause(tenants, params, "d.tenant_id")
    rows = conn.execute(
        f"""SELECT tenant_id, state, count(*) FROM (
                SELECT d.tenant_id,
                       CASE WHEN d.last_seen_at IS NULL AND c.presence_at IS NULL THEN 'never'
                            ELSE lower(pulse_connectivity_status(d.last_seen_at, d.heartbeat_interval_s, c.connected,
                                                                 c.presence_at, %(now)s)) END AS state
                FROM devices d
                LEFT JOIN device_connectivity c ON c.tenant_id = d.tenant_id AND c.device_id = d.id
                WHERE d.status = 'active'{where}
            ) s GROUP BY tenant_id, state""",
        params,
    ).fetchall()
    found: dict[str, dict[str, int]] = {}
    for tenant_id, state, n in rows:
        found.setdefault(tenant_id, {})[state] = n
    return {t: ConnectivityCounts(total=sum(c.values()), **c) for t, c in found.items()}


def devices(conn: psycopg.Connection, tenants: Tenants) -> dict[str, int]:
    """Devices that are not decommissioned (what a plan's device limit counts)."""
    params: dict[str, Any] = {}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"SELECT tenant_id, count(*) FROM devices WHERE status <> 'decommissioned'{where} GROUP BY tenant_id", params
    ).fetchall()
    return {str(t): int(n) for t, n in rows}


def open_alerts(conn: psycopg.Connection, tenants: Tenants) -> dict[str, SeverityCounts]:
    """Alerts open, acknowledged or snoozed, by severity."""
    params: dict[str, Any] = {}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"SELECT tenant_id, severity, count(*) FROM alerts WHERE {ACTIVE_ALERT}{where} GROUP BY tenant_id, severity",
        params,
    ).fetchall()
    found: dict[str, dict[str, int]] = {}
    for tenant_id, severity, n in rows:
        found.setdefault(tenant_id, {})[severity] = n
    return {t: SeverityCounts(total=sum(c.values()), **c) for t, c in found.items()}


def ingest_windows(
    conn: psycopg.Connection, tenants: Tenants, now: datetime, windows: Sequence[timedelta]
) -> dict[str, list[int]]:
    """Messages received in each of ``windows`` before ``now``, per tenant (one scan for all)."""
    longest = max(windows)
    params: dict[str, Any] = {"start": now - longest, "lower": now - longest - BACKFILL_SLACK, "now": now}
    where = tenant_clause(tenants, params)
    counts = []
    for n, window in enumerate(windows):
        params[f"w{n}"] = now - window
        counts.append(f"count(*) FILTER (WHERE received_at >= %(w{n})s)")
    rows = conn.execute(
        f"""SELECT tenant_id, {", ".join(counts)} FROM telemetry_messages
            WHERE ts >= %(lower)s AND received_at >= %(start)s AND received_at < %(now)s{where}
            GROUP BY tenant_id""",
        params,
    ).fetchall()
    return {r[0]: [int(v) for v in r[1:]] for r in rows}


def ingest_series(
    conn: psycopg.Connection, tenants: Tenants, start: datetime, end: datetime, step: timedelta
) -> dict[datetime, int]:
    """Messages received per bucket of ``step`` in [start, end)."""
    params: dict[str, Any] = {"start": start, "end": end, "lower": start - BACKFILL_SLACK, "step": step}
    params["origin"] = BUCKET_ORIGIN
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"""SELECT date_bin(%(step)s, received_at, %(origin)s) AS bucket, count(*) FROM telemetry_messages
            WHERE ts >= %(lower)s AND received_at >= %(start)s AND received_at < %(end)s{where}
            GROUP BY bucket""",
        params,
    ).fetchall()
    return {b: int(n) for b, n in rows}


def alerts_opened_series(
    conn: psycopg.Connection, tenants: Tenants, start: datetime, end: datetime, step: timedelta
) -> dict[datetime, int]:
    params: dict[str, Any] = {"start": start, "end": end, "step": step, "origin": BUCKET_ORIGIN}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"""SELECT date_bin(%(step)s, opened_at, %(origin)s) AS bucket, count(*) FROM alerts
            WHERE opened_at >= %(start)s AND opened_at < %(end)s{where} GROUP BY bucket""",
        params,
    ).fetchall()
    return {b: int(n) for b, n in rows}


def delivery_series(
    conn: psycopg.Connection, tenants: Tenants, start: datetime, end: datetime, step: timedelta
) -> dict[datetime, tuple[int, int, int]]:
    """Per bucket: attempts delivered, attempts failed (retryable or permanent), deliveries dead-lettered."""
    params: dict[str, Any] = {"start": start, "end": end, "step": step, "origin": BUCKET_ORIGIN}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"""SELECT bucket, sum(delivered)::bigint, sum(failed)::bigint, sum(dead)::bigint FROM (
                SELECT date_bin(%(step)s, finished_at, %(origin)s) AS bucket,
                       count(*) FILTER (WHERE status = 'delivered') AS delivered,
                       count(*) FILTER (WHERE status <> 'delivered') AS failed, 0 AS dead
                FROM delivery_attempts WHERE finished_at >= %(start)s AND finished_at < %(end)s{where}
                GROUP BY 1
                UNION ALL
                SELECT date_bin(%(step)s, dead_at, %(origin)s), 0, 0, count(*)
                FROM deliveries WHERE status = 'dead' AND dead_at >= %(start)s AND dead_at < %(end)s{where}
                GROUP BY 1
            ) s GROUP BY bucket""",
        params,
    ).fetchall()
    return {b: (int(d), int(f), int(x)) for b, d, f, x in rows}


def quarantined(conn: psycopg.Connection, tenants: Tenants, since: datetime) -> dict[str, int]:
    """Refused messages since ``since`` per tenant, from the per-minute counters ('' = no known tenant)."""
    params: dict[str, Any] = {"since": floor_time(since, timedelta(minutes=1))}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"SELECT tenant_id, sum(count)::bigint FROM quarantine_counts WHERE minute >= %(since)s{where} "
        "GROUP BY tenant_id",
        params,
    ).fetchall()
    return {t: int(n) for t, n in rows}


def quarantine_reasons(conn: psycopg.Connection, tenants: Tenants, since: datetime, until: datetime) -> dict[str, int]:
    params: dict[str, Any] = {"since": floor_time(since, timedelta(minutes=1)), "until": until}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"""SELECT reason, sum(count)::bigint FROM quarantine_counts
            WHERE minute >= %(since)s AND minute < %(until)s{where} GROUP BY reason""",
        params,
    ).fetchall()
    return {r: int(n) for r, n in rows}


def delivery_failures(conn: psycopg.Connection, tenants: Tenants, since: datetime) -> tuple[int, int]:
    """(failed attempts, dead letters) since ``since``."""
    params: dict[str, Any] = {"since": since}
    where = tenant_clause(tenants, params)
    row = conn.execute(
        f"""SELECT (SELECT count(*) FROM delivery_attempts
                    WHERE finished_at >= %(since)s AND status <> 'delivered'{where}),
                   (SELECT count(*) FROM deliveries WHERE status = 'dead' AND dead_at >= %(since)s{where})""",
        params,
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def alerts_opened_by_hour(
    conn: psycopg.Connection, tenants: Tenants, since: datetime, until: datetime
) -> list[tuple[int, int, int]]:
    """(ISO weekday 1-7, hour 0-23 UTC, alerts opened) for each cell with any."""
    params: dict[str, Any] = {"since": since, "until": until}
    where = tenant_clause(tenants, params)
    rows = conn.execute(
        f"""SELECT extract(isodow FROM opened_at AT TIME ZONE 'UTC')::int AS dow,
                   extract(hour FROM opened_at AT TIME ZONE 'UTC')::int AS hour, count(*)
            FROM alerts WHERE opened_at >= %(since)s AND opened_at < %(until)s{where}
            GROUP BY dow, hour""",
        params,
    ).fetchall()
    return [(int(d), int(h), int(n)) for d, h, n in rows]
