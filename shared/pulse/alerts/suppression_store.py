"""SQL of silences, maintenance windows and the device facts an alert needs. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pulse.alerts.suppression import MaintenanceWindow, Silence


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What an alert records about its device when it fires."""

    site_id: str | None
    tags: dict[str, str]
    last_seen_at: datetime | None
    heartbeat_interval_s: int
    twin: dict[str, Any] | None
    twin_version: int | None


def device_facts(conn: psycopg.Connection, tenant_id: str, device_id: str) -> DeviceFacts | None:
    row = conn.execute(
        """SELECT d.site_id, d.tags, d.last_seen_at, d.heartbeat_interval_s, t.document, t.version
           FROM devices d LEFT JOIN device_twins t ON t.tenant_id = d.tenant_id AND t.device_id = d.id
           WHERE d.tenant_id = %s AND d.id = %s""",
        (tenant_id, device_id),
    ).fetchone()
    return None if row is None else DeviceFacts(*row)


_SILENCE_COLUMNS = (
    "id, site_id, device_id, rule_id, tags, severities, starts_at, ends_at, reason, created_by, created_at, "
    "expiry_notified_at"
)
_MAINTENANCE_COLUMNS = "id, device_id, site_id, starts_at, ends_at, reason, created_by, created_at, ended_by"


def matching_silence(
    conn: psycopg.Connection,
    tenant_id: str,
    at: datetime,
    *,
    site_id: str | None,
    device_id: str,
    rule_id: str,
    tags: dict[str, str],
    severity: str,
) -> str | None:
    """The id of a silence active at ``at`` whose every matcher matches, the longest-running first."""
    row = conn.execute(
        """SELECT id FROM silences
           WHERE tenant_id = %s AND starts_at <= %s AND ends_at > %s
             AND (site_id IS NULL OR site_id = %s) AND (device_id IS NULL OR device_id = %s)
             AND (rule_id IS NULL OR rule_id = %s) AND %s::jsonb @> tags
             AND (cardinality(severities) = 0 OR %s = ANY(severities))
           ORDER BY ends_at DESC, id LIMIT 1""",
        (tenant_id, at, at, site_id, device_id, rule_id, Jsonb(tags), severity),
    ).fetchone()
    return None if row is None else str(row[0])


def maintenance_covering(
    conn: psycopg.Connection, tenant_id: str, at: datetime, *, device_id: str, site_id: str | None
) -> str | None:
    """The id of a maintenance window of the device or of its site covering ``at``."""
    row = conn.execute(
        """SELECT id FROM maintenance_windows
           WHERE tenant_id = %s AND starts_at <= %s AND ends_at > %s
             AND (device_id = %s OR (site_id IS NOT NULL AND site_id = %s))
           ORDER BY ends_at DESC LIMIT 1""",
        (tenant_id, at, at, device_id, site_id),
    ).fetchone()
    return None if row is None else str(row[0])


def insert_silence(conn: psycopg.Connection, tenant_id: str, silence: Silence) -> None:
    conn.execute(
        f"""INSERT INTO silences (tenant_id, {_SILENCE_COLUMNS})
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            silence.id,
            silence.site_id,
            silence.device_id,
            silence.rule_id,
            Jsonb(silence.tags),
            [s.value for s in silence.severities],
            silence.starts_at,
            silence.ends_at,
            silence.reason,
            silence.created_by,
            silence.created_at,
            silence.expiry_notified_at,
        ),
    )


def get_silence(conn: psycopg.Connection, tenant_id: str, silence_id: str, *, lock: bool = False) -> Silence | None:
    with conn.cursor(row_factory=class_row(Silence)) as cur:
        return cur.execute(
            f"SELECT {_SILENCE_COLUMNS} FROM silences WHERE tenant_id = %s AND id = %s"
            + (" FOR UPDATE" if lock else ""),
            (tenant_id, silence_id),
        ).fetchone()


def list_silences(
    conn: psycopg.Connection,
    tenant_id: str,
    *,
    active_at: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Silence]:
    """Newest first by ``starts_at``; ``active_at`` keeps only silences not yet ended then."""
    clauses: list[str] = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    if active_at is not None:
        clauses.append("ends_at > %s")
        params.append(active_at)
    if after is not None:
        clauses.append("(starts_at, id) < (%s, %s)")
        params.extend(after)
    with conn.cursor(row_factory=class_row(Silence)) as cur:
        return cur.execute(
            f"""SELECT {_SILENCE_COLUMNS} FROM silences WHERE {" AND ".join(clauses)}
                ORDER BY starts_at DESC, id DESC LIMIT %s""",
            (*params, limit),
        ).fetchall()


def end_silence(conn: psycopg.Connection, tenant_id: str, silence_id: str, at: datetime) -> None:
    conn.execute("UPDATE silences SET ends_at = %s WHERE tenant_id = %s AND id = %s", (at, tenant_id, silence_id))


def expired_silences(conn: psycopg.Connection, now: datetime, limit: int) -> list[tuple[str, Silence]]:
    """(tenant, silence) ended by ``now`` and not yet announced, every tenant, locked, busy rows skipped."""
    rows = conn.execute(
        f"""SELECT tenant_id, {_SILENCE_COLUMNS} FROM silences
            WHERE expiry_notified_at IS NULL AND ends_at <= %s ORDER BY ends_at, id LIMIT %s FOR UPDATE SKIP LOCKED""",
        (now, limit),
    ).fetchall()
    names = _SILENCE_COLUMNS.split(", ")
    return [(row[0], Silence(**dict(zip(names, row[1:], strict=True)))) for row in rows]


def mark_silence_announced(conn: psycopg.Connection, tenant_id: str, silence_id: str, at: datetime) -> None:
    conn.execute(
        "UPDATE silences SET expiry_notified_at = %s WHERE tenant_id = %s AND id = %s", (at, tenant_id, silence_id)
    )


def insert_maintenance(conn: psycopg.Connection, tenant_id: str, window: MaintenanceWindow) -> None:
    conn.execute(
        f"""INSERT INTO maintenance_windows (tenant_id, {_MAINTENANCE_COLUMNS})
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            window.id,
            window.device_id,
            window.site_id,
            window.starts_at,
            window.ends_at,
            window.reason,
            window.created_by,
            window.created_at,
            window.ended_by,
        ),
    )


def get_maintenance(
    conn: psycopg.Connection, tenant_id: str, window_id: str, *, lock: bool = False
) -> MaintenanceWindow | None:
    with conn.cursor(row_factory=class_row(MaintenanceWindow)) as cur:
        return cur.execute(
            f"SELECT {_MAINTENANCE_COLUMNS} FROM maintenance_windows WHERE tenant_id = %s AND id = %s"
            + (" FOR UPDATE" if lock else ""),
            (tenant_id, window_id),
        ).fetchone()


def list_maintenance(
    conn: psycopg.Connection,
    tenant_id: str,
    *,
    active_at: datetime | None,
    device_id: str | None,
    site_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MaintenanceWindow]:
    clauses: list[str] = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    if active_at is not None:
        clauses.append("ends_at > %s")
        params.append(active_at)
    for column, value in (("device_id", device_id), ("site_id", site_id)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if after is not None:
        clauses.append("(starts_at, id) < (%s, %s)")
        params.extend(after)
    with conn.cursor(row_factory=class_row(MaintenanceWindow)) as cur:
        return cur.execute(
            f"""SELECT {_MAINTENANCE_COLUMNS} FROM maintenance_windows WHERE {" AND ".join(clauses)}
                ORDER BY starts_at DESC, id DESC LIMIT %s""",
            (*params, limit),
        ).fetchall()


def end_maintenance(conn: psycopg.Connection, tenant_id: str, window_id: str, at: datetime, by: str) -> None:
    conn.execute(
        "UPDATE maintenance_windows SET ends_at = %s, ended_by = %s WHERE tenant_id = %s AND id = %s",
        (at, by, tenant_id, window_id),
    )
