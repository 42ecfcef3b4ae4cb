"""The alerts' and their timeline's SQL (psycopg 3), nothing else. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pulse.alerts.models import ACTIVE, SEVERITY_RANK, Alert, AlertDetail, AlertFilter, AlertState, TimelineEntry

# Every column of ``Alert``, in its field order (set-based readers select them too).
COLUMNS = (
    "id, fingerprint, rule_id, rule_version, rule_name, device_id, site_id, severity, state, source, latched, "
    "silenced, silence_id, snoozed_until, assignee, count, first_value, last_value, opened_at, episode_started_at, "
    "last_fired_at, acknowledged_at, acknowledged_by, condition_cleared_at, resolve_due_at, resolved_at, "
    "resolved_by, closed_at, updated_at, version"
)
_UPDATABLE = frozenset(
    {
        "rule_version",
        "rule_name",
        "severity",
        "state",
        "silenced",
        "silence_id",
        "snoozed_until",
        "assignee",
        "count",
        "last_value",
        "episode_started_at",
        "last_fired_at",
        "acknowledged_at",
        "acknowledged_by",
        "condition_cleared_at",
        "resolve_due_at",
        "resolved_at",
        "resolved_by",
        "closed_at",
        "explanation",
    }
)
ACTIVE_STATES = tuple(state.value for state in ACTIVE)


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


def insert(conn: psycopg.Connection, tenant_id: str, alert: AlertDetail) -> bool:
    """Insert an open alert; False when another active alert already holds the fingerprint."""
    cur = conn.execute(
        """INSERT INTO alerts (tenant_id, id, fingerprint, rule_id, rule_version, rule_name, device_id, site_id,
                               severity, severity_rank, state, source, latched, silenced, silence_id, count,
                               first_value, last_value, opened_at, episode_started_at, last_fired_at, explanation,
                               updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, fingerprint) WHERE state NOT IN ('resolved', 'closed') DO NOTHING""",
        (
            tenant_id,
            alert.id,
            alert.fingerprint,
            alert.rule_id,
            alert.rule_version,
            alert.rule_name,
            alert.device_id,
            alert.site_id,
            alert.severity.value,
            SEVERITY_RANK[alert.severity],
            alert.state.value,
            alert.source,
            alert.latched,
            alert.silenced,
            alert.silence_id,
            alert.count,
            _json(alert.first_value),
            _json(alert.last_value),
            alert.opened_at,
            alert.episode_started_at,
            alert.last_fired_at,
            Jsonb(alert.explanation),
            alert.updated_at,
        ),
    )
    return cur.rowcount == 1


def get(conn: psycopg.Connection, tenant_id: str, alert_id: str, *, lock: bool = False) -> AlertDetail | None:
    with conn.cursor(row_factory=class_row(AlertDetail)) as cur:
        return cur.execute(
            f"SELECT {COLUMNS}, explanation FROM alerts WHERE tenant_id = %s AND id = %s"
            + (" FOR UPDATE" if lock else ""),
            (tenant_id, alert_id),
        ).fetchone()


def active_for(conn: psycopg.Connection, tenant_id: str, fingerprint: str) -> Alert | None:
    """The fingerprint's open / acknowledged / snoozed alert, locked for the caller's transaction."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(
            f"""SELECT {COLUMNS} FROM alerts
                WHERE tenant_id = %s AND fingerprint = %s AND state = ANY(%s) FOR UPDATE""",
            (tenant_id, fingerprint, list(ACTIVE_STATES)),
        ).fetchone()


def active_of_rule(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> list[Alert]:
    """The rule's open / acknowledged / snoozed alerts (every device), locked, oldest first."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(
            f"""SELECT {COLUMNS} FROM alerts
                WHERE tenant_id = %s AND rule_id = %s AND state = ANY(%s) ORDER BY opened_at, id FOR UPDATE""",
            (tenant_id, rule_id, list(ACTIVE_STATES)),
        ).fetchall()


def last_resolved(conn: psycopg.Connection, tenant_id: str, fingerprint: str) -> Alert | None:
    """The fingerprint's most recently resolved (not closed) alert, locked."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(
            f"""SELECT {COLUMNS} FROM alerts
                WHERE tenant_id = %s AND fingerprint = %s AND state = 'resolved'
                ORDER BY resolved_at DESC LIMIT 1 FOR UPDATE""",
            (tenant_id, fingerprint),
        ).fetchone()


def update(conn: psycopg.Connection, tenant_id: str, alert_id: str, at: datetime, **changes: Any) -> None:
    """Set ``changes`` (known columns only), bump the version (the ETag) and ``updated_at``."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [
        _json(v) if k in ("last_value", "explanation") else (v.value if isinstance(v, AlertState) else v)
        for k, v in changes.items()
    ]
    assignments = ", ".join(f"{column} = %s" for column in changes)
    if "severity" in changes:
        assignments += ", severity_rank = %s"
        values.append(SEVERITY_RANK[changes["severity"]])
    conn.execute(
        f"""UPDATE alerts SET {assignments}, updated_at = %s, version = version + 1
            WHERE tenant_id = %s AND id = %s""",
        (*values, at, tenant_id, alert_id),
    )


def add_timeline(
    conn: psycopg.Connection,
    tenant_id: str,
    alert_id: str,
    at: datetime,
    action: str,
    actor: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        """INSERT INTO alert_events (tenant_id, alert_id, at, action, actor, note, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (tenant_id, alert_id, at, action, actor, note, Jsonb(detail or {})),
    )


def timeline(
    conn: psycopg.Connection, tenant_id: str, alert_id: str, *, after_id: int | None, limit: int
) -> list[TimelineEntry]:
    """Oldest first; ``after_id`` is the last entry of the previous page."""
    with conn.cursor(row_factory=class_row(TimelineEntry)) as cur:
        return cur.execute(
            """SELECT id, at, action, actor, note, detail FROM alert_events
               WHERE tenant_id = %s AND alert_id = %s AND id > %s ORDER BY id LIMIT %s""",
            (tenant_id, alert_id, after_id or 0, limit),
        ).fetchall()


def search(
    conn: psycopg.Connection, tenant_id: str, f: AlertFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Alert]:
    """Newest first by ``opened_at``; ``after`` is the (opened_at, id) of the previous page's last row."""
    clauses = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    if f.state:
        clauses.append("state = ANY(%s)")
        params.append([s.value for s in f.state])
    if f.severity_at_least is not None:
        clauses.append("severity_rank >= %s")
        params.append(SEVERITY_RANK[f.severity_at_least])
    for column, value in (("rule_id", f.rule_id), ("device_id", f.device_id), ("site_id", f.site_id)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if f.silenced is not None:
        clauses.append("silenced = %s")
        params.append(f.silenced)
    if after is not None:
        clauses.append("(opened_at, id) < (%s, %s)")
        params.extend(after)
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(
            f"SELECT {COLUMNS} FROM alerts WHERE {' AND '.join(clauses)} ORDER BY opened_at DESC, id DESC LIMIT %s",
            (*params, limit),
        ).fetchall()


def resolve_due(conn: psycopg.Connection, now: datetime, limit: int) -> list[tuple[str, Alert]]:
    """(tenant, alert) whose deferred resolve is due, every tenant, locked and skipped when busy."""
    return _due(conn, "resolve_due_at IS NOT NULL AND resolve_due_at <= %s", now, limit)


def snooze_due(conn: psycopg.Connection, now: datetime, limit: int) -> list[tuple[str, Alert]]:
    return _due(conn, "state = 'snoozed' AND snoozed_until <= %s", now, limit)


def _due(conn: psycopg.Connection, where: str, now: datetime, limit: int) -> list[tuple[str, Alert]]:
    rows = conn.execute(
        f"SELECT tenant_id, {COLUMNS} FROM alerts WHERE {where} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, limit),
    ).fetchall()
    names = COLUMNS.split(", ")
    return [(row[0], Alert(**dict(zip(names, row[1:], strict=True)))) for row in rows]
