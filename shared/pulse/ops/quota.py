"""Per-tenant API rate limit: a fixed one-minute window counted in PostgreSQL.

One UPSERT per request increments the tenant's window (or starts a new one) and returns the count,
so the limit holds across any number of concurrent API Lambdas.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from pulse.errors import PulseError

WINDOW_S = 60


class RateLimited(PulseError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


def count_request(conn: psycopg.Connection, tenant_id: str, default_limit: int, now: datetime) -> int:
    """Counts this request; raises RateLimited when the tenant's window is full. Returns the count."""
    row = conn.execute(
        """WITH lim AS (SELECT coalesce((SELECT api_rate_per_minute FROM tenants WHERE id = %(t)s), %(d)s) AS n)
           INSERT INTO api_rate_windows AS w (tenant_id, window_start, count)
           VALUES (%(t)s, date_trunc('minute', %(now)s::timestamptz), 1)
           ON CONFLICT (tenant_id) DO UPDATE
           SET count = CASE WHEN w.window_start = excluded.window_start THEN w.count + 1 ELSE 1 END,
               window_start = excluded.window_start
           RETURNING count, (SELECT n FROM lim), window_start""",
        {"t": tenant_id, "d": default_limit, "now": now},
    ).fetchone()
    assert row is not None
    count, limit, window_start = int(row[0]), int(row[1]), row[2]
    if count > limit:
        retry = max(1, WINDOW_S - int((now - window_start).total_seconds()))
        raise RateLimited(f"tenant {tenant_id!r} may make {limit} API requests per minute", retry)
    return count
