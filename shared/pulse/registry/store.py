"""SQL of sites and devices (psycopg 3). Every statement names the tenant, even under RLS."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.registry.models import Device, DeviceFields, Site, SiteIn, SitePatch

SITE_COLUMNS = "id, name, address, lat, lng, timezone, version, created_at, updated_at"
DEVICE_COLUMNS = (
    "id, name, status, model, site_id, tags, attributes, firmware_version, lat, lng, "
    "heartbeat_interval_s, thing_name, certificate_id, token_hash IS NOT NULL, last_seen_at, version, "
    "created_at, updated_at"
)
_DEVICE_FIELDS = DEVICE_COLUMNS.replace("token_hash IS NOT NULL", "has_http_token").split(", ")
_JSON_FIELDS = frozenset({"tags", "attributes"})


def site_from_row(row: tuple[Any, ...]) -> Site:
    return Site(**dict(zip(SITE_COLUMNS.split(", "), row, strict=True)))


def device_from_row(row: tuple[Any, ...]) -> Device:
    return Device(**dict(zip(_DEVICE_FIELDS, row, strict=True)))


# --- sites -------------------------------------------------------------------------------------


def get_site(conn: psycopg.Connection, tenant_id: str, site_id: str, *, lock: bool = False) -> Site | None:
    row = conn.execute(
        f"SELECT {SITE_COLUMNS} FROM sites WHERE tenant_id = %s AND id = %s" + (" FOR UPDATE" if lock else ""),
        (tenant_id, site_id),
    ).fetchone()
    return site_from_row(row) if row else None


def site_exists(conn: psycopg.Connection, tenant_id: str, site_id: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sites WHERE tenant_id = %s AND id = %s", (tenant_id, site_id)).fetchone()
        is not None
    )


def insert_site(conn: psycopg.Connection, tenant_id: str, site: SiteIn) -> Site | None:
    """None when the id is taken."""
    row = conn.execute(
        f"""INSERT INTO sites (tenant_id, id, name, address, lat, lng, timezone)
            VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING {SITE_COLUMNS}""",
        (tenant_id, site.id, site.name, site.address, site.lat, site.lng, site.timezone),
    ).fetchone()
    return site_from_row(row) if row else None


def update_site(conn: psycopg.Connection, tenant_id: str, site_id: str, patch: SitePatch) -> Site:
    changes = patch.model_dump(exclude_unset=True)
    sets = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"""UPDATE sites SET {sets + ", " if sets else ""}version = version + 1, updated_at = now()
            WHERE tenant_id = %(tenant_id)s AND id = %(id)s RETURNING {SITE_COLUMNS}""",
        {**changes, "tenant_id": tenant_id, "id": site_id},
    ).fetchone()
    assert row is not None
    return site_from_row(row)


def delete_site(conn: psycopg.Connection, tenant_id: str, site_id: str) -> None:
    conn.execute("DELETE FROM sites WHERE tenant_id = %s AND id = %s", (tenant_id, site_id))


def devices_at_site(conn: psycopg.Connection, tenant_id: str, site_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM devices WHERE tenant_id = %s AND site_id = %s AND status <> 'decommissioned'",
        (tenant_id, site_id),
    ).fetchone()
    return int(row[0]) if row else 0


def list_sites(conn: psycopg.Connection, tenant_id: str, *, after: str | None, limit: int) -> list[Site]:
    rows = conn.execute(
        f"SELECT {SITE_COLUMNS} FROM sites WHERE tenant_id = %s AND id > %s ORDER BY id LIMIT %s",
        (tenant_id, after or "", limit),
    ).fetchall()
    return [site_from_row(r) for r in rows]


# --- devices -----------------------------------------------------------------------------------


def get_device(conn: psycopg.Connection, tenant_id: str, device_id: str, *, lock: bool = False) -> Device | None:
    row = conn.execute(
        f"SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = %s AND id = %s" + (" FOR UPDATE" if lock else ""),
        (tenant_id, device_id),
    ).fetchone()
    return device_from_row(row) if row else None


def _values(fields: DeviceFields, *, only_set: bool) -> dict[str, Any]:
    data = fields.model_dump(exclude_unset=only_set, include=set(DeviceFields.model_fields))
    if not only_set:
        data = {k: v for k, v in data.items() if v is not None}
    return {k: Jsonb(v) if k in _JSON_FIELDS else v for k, v in data.items()}


def insert_device(
    conn: psycopg.Connection, tenant_id: str, device_id: str, fields: DeviceFields, *, token_hash: bytes | None = None
) -> Device | None:
    """None when the id is taken in this tenant."""
    values = {
        "tenant_id": tenant_id,
        "id": device_id,
        "name": device_id,
        **_values(fields, only_set=False),
        "token_hash": token_hash,
    }
    columns = ", ".join(values)
    placeholders = ", ".join(f"%({c})s" for c in values)
    row = conn.execute(
        f"INSERT INTO devices ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING {DEVICE_COLUMNS}",
        values,
    ).fetchone()
    return device_from_row(row) if row else None


def update_device(conn: psycopg.Connection, tenant_id: str, device_id: str, patch: DeviceFields) -> Device:
    return set_device_columns(conn, tenant_id, device_id, _values(patch, only_set=True))


def set_device_columns(conn: psycopg.Connection, tenant_id: str, device_id: str, columns: dict[str, Any]) -> Device:
    """Sets registry-owned columns (names come from code, never from requests) and bumps the version."""
    sets = "".join(f"{column} = %({column})s, " for column in columns)
    row = conn.execute(
        f"""UPDATE devices SET {sets}version = version + 1, updated_at = now()
            WHERE tenant_id = %(tenant_id)s AND id = %(id)s RETURNING {DEVICE_COLUMNS}""",
        {**columns, "tenant_id": tenant_id, "id": device_id},
    ).fetchone()
    assert row is not None
    return device_from_row(row)


def count_billable_devices(conn: psycopg.Connection, tenant_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM devices WHERE tenant_id = %s AND status <> 'decommissioned'", (tenant_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def lock_tenant_devices(conn: psycopg.Connection, tenant_id: str) -> None:
    """Serialises device creation per tenant so the device limit holds under concurrency."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('pulse-devices:' || %s))", (tenant_id,))


def lock_devices(conn: psycopg.Connection, tenant_id: str, device_ids: list[str]) -> list[Device]:
    """The tenant's devices among ``device_ids``, locked in id order (two bulk changes never deadlock)."""
    rows = conn.execute(
        f"SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = %s AND id = ANY(%s) ORDER BY id FOR UPDATE",
        (tenant_id, device_ids),
    ).fetchall()
    return [device_from_row(r) for r in rows]


def set_device_tags(conn: psycopg.Connection, tenant_id: str, tags: dict[str, dict[str, str]]) -> list[Device]:
    """Replaces the tags of each device in ``tags`` (one statement) and bumps their versions."""
    if not tags:
        return []
    rows = conn.execute(
        f"""UPDATE devices SET tags = x.new_tags, version = version + 1, updated_at = now()
            FROM jsonb_each(%s) AS x(device_id, new_tags)
            WHERE tenant_id = %s AND id = x.device_id
            RETURNING {DEVICE_COLUMNS}""",
        (Jsonb(tags), tenant_id),
    ).fetchall()
    return [device_from_row(r) for r in rows]
