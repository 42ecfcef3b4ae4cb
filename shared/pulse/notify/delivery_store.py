"""SQL of routing and delivery state: routed events, notifications and groups, deliveries, attempts,
throttle windows and the daily quota. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.notify.models import Delivery, DeliveryAttempt, DeliveryFilter, DeliveryStatus

# --- routed events ------------------------------------------------------------------------------------


def claim_event(
    conn: psycopg.Connection, tenant_id: str, event_id: str, event_name: str, alert_id: str | None, at: datetime
) -> bool:
    """Records that the event is being routed; False when it was routed before (the row waits for a
    concurrent router's commit, so two never route the same event)."""
    row = conn.execute(
        """INSERT INTO routed_events (tenant_id, event_id, event_name, alert_id, routed_at, outcome)
           VALUES (%s, %s, %s, %s, %s, 'routing') ON CONFLICT (event_id) DO NOTHING RETURNING 1""",
        (tenant_id, event_id, event_name, alert_id, at),
    ).fetchone()
    return row is not None


def set_outcome(conn: psycopg.Connection, event_id: str, outcome: str, route_ids: list[str]) -> None:
    conn.execute(
        "UPDATE routed_events SET outcome = %s, route_ids = %s WHERE event_id = %s", (outcome, route_ids, event_id)
    )


def event_outcome(conn: psycopg.Connection, event_id: str) -> str:
    row = conn.execute("SELECT outcome FROM routed_events WHERE event_id = %s", (event_id,)).fetchone()
    return str(row[0]) if row else ""


def device_tags(conn: psycopg.Connection, tenant_id: str, device_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT tags FROM devices WHERE tenant_id = %s AND id = %s", (tenant_id, device_id)).fetchone()
    return dict(row[0]) if row else {}


# --- notifications and groups -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupState:
    notification_id: str
    last_send_at: datetime
    open: bool  # the notification has not started sending


def lock_group(conn: psycopg.Connection, tenant_id: str, route_id: str, key: str) -> GroupState | None:
    """The group's state, locked; a transaction-scoped advisory lock on the key also covers a group that
    does not exist yet, so two events arriving together for a new group open one notification."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"notify-group|{tenant_id}|{route_id}|{key}",)
    )
    row = conn.execute(
        """SELECT g.notification_id, g.last_send_at, n.status = 'open'
           FROM notification_groups g JOIN notifications n ON n.id = g.notification_id
           WHERE g.tenant_id = %s AND g.route_id = %s AND g.group_key = %s FOR UPDATE OF g, n""",
        (tenant_id, route_id, key),
    ).fetchone()
    return GroupState(*row) if row else None


def insert_notification(
    conn: psycopg.Connection,
    tenant_id: str,
    notification_id: str,
    route_id: str | None,
    key: str,
    send_at: datetime,
    detail: dict[str, Any],
    alert_id: str | None,
    at: datetime,
) -> None:
    conn.execute(
        """INSERT INTO notifications (tenant_id, id, route_id, group_key, status, send_at, events, event_ids,
                                      alert_ids, created_at)
           VALUES (%s, %s, %s, %s, 'open', %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            notification_id,
            route_id,
            key,
            send_at,
            Jsonb([detail]),
            [str(detail["metadata"]["event_id"])],
            [alert_id] if alert_id else [],
            at,
        ),
    )


def join_notification(
    conn: psycopg.Connection, notification_id: str, detail: dict[str, Any], alert_id: str | None
) -> None:
    conn.execute(
        """UPDATE notifications SET events = events || %s, event_ids = array_append(event_ids, %s),
                  alert_ids = CASE WHEN %s::text IS NULL OR %s = ANY(alert_ids) THEN alert_ids
                                   ELSE array_append(alert_ids, %s) END
           WHERE id = %s""",
        (Jsonb([detail]), str(detail["metadata"]["event_id"]), alert_id, alert_id, alert_id, notification_id),
    )


def put_group(
    conn: psycopg.Connection, tenant_id: str, route_id: str, key: str, notification_id: str, send_at: datetime
) -> None:
    conn.execute(
        """INSERT INTO notification_groups (tenant_id, route_id, group_key, notification_id, last_send_at)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, route_id, group_key)
           DO UPDATE SET notification_id = excluded.notification_id, last_send_at = excluded.last_send_at""",
        (tenant_id, route_id, key, notification_id, send_at),
    )


def recently_carried(
    conn: psycopg.Connection, tenant_id: str, route_id: str, event_name: str, fingerprint: str, since: datetime
) -> bool:
    """Whether a notification of the route created since ``since`` carried this event of this alert."""
    probe = [{"metadata": {"event_name": event_name}, "data": {"fingerprint": fingerprint}}]
    row = conn.execute(
        """SELECT 1 FROM notifications WHERE tenant_id = %s AND route_id = %s AND created_at >= %s
           AND events @> %s LIMIT 1""",
        (tenant_id, route_id, since, Jsonb(probe)),
    ).fetchone()
    return row is not None


def close_notification(conn: psycopg.Connection, notification_id: str, at: datetime) -> list[dict[str, Any]]:
    """Stops further events from joining; returns the events it carries (oldest first)."""
    row = conn.execute(
        """UPDATE notifications SET status = 'closed', closed_at = coalesce(closed_at, %s)
           WHERE id = %s RETURNING events""",
        (at, notification_id),
    ).fetchone()
    return list(row[0]) if row else []


def notification_events(conn: psycopg.Connection, notification_id: str | None) -> list[dict[str, Any]]:
    if notification_id is None:
        return []
    row = conn.execute("SELECT events FROM notifications WHERE id = %s", (notification_id,)).fetchone()
    return list(row[0]) if row else []


# --- counters -----------------------------------------------------------------------------------------


def take_throttle(conn: psycopg.Connection, tenant_id: str, route_id: str, window_start: datetime, limit: int) -> bool:
    """Counts one notification in the route's window; False (nothing counted) when the window is full."""
    row = conn.execute(
        """INSERT INTO notification_windows AS w (tenant_id, route_id, window_start, count) VALUES (%s, %s, %s, 1)
           ON CONFLICT (tenant_id, route_id, window_start) DO UPDATE SET count = w.count + 1 WHERE w.count < %s
           RETURNING count""",
        (tenant_id, route_id, window_start, limit),
    ).fetchone()
    return row is not None


def daily_limit(conn: psycopg.Connection, tenant_id: str) -> int | None:
    """The tenant's plan's deliveries per day; None: no cap (no plan, or a plan without one)."""
    row = conn.execute(
        """SELECT p.deliveries_per_day FROM subscriptions s JOIN plans p ON p.id = s.plan_id
           WHERE s.tenant_id = %s""",
        (tenant_id,),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def take_quota(conn: psycopg.Connection, tenant_id: str, day: date, limit: int | None) -> bool:
    """Counts one delivery against the tenant's day; False (nothing counted) when the day is used up."""
    row = conn.execute(
        """INSERT INTO delivery_quota AS q (tenant_id, day, count) VALUES (%(t)s, %(d)s, 1)
           ON CONFLICT (tenant_id, day) DO UPDATE SET count = q.count + 1
           WHERE %(limit)s::integer IS NULL OR q.count < %(limit)s::integer
           RETURNING count""",
        {"t": tenant_id, "d": day, "limit": limit},
    ).fetchone()
    return row is not None


def quota_used(conn: psycopg.Connection, tenant_id: str, day: date) -> int:
    row = conn.execute(
        "SELECT count FROM delivery_quota WHERE tenant_id = %s AND day = %s", (tenant_id, day)
    ).fetchone()
    return int(row[0]) if row else 0


# --- deliveries ---------------------------------------------------------------------------------------

_DELIVERY = (
    "id, event_id, event_name, alert_id, channel_id, route_id, notification_id, status, reason, send_at, attempts, "
    "last_error, last_response_code, execution_id, created_at, delivered_at, dead_at"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(**dict(zip(_DELIVERY.split(", "), row, strict=True)))


@dataclass(frozen=True, slots=True)
class NewDelivery:
    tenant_id: str
    id: str
    event_id: str
    event_name: str
    alert_id: str | None
    channel_id: str
    route_id: str | None
    notification_id: str | None
    status: DeliveryStatus
    reason: str
    send_at: datetime
    execution_id: str | None
    created_at: datetime


def insert_delivery(conn: psycopg.Connection, d: NewDelivery) -> bool:
    """False when (event, channel) already has a delivery (nothing written)."""
    row = conn.execute(
        """INSERT INTO deliveries (tenant_id, id, event_id, event_name, alert_id, channel_id, route_id,
                                   notification_id, status, reason, send_at, execution_id, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (event_id, channel_id) DO NOTHING RETURNING 1""",
        (
            d.tenant_id,
            d.id,
            d.event_id,
            d.event_name,
            d.alert_id,
            d.channel_id,
            d.route_id,
            d.notification_id,
            d.status.value,
            d.reason,
            d.send_at,
            d.execution_id,
            d.created_at,
        ),
    ).fetchone()
    return row is not None


def deliveries_of_event(conn: psycopg.Connection, event_id: str) -> list[Delivery]:
    rows = conn.execute(
        f"SELECT {_DELIVERY} FROM deliveries WHERE event_id = %s ORDER BY created_at, id", (event_id,)
    ).fetchall()
    return [_delivery(r) for r in rows]


def get_delivery(
    conn: psycopg.Connection, tenant_id: str | None, delivery_id: str, *, lock: bool = False
) -> Delivery | None:
    tenant_clause = "" if tenant_id is None else " AND tenant_id = %s"
    params: tuple[Any, ...] = (delivery_id,) if tenant_id is None else (delivery_id, tenant_id)
    row = conn.execute(
        f"SELECT {_DELIVERY} FROM deliveries WHERE id = %s{tenant_clause}" + (" FOR UPDATE" if lock else ""), params
    ).fetchone()
    return _delivery(row) if row else None


def delivery_tenant(conn: psycopg.Connection, delivery_id: str) -> str | None:
    row = conn.execute("SELECT tenant_id FROM deliveries WHERE id = %s", (delivery_id,)).fetchone()
    return str(row[0]) if row else None


def mark_sending(conn: psycopg.Connection, delivery_id: str, at: datetime, execution_id: str | None) -> int:
    """Claims the delivery for one attempt; returns the attempt number."""
    row = conn.execute(
        """UPDATE deliveries SET status = 'sending', attempts = attempts + 1, claimed_at = %s,
                  execution_id = coalesce(%s, execution_id)
           WHERE id = %s RETURNING attempts""",
        (at, execution_id, delivery_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def claimed_at(conn: psycopg.Connection, delivery_id: str) -> datetime | None:
    row = conn.execute("SELECT claimed_at FROM deliveries WHERE id = %s", (delivery_id,)).fetchone()
    return row[0] if row else None


def record_attempt(conn: psycopg.Connection, tenant_id: str, delivery_id: str, attempt: DeliveryAttempt) -> None:
    conn.execute(
        """INSERT INTO delivery_attempts (tenant_id, delivery_id, attempt_no, workflow_attempt, execution_id,
                                          started_at, finished_at, status, response_code, latency_ms, error)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            delivery_id,
            attempt.attempt_no,
            attempt.workflow_attempt,
            attempt.execution_id,
            attempt.started_at,
            attempt.finished_at,
            attempt.status,
            attempt.response_code,
            attempt.latency_ms,
            attempt.error,
        ),
    )


def finish_delivery(
    conn: psycopg.Connection,
    delivery_id: str,
    status: DeliveryStatus,
    at: datetime,
    *,
    error: str | None,
    response_code: int | None,
) -> None:
    conn.execute(
        """UPDATE deliveries SET status = %(s)s, last_error = %(e)s, last_response_code = %(c)s, claimed_at = NULL,
                  delivered_at = CASE WHEN %(s)s = 'delivered' THEN %(at)s ELSE delivered_at END,
                  dead_at = CASE WHEN %(s)s = 'dead' THEN %(at)s ELSE NULL END
           WHERE id = %(id)s""",
        {"s": status.value, "e": error, "c": response_code, "at": at, "id": delivery_id},
    )


def attempts_of(conn: psycopg.Connection, delivery_id: str) -> list[DeliveryAttempt]:
    rows = conn.execute(
        """SELECT attempt_no, workflow_attempt, execution_id, started_at, finished_at, status, response_code,
                  latency_ms, error
           FROM delivery_attempts WHERE delivery_id = %s ORDER BY attempt_no""",
        (delivery_id,),
    ).fetchall()
    names = DeliveryAttempt.model_fields.keys()
    return [DeliveryAttempt(**dict(zip(names, r, strict=True))) for r in rows]


def search(
    conn: psycopg.Connection, tenant_id: str, f: DeliveryFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Delivery]:
    """Newest first by created_at, id."""
    clauses, params = ["tenant_id = %s"], [tenant_id]
    if f.status:
        clauses.append("status = ANY(%s)")
        params.append([s.value for s in f.status])  # type: ignore[arg-type]
    if f.channel_id is not None:
        clauses.append("channel_id = %s")
        params.append(f.channel_id)
    if f.event_id is not None:
        clauses.append("(event_id = %s OR notification_id IN (SELECT id FROM notifications WHERE %s = ANY(event_ids)))")
        params += [f.event_id, f.event_id]
    if f.alert_id is not None:
        clauses.append("(alert_id = %s OR notification_id IN (SELECT id FROM notifications WHERE %s = ANY(alert_ids)))")
        params += [f.alert_id, f.alert_id]
    if after is not None:
        clauses.append("(created_at, id) < (%s, %s)")
        params += [after[0], after[1]]  # type: ignore[list-item]
    rows = conn.execute(
        f"SELECT {_DELIVERY} FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY created_at DESC, id DESC LIMIT %s",
        (*params, limit),
    ).fetchall()
    return [_delivery(r) for r in rows]
