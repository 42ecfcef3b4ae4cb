"""SQL of people: contact methods (channels with an ``owner``) and personal notification policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.escalation.models import NotificationPolicy, NotificationPolicyIn, PolicyRule


@dataclass(frozen=True, slots=True)
class OwnedChannel:
    id: str
    owner: str
    type: str
    config: dict[str, Any]
    name: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


_OWNED = "id, owner, type, config, name, enabled, version, created_at, updated_at"


def set_owner(conn: psycopg.Connection, tenant_id: str, channel_id: str, owner: str) -> None:
    conn.execute("UPDATE channels SET owner = %s WHERE tenant_id = %s AND id = %s", (owner, tenant_id, channel_id))


def contact_methods(conn: psycopg.Connection, tenant_id: str, username: str) -> list[OwnedChannel]:
    rows = conn.execute(
        f"SELECT {_OWNED} FROM channels WHERE tenant_id = %s AND owner = %s ORDER BY created_at, id",
        (tenant_id, username),
    ).fetchall()
    return [OwnedChannel(*r) for r in rows]


def contact_method(conn: psycopg.Connection, tenant_id: str, username: str, channel_id: str) -> OwnedChannel | None:
    row = conn.execute(
        f"SELECT {_OWNED} FROM channels WHERE tenant_id = %s AND owner = %s AND id = %s FOR UPDATE",
        (tenant_id, username, channel_id),
    ).fetchone()
    return OwnedChannel(*row) if row else None


def _rules(value: Any) -> list[PolicyRule] | None:
    return None if value is None else [PolicyRule.model_validate(r) for r in value]


def _dump(rules: list[PolicyRule] | None) -> Jsonb | None:
    return None if rules is None else Jsonb([r.model_dump(mode="json") for r in rules])


def get_policy(
    conn: psycopg.Connection, tenant_id: str, username: str, *, lock: bool = False
) -> NotificationPolicy | None:
    row = conn.execute(
        """SELECT default_rules, critical_rules, version, updated_by, updated_at FROM notification_policies
           WHERE tenant_id = %s AND username = %s"""
        + (" FOR UPDATE" if lock else ""),
        (tenant_id, username),
    ).fetchone()
    if row is None:
        return None
    return NotificationPolicy(
        username=username,
        default=_rules(row[0]) or [],
        critical=_rules(row[1]),
        version=row[2],
        updated_by=row[3],
        updated_at=row[4],
    )


def put_policy(
    conn: psycopg.Connection,
    tenant_id: str,
    username: str,
    body: NotificationPolicyIn,
    version: int,
    by: str,
    at: datetime,
) -> None:
    conn.execute(
        """INSERT INTO notification_policies (tenant_id, username, default_rules, critical_rules, version,
                                              updated_by, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, username) DO UPDATE SET default_rules = excluded.default_rules,
               critical_rules = excluded.critical_rules, version = excluded.version,
               updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
        (tenant_id, username, _dump(body.default), _dump(body.critical), version, by, at),
    )


def policies_using(conn: psycopg.Connection, tenant_id: str, channel_id: str) -> list[str]:
    """Usernames whose personal policy names the contact method."""
    probe = Jsonb([{"contact_method_id": channel_id}])
    rows = conn.execute(
        """SELECT username FROM notification_policies WHERE tenant_id = %s
           AND (default_rules @> %s OR coalesce(critical_rules, '[]'::jsonb) @> %s)""",
        (tenant_id, probe, probe),
    ).fetchall()
    return [r[0] for r in rows]
