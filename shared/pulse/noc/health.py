"""The NOC's service health strip, derived from what each service leaves in the database.

One entry per service; a measure at or above ``degraded_at`` is degraded, at or above ``down_at``
down. The scheduled evaluator, outbox sweep, escalation tick and connectivity sweep each run every
minute (cdk/pulse_cdk), so a backlog of a minute or two is normal:

| service            | measure                                                         | degraded | down  |
|--------------------|-----------------------------------------------------------------|----------|-------|
| ingest             | s since the newest message of any device (devices.last_seen_at) | 300      | 900   |
| evaluator          | s the oldest due rule state (enabled rule) is overdue            | 120      | 600   |
| outbox             | s the oldest unpublished event has waited                        | 120      | 600   |
| delivery           | deliveries dead-lettered in the last hour                        | 1        | 25    |
| escalation         | s the oldest due escalation step is overdue                      | 120      | 600   |
| connectivity_sweep | s the oldest status change the sweep has not applied is overdue  | 180      | 900   |

Ingest's measure has minute resolution (it reads the per-minute ``last_seen_minute`` index of each
tenant, not the ingest tables); a fleet that is quiet on purpose shows as degraded or down. The
connectivity measure evaluates every device's status now (as the sweep does) and compares it with
the stored one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from pulse.noc.measures import tenant_clause
from pulse.noc.models import HealthStatus, NocHealth, ServiceHealth

THRESHOLDS: dict[str, tuple[float, float]] = {
    "ingest": (300, 900),
    "evaluator": (120, 600),
    "outbox": (120, 600),
    "delivery": (1, 25),
    "escalation": (120, 600),
    "connectivity_sweep": (180, 900),
}
_RANK = {HealthStatus.OK: 0, HealthStatus.DEGRADED: 1, HealthStatus.DOWN: 2}
_BACKLOG_CAP = 100_000


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, round((now - since).total_seconds(), 1))


def _entry(service: str, measure: float | None, unit: str, detail: str) -> ServiceHealth:
    degraded_at, down_at = THRESHOLDS[service]
    status = HealthStatus.OK
    if measure is not None and measure >= down_at:
        status = HealthStatus.DOWN
    elif measure is not None and measure >= degraded_at:
        status = HealthStatus.DEGRADED
    return ServiceHealth.model_validate(
        {
            "service": service,
            "status": status,
            "measure": measure,
            "unit": unit,
            "degraded_at": degraded_at,
            "down_at": down_at,
            "detail": detail,
        }
    )


def _one(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _ingest(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {}
    where = tenant_clause(tenants, params, "t.id")
    newest = _one(
        conn,
        f"""SELECT max(m.last_seen_at) FROM tenants t CROSS JOIN LATERAL (
                SELECT d.last_seen_at FROM devices d
                WHERE d.tenant_id = t.id AND d.last_seen_minute IS NOT NULL
                ORDER BY d.last_seen_minute DESC, d.id DESC LIMIT 1) m
            WHERE true{where}""",
        params,
    )
    if newest is None:
        return _entry("ingest", None, "seconds", "no device has reported yet")
    return _entry("ingest", _age(now, newest), "seconds", f"newest message received at {newest.isoformat()}")


def _evaluator(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {"now": now}
    where = tenant_clause(tenants, params, "s.tenant_id")
    due = _one(
        conn,
        f"""SELECT s.next_due FROM rule_state s JOIN rules r ON r.tenant_id = s.tenant_id AND r.id = s.rule_id
            WHERE s.next_due < %(now)s AND r.enabled AND r.deleted_at IS NULL{where}
            ORDER BY s.next_due LIMIT 1""",
        params,
    )
    detail = f"oldest due rule state was due at {due.isoformat()}" if due else "no rule state is overdue"
    return _entry("evaluator", _age(now, due), "seconds", detail)


def _outbox(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {"cap": _BACKLOG_CAP}
    where = tenant_clause(tenants, params)
    row = conn.execute(
        f"""SELECT (SELECT created_at FROM events_outbox WHERE published_at IS NULL{where} ORDER BY id LIMIT 1),
                   (SELECT count(*) FROM (SELECT 1 FROM events_outbox WHERE published_at IS NULL{where}
                                          LIMIT %(cap)s) b)""",
        params,
    ).fetchone()
    oldest, backlog = row if row else (None, 0)
    detail = f"{backlog}{'+' if backlog >= _BACKLOG_CAP else ''} unpublished event(s)"
    return _entry("outbox", _age(now, oldest), "seconds", detail)


def _delivery(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {"since": now - timedelta(hours=1)}
    where = tenant_clause(tenants, params)
    row = conn.execute(
        f"""SELECT (SELECT count(*) FROM deliveries WHERE status = 'dead' AND dead_at >= %(since)s{where}),
                   (SELECT count(*) FROM delivery_attempts
                    WHERE finished_at >= %(since)s AND status <> 'delivered'{where})""",
        params,
    ).fetchone()
    dead, failed = row if row else (0, 0)
    return _entry("delivery", float(dead), "count", f"last hour: {dead} dead letter(s), {failed} failed attempt(s)")


def _escalation(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {"now": now}
    where = tenant_clause(tenants, params)
    due = _one(
        conn,
        f"""SELECT next_due_at FROM alert_escalations
            WHERE status = 'active' AND next_due_at <= %(now)s{where} ORDER BY next_due_at LIMIT 1""",
        params,
    )
    detail = f"oldest due step was due at {due.isoformat()}" if due else "no escalation step is overdue"
    return _entry("escalation", _age(now, due), "seconds", detail)


def _connectivity_sweep(conn: psycopg.Connection, now: datetime, tenants: list[str] | None) -> ServiceHealth:
    params: dict[str, Any] = {"now": now}
    where = tenant_clause(tenants, params, "d.tenant_id")
    row = conn.execute(
        f"""WITH live AS (
                SELECT d.last_seen_at, d.heartbeat_interval_s AS hb, c.connected, c.presence_at,
                       coalesce(c.status, 'OFFLINE') AS stored,
                       pulse_connectivity_status(d.last_seen_at, d.heartbeat_interval_s, c.connected, c.presence_at,
                                                 %(now)s) AS computed,
                       greatest(d.last_seen_at, CASE WHEN c.connected THEN c.presence_at END) AS heard
                FROM devices d LEFT JOIN device_connectivity c ON c.tenant_id = d.tenant_id AND c.device_id = d.id
                WHERE true{where}
            )
            SELECT count(*), min(CASE
                WHEN computed = 'ONLINE' THEN heard
                WHEN computed = 'STALE' AND stored = 'ONLINE' THEN heard + make_interval(secs => 1.5 * hb)
                WHEN computed = 'STALE' THEN heard
                WHEN connected IS FALSE AND (last_seen_at IS NULL OR presence_at >= last_seen_at) THEN presence_at
                ELSE heard + make_interval(secs => 3 * hb) END)
            FROM live WHERE computed <> stored""",
        params,
    ).fetchone()
    behind, since = row if row else (0, None)
    detail = f"{behind} device(s) whose stored status is behind" if behind else "every stored status is current"
    return _entry("connectivity_sweep", _age(now, since), "seconds", detail)


def service_health(conn: psycopg.Connection, now: datetime, tenant_id: str | None) -> NocHealth:
    tenants = [tenant_id] if tenant_id is not None else None
    services = [
        check(conn, now, tenants)
        for check in (_ingest, _evaluator, _outbox, _delivery, _escalation, _connectivity_sweep)
    ]
    worst = max((s.status for s in services), key=_RANK.__getitem__)
    return NocHealth(generated_at=now, tenant_id=tenant_id, status=worst, services=services)
