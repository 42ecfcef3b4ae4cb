"""Connectivity SQL (psycopg 3), nothing else. Callers own the transaction and its role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pulse.connectivity.models import ConnectivityEvent, LifecycleEvent

SWEEP_LOCK_KEY = 0x70756C7365_C0  # one sweep at a time: overlapping runs would only wait on each other


@dataclass(frozen=True, slots=True)
class ConnectivityRow:
    """The device's last-seen and heartbeat with its current presence (None where never connected)."""

    last_seen_at: datetime | None
    heartbeat_interval_s: int
    connected: bool | None
    presence_at: datetime | None
    session_id: str | None
    disconnect_reason: str | None
    disconnected_at: datetime | None


def device_for_client(conn: psycopg.Connection, client_id: str) -> tuple[str, str] | None:
    """(tenant, device) whose thing name is this MQTT client id (thing names are unique)."""
    row = conn.execute("SELECT tenant_id, id FROM devices WHERE thing_name = %s", (client_id,)).fetchone()
    return (row[0], row[1]) if row else None


def add_lifecycle_event(conn: psycopg.Connection, tenant_id: str, device_id: str, event: LifecycleEvent) -> bool:
    """Appends the event to the history; False when it is already there (a redelivery)."""
    row = conn.execute(
        """INSERT INTO device_connectivity_events (tenant_id, device_id, at, kind, reason, session_id, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, device_id, kind, session_id, at) WHERE kind <> 'status' DO NOTHING
           RETURNING id""",
        (
            tenant_id,
            device_id,
            event.at,
            event.event_type,
            event.disconnect_reason if not event.connected else None,
            event.session_id,
            Jsonb(event.detail()),
        ),
    ).fetchone()
    return row is not None


def apply_presence(
    conn: psycopg.Connection, tenant_id: str, device_id: str, event: LifecycleEvent, now: datetime
) -> bool:
    """Makes the event the device's current presence if it is newer; False when a newer one is stored.

    Newer means a greater (time, version, disconnect-after-connect) key, see ``LifecycleEvent.order_key``.
    """
    row = conn.execute(
        """INSERT INTO device_connectivity AS c
               (tenant_id, device_id, connected, presence_at, presence_version, session_id, client_id,
                disconnect_reason, disconnected_at, updated_at)
           VALUES (%(tenant)s, %(device)s, %(connected)s, %(at)s, %(version)s, %(session)s, %(client)s,
                   %(reason)s, %(disconnected_at)s, %(now)s)
           ON CONFLICT (tenant_id, device_id) DO UPDATE
           SET connected = excluded.connected, presence_at = excluded.presence_at,
               presence_version = excluded.presence_version, session_id = excluded.session_id,
               client_id = excluded.client_id,
               disconnect_reason = CASE WHEN excluded.connected THEN c.disconnect_reason
                                        ELSE excluded.disconnect_reason END,
               disconnected_at = coalesce(excluded.disconnected_at, c.disconnected_at),
               updated_at = excluded.updated_at
           WHERE c.presence_at IS NULL
              OR (c.presence_at, c.presence_version, CASE WHEN c.connected THEN 0 ELSE 1 END)
                 < (excluded.presence_at, excluded.presence_version, CASE WHEN excluded.connected THEN 0 ELSE 1 END)
           RETURNING 1""",
        {
            "tenant": tenant_id,
            "device": device_id,
            "connected": event.connected,
            "at": event.at,
            "version": event.version,
            "session": event.session_id,
            "client": event.client_id,
            "reason": None if event.connected else event.disconnect_reason,
            "disconnected_at": None if event.connected else event.at,
            "now": now,
        },
    ).fetchone()
    return row is not None


def try_sweep_lock(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SWEEP_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def sweep(conn: psycopg.Connection, now: datetime, device: tuple[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Sets each device's computed status (``pulse_connectivity_status``) and appends a ``status``
    history row where it changed; returns the (tenant, device, status) that changed.

    Set-based: one statement for the whole fleet, or for ``device`` only. A device with no row yet
    counts as OFFLINE, so a device never heard from writes nothing. The update re-checks that the
    presence it computed from is still current: a presence event committed meanwhile has already
    re-evaluated its device, and the next sweep sees it.
    """
    only = "WHERE d.tenant_id = %(tenant)s AND d.id = %(device)s" if device else ""
    rows = conn.execute(
        f"""WITH computed AS (
                SELECT d.tenant_id, d.id AS device_id, d.last_seen_at, c.connected, c.presence_at,
                       coalesce(c.status, 'OFFLINE') AS previous,
                       pulse_connectivity_status(d.last_seen_at, d.heartbeat_interval_s, c.connected, c.presence_at,
                                                 %(now)s) AS status
                FROM devices d
                LEFT JOIN device_connectivity c ON c.tenant_id = d.tenant_id AND c.device_id = d.id
                {only}
            ), changed AS (
                INSERT INTO device_connectivity AS c
                    (tenant_id, device_id, connected, presence_at, status, status_since, updated_at)
                SELECT tenant_id, device_id, connected, presence_at, status, %(now)s, %(now)s
                FROM computed WHERE status <> previous
                ON CONFLICT (tenant_id, device_id) DO UPDATE
                SET status = excluded.status, status_since = excluded.status_since, updated_at = excluded.updated_at
                WHERE c.presence_at IS NOT DISTINCT FROM excluded.presence_at AND c.status <> excluded.status
                RETURNING c.tenant_id, c.device_id, c.status
            )
            INSERT INTO device_connectivity_events (tenant_id, device_id, at, kind, status, detail)
            SELECT ch.tenant_id, ch.device_id, %(now)s, 'status', ch.status,
                   jsonb_build_object('previous', m.previous, 'last_seen_at', m.last_seen_at,
                                      'connected', m.connected, 'presence_at', m.presence_at)
            FROM changed ch JOIN computed m ON m.tenant_id = ch.tenant_id AND m.device_id = ch.device_id
            RETURNING tenant_id, device_id, status""",
        {"now": now, "tenant": device[0] if device else None, "device": device[1] if device else None},
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def read(conn: psycopg.Connection, tenant_id: str, device_id: str) -> ConnectivityRow | None:
    with conn.cursor(row_factory=class_row(ConnectivityRow)) as cur:
        return cur.execute(
            """SELECT d.last_seen_at, d.heartbeat_interval_s, c.connected, c.presence_at, c.session_id,
                      c.disconnect_reason, c.disconnected_at
               FROM devices d
               LEFT JOIN device_connectivity c ON c.tenant_id = d.tenant_id AND c.device_id = d.id
               WHERE d.tenant_id = %s AND d.id = %s""",
            (tenant_id, device_id),
        ).fetchone()


def history(
    conn: psycopg.Connection, tenant_id: str, device_id: str, *, after: tuple[datetime, int] | None, limit: int
) -> list[ConnectivityEvent]:
    """Newest first; ``after`` is the (at, id) of the previous page's last row."""
    keyset = "AND (at, id) < (%s, %s)" if after else ""
    args: tuple[Any, ...] = (tenant_id, device_id, *(after or ()), limit)
    with conn.cursor(row_factory=class_row(ConnectivityEvent)) as cur:
        return cur.execute(
            f"""SELECT id, at, kind, status, reason, session_id, detail FROM device_connectivity_events
                WHERE tenant_id = %s AND device_id = %s {keyset}
                ORDER BY at DESC, id DESC LIMIT %s""",
            args,
        ).fetchall()
