"""Operator console reads across tenants: each tenant's health, and a device search over every fleet.

Callers pass a ``pulse_operator`` transaction (``operator_transaction``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.errors import RequestInvalid
from pulse.noc import measures
from pulse.noc.models import ConnectivityCounts, ConnectivityState, OperatorDevice, SeverityCounts, TenantHealth
from pulse.registry.models import DeviceStatus
from pulse.registry.paging import Page, decode_cursor, keyset_page

_HEALTH_SORT = "tenant-health"
_DEVICE_SORT = "operator-devices"
# A device's connectivity now, as in pulse.noc.measures.connectivity (the alias c is its presence row).
_CONNECTIVITY = """CASE WHEN d.last_seen_at IS NULL AND c.presence_at IS NULL THEN 'never'
    ELSE lower(pulse_connectivity_status(d.last_seen_at, d.heartbeat_interval_s, c.connected, c.presence_at,
                                         %(now)s)) END"""


def tenants_health(conn: psycopg.Connection, now: datetime, *, limit: int, cursor: str | None) -> Page[TenantHealth]:
    """One entry per tenant, by tenant id."""
    after = decode_cursor(cursor, _HEALTH_SORT)
    rows = conn.execute(
        """SELECT t.id, t.name, t.status, s.plan_id, s.ends_at FROM tenants t
           LEFT JOIN subscriptions s ON s.tenant_id = t.id
           WHERE t.id > %s ORDER BY t.id LIMIT %s""",
        (str(after[0]) if after else "", limit + 1),
    ).fetchall()
    page, next_cursor = keyset_page(rows, limit, _HEALTH_SORT, lambda r: [r[0]])
    ids = [r[0] for r in page]
    devices = measures.devices(conn, ids)
    online = measures.connectivity(conn, ids, now)
    alerts = measures.open_alerts(conn, ids)
    ingest = measures.ingest_windows(conn, ids, now, [timedelta(minutes=5), timedelta(minutes=60)])
    quarantined = measures.quarantined(conn, ids, now - timedelta(hours=24))
    items = []
    for tenant_id, name, status, plan_id, ends_at in page:
        last5, last60 = ingest.get(tenant_id, [0, 0])
        items.append(
            TenantHealth(
                tenant_id=tenant_id,
                name=name,
                plan_id=plan_id,
                subscription_status=status,
                subscription_ends_at=ends_at,
                devices=devices.get(tenant_id, 0),
                online=online.get(tenant_id, ConnectivityCounts()).online,
                open_alerts=alerts.get(tenant_id, SeverityCounts()),
                ingest_per_minute_5m=round(last5 / 5, 2),
                ingest_per_minute_60m=round(last60 / 60, 2),
                quarantined_24h=quarantined.get(tenant_id, 0),
            )
        )
    return Page[TenantHealth](items=items, next_cursor=next_cursor)


def search_devices(
    conn: psycopg.Connection,
    now: datetime,
    *,
    q: str | None,
    tenant_id: str | None,
    status: list[DeviceStatus],
    connectivity: list[ConnectivityState],
    tags: dict[str, str],
    limit: int,
    cursor: str | None,
) -> Page[OperatorDevice]:
    """Devices of every tenant (or of ``tenant_id``) by (tenant, id). ``q`` matches a substring of the
    name or id, or, written ``key:value``, a tag exactly; ``tags`` must all be on the device."""
    params: dict[str, Any] = {"now": now, "limit": limit + 1}
    clauses = ["true"]
    if tenant_id is not None:
        clauses.append("d.tenant_id = %(tenant)s")
        params["tenant"] = tenant_id
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["q"] = f"%{escaped}%"
        match = "(d.name || ' ' || d.id) ILIKE %(q)s"
        key, sep, value = q.partition(":")
        if sep and key:
            params["q_tag"] = Jsonb({key: value})
            match = f"({match} OR d.tags @> %(q_tag)s)"
        clauses.append(match)
    if status:
        clauses.append("d.status = ANY(%(status)s)")
        params["status"] = [s.value for s in status]
    if connectivity:
        clauses.append(f"{_CONNECTIVITY} = ANY(%(connectivity)s)")
        params["connectivity"] = [c.value for c in connectivity]
    if tags:
        clauses.append("d.tags @> %(tags)s")
        params["tags"] = Jsonb(tags)
    after = decode_cursor(cursor, _DEVICE_SORT)
    if after is not None:
        if len(after) != 2:
            raise RequestInvalid("cursor: malformed")
        clauses.append("(d.tenant_id, d.id) > (%(after_tenant)s, %(after_id)s)")
        params["after_tenant"], params["after_id"] = str(after[0]), str(after[1])
    rows = conn.execute(
        f"""SELECT d.tenant_id, d.id, d.name, d.status, d.model, d.site_id, d.firmware_version, d.tags,
                   d.last_seen_at, {_CONNECTIVITY}
            FROM devices d LEFT JOIN device_connectivity c ON c.tenant_id = d.tenant_id AND c.device_id = d.id
            WHERE {" AND ".join(clauses)} ORDER BY d.tenant_id, d.id LIMIT %(limit)s""",
        params,
    ).fetchall()
    fields = list(OperatorDevice.model_fields)
    found = [OperatorDevice(**dict(zip(fields, r, strict=True))) for r in rows]
    items, next_cursor = keyset_page(found, limit, _DEVICE_SORT, lambda d: [d.tenant_id, d.id])
    return Page[OperatorDevice](items=items, next_cursor=next_cursor)
