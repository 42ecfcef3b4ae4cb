"""SQL of channels and routes: rows in, models out. Sealed secrets stay in ``ChannelRow`` (never a view)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.notify.models import Channel, Route, RouteIn, RouteMatchers, SecretState, Throttle


@dataclass(frozen=True, slots=True)
class ChannelRow:
    tenant_id: str
    id: str
    type: str
    name: str
    config: dict[str, Any]
    sealed_secret: str | None
    previous_sealed_secret: str | None
    previous_valid_until: datetime | None
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime

    def view(self, now: datetime) -> Channel:
        rotating = self.previous_valid_until is not None and self.previous_valid_until > now
        return Channel.model_validate(
            {
                "id": self.id,
                "type": self.type,
                "name": self.name,
                "config": self.config,
                "enabled": self.enabled,
                "secret_set": self.sealed_secret is not None,
                "secret_rotation": SecretState(
                    rotating=rotating, previous_valid_until=self.previous_valid_until if rotating else None
                ),
                "version": self.version,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        )


_CHANNEL = (
    "tenant_id, id, type, name, config, sealed_secret, previous_sealed_secret, previous_valid_until, enabled, "
    "version, created_at, updated_at"
)


def insert_channel(conn: psycopg.Connection, row: ChannelRow) -> None:
    conn.execute(
        f"INSERT INTO channels ({_CHANNEL}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            row.tenant_id,
            row.id,
            row.type,
            row.name,
            Jsonb(row.config),
            row.sealed_secret,
            row.previous_sealed_secret,
            row.previous_valid_until,
            row.enabled,
            row.version,
            row.created_at,
            row.updated_at,
        ),
    )


def update_channel(conn: psycopg.Connection, row: ChannelRow) -> None:
    conn.execute(
        """UPDATE channels SET name = %s, config = %s, sealed_secret = %s, previous_sealed_secret = %s,
                  previous_valid_until = %s, enabled = %s, version = %s, updated_at = %s
           WHERE tenant_id = %s AND id = %s""",
        (
            row.name,
            Jsonb(row.config),
            row.sealed_secret,
            row.previous_sealed_secret,
            row.previous_valid_until,
            row.enabled,
            row.version,
            row.updated_at,
            row.tenant_id,
            row.id,
        ),
    )


def get_channel(
    conn: psycopg.Connection, tenant_id: str, channel_id: str, *, lock: bool = False, team_only: bool = False
) -> ChannelRow | None:
    """``team_only``: not a person's contact method (those are managed under ``/users/{u}/contact-methods``)."""
    row = conn.execute(
        f"SELECT {_CHANNEL} FROM channels WHERE tenant_id = %s AND id = %s"
        + (" AND owner IS NULL" if team_only else "")
        + (" FOR UPDATE" if lock else ""),
        (tenant_id, channel_id),
    ).fetchone()
    return ChannelRow(*row) if row else None


def channels_by_id(conn: psycopg.Connection, tenant_id: str, ids: list[str]) -> dict[str, ChannelRow]:
    rows = conn.execute(
        f"SELECT {_CHANNEL} FROM channels WHERE tenant_id = %s AND id = ANY(%s)", (tenant_id, ids)
    ).fetchall()
    return {r[1]: ChannelRow(*r) for r in rows}


def list_channels(
    conn: psycopg.Connection, tenant_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[ChannelRow]:
    """The team's channels (not people's contact methods) by name (case-insensitive), then id."""
    clause, params = "", []
    if after is not None:
        clause = " AND (lower(name), id) > (%s, %s)"
        params = [after[0], after[1]]
    rows = conn.execute(
        f"SELECT {_CHANNEL} FROM channels WHERE tenant_id = %s AND owner IS NULL{clause} "
        "ORDER BY lower(name), id LIMIT %s",
        (tenant_id, *params, limit),
    ).fetchall()
    return [ChannelRow(*r) for r in rows]


def name_taken(conn: psycopg.Connection, tenant_id: str, name: str, except_id: str | None = None) -> bool:
    row = conn.execute(
        "SELECT 1 FROM channels WHERE tenant_id = %s AND lower(name) = lower(%s) AND id IS DISTINCT FROM %s",
        (tenant_id, name, except_id),
    ).fetchone()
    return row is not None


def delete_channel(conn: psycopg.Connection, tenant_id: str, channel_id: str) -> None:
    conn.execute("DELETE FROM channels WHERE tenant_id = %s AND id = %s", (tenant_id, channel_id))


# --- routes -------------------------------------------------------------------------------------------

_ROUTE = (
    "id, position, name, matchers, channel_ids, continue_matching, group_by, group_wait_s, group_interval_s, "
    "repeat_interval_s, throttle_limit, throttle_window_s, enabled, version, created_at, updated_at, "
    "escalation_policy_id"
)


def _route(row: tuple[Any, ...]) -> Route:
    (rid, position, name, matchers, channel_ids, cont, group_by, wait, interval, repeat, t_limit, t_window) = row[:12]
    enabled, version, created_at, updated_at, escalation_policy_id = row[12:]
    return Route(
        id=rid,
        position=position,
        name=name,
        matchers=RouteMatchers.model_validate(matchers),
        channel_ids=list(channel_ids),
        escalation_policy_id=escalation_policy_id,
        continue_=cont,
        group_by=list(group_by),
        group_wait_s=wait,
        group_interval_s=interval,
        repeat_interval_s=repeat,
        throttle=Throttle(limit=t_limit, window_s=t_window) if t_limit is not None else None,
        enabled=enabled,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
    )


def _route_values(route: RouteIn) -> tuple[Any, ...]:
    return (
        route.name,
        Jsonb(route.matchers.model_dump(mode="json")),
        route.channel_ids,
        route.continue_,
        list(route.group_by),
        route.group_wait_s,
        route.group_interval_s,
        route.repeat_interval_s,
        route.throttle.limit if route.throttle else None,
        route.throttle.window_s if route.throttle else None,
        route.enabled,
        route.escalation_policy_id,
    )


def insert_route(conn: psycopg.Connection, tenant_id: str, route: Route) -> None:
    conn.execute(
        """INSERT INTO notification_routes (tenant_id, id, position, name, matchers, channel_ids, continue_matching,
                                               group_by, group_wait_s, group_interval_s, repeat_interval_s,
                                               throttle_limit, throttle_window_s, enabled, escalation_policy_id,
                                               version, created_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            route.id,
            route.position,
            *_route_values(route),
            route.version,
            route.created_at,
            route.updated_at,
        ),
    )


def update_route(conn: psycopg.Connection, tenant_id: str, route: Route) -> None:
    conn.execute(
        """UPDATE notification_routes SET name = %s, matchers = %s, channel_ids = %s, continue_matching = %s,
                  group_by = %s, group_wait_s = %s, group_interval_s = %s, repeat_interval_s = %s,
                  throttle_limit = %s, throttle_window_s = %s, enabled = %s, escalation_policy_id = %s,
                  version = %s, updated_at = %s
           WHERE tenant_id = %s AND id = %s""",
        (*_route_values(route), route.version, route.updated_at, tenant_id, route.id),
    )


def get_route(conn: psycopg.Connection, tenant_id: str, route_id: str, *, lock: bool = False) -> Route | None:
    row = conn.execute(
        f"SELECT {_ROUTE} FROM notification_routes WHERE tenant_id = %s AND id = %s" + (" FOR UPDATE" if lock else ""),
        (tenant_id, route_id),
    ).fetchone()
    return _route(row) if row else None


def list_routes(
    conn: psycopg.Connection, tenant_id: str, *, after_position: int | None = None, limit: int | None = None
) -> list[Route]:
    """In evaluation order."""
    rows = conn.execute(
        f"""SELECT {_ROUTE} FROM notification_routes WHERE tenant_id = %s AND position > %s
            ORDER BY position LIMIT %s""",
        (tenant_id, -1 if after_position is None else after_position, limit),
    ).fetchall()
    return [_route(r) for r in rows]


def lock_routes(conn: psycopg.Connection, tenant_id: str) -> list[str]:
    """Locks every route of the tenant (reorder, insert at a position); ids in order."""
    rows = conn.execute(
        "SELECT id FROM notification_routes WHERE tenant_id = %s ORDER BY position FOR UPDATE", (tenant_id,)
    ).fetchall()
    return [r[0] for r in rows]


def set_positions(conn: psycopg.Connection, tenant_id: str, ordered_ids: list[str], at: datetime) -> None:
    """Positions 0..n-1 in the given order (the unique position check is deferred to commit)."""
    conn.execute(
        """UPDATE notification_routes r SET position = o.pos - 1, version = r.version + 1, updated_at = %s
           FROM unnest(%s::text[]) WITH ORDINALITY AS o(id, pos)
           WHERE r.tenant_id = %s AND r.id = o.id AND r.position <> o.pos - 1""",
        (at, ordered_ids, tenant_id),
    )


def delete_route(conn: psycopg.Connection, tenant_id: str, route_id: str) -> None:
    conn.execute("DELETE FROM notification_routes WHERE tenant_id = %s AND id = %s", (tenant_id, route_id))


def existing_channel_ids(conn: psycopg.Connection, tenant_id: str, ids: list[str]) -> set[str]:
    rows = conn.execute("SELECT id FROM channels WHERE tenant_id = %s AND id = ANY(%s)", (tenant_id, ids)).fetchall()
    return {r[0] for r in rows}


def escalation_policy_exists(conn: psycopg.Connection, tenant_id: str, policy_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM escalation_policies WHERE tenant_id = %s AND id = %s", (tenant_id, policy_id)
    ).fetchone()
    return row is not None
