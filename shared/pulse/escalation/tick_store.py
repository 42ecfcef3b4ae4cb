"""SQL of one engine tick, batched: notifications and deliveries of escalation actions (the rows the
one delivery pipeline reads), alert timeline entries and outbox events, and escalation deliveries
that are due but not started yet. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.alerts.models import AlertState

REMINDER_MARK = ":reminder:"


@dataclass
class TickWrites:
    """Rows one batch of escalations writes, in one transaction."""

    notifications: list[tuple[Any, ...]] = field(default_factory=list)
    deliveries: list[tuple[Any, ...]] = field(default_factory=list)
    timeline: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)

    def notification(
        self,
        tenant_id: str,
        notification_id: str,
        send_at: datetime,
        detail: dict[str, Any],
        alert_id: str,
        at: datetime,
    ) -> None:
        event_id = str(detail["metadata"]["event_id"])
        self.notifications.append((tenant_id, notification_id, send_at, Jsonb([detail]), [event_id], [alert_id], at))

    def delivery(
        self,
        tenant_id: str,
        delivery_id: str,
        event_id: str,
        event_name: str,
        alert_id: str,
        channel_id: str,
        notification_id: str,
        send_at: datetime,
        at: datetime,
    ) -> None:
        self.deliveries.append(
            (tenant_id, delivery_id, event_id, event_name, alert_id, channel_id, notification_id, send_at, at)
        )

    def flush(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            if self.notifications:
                cur.executemany(
                    """INSERT INTO notifications (tenant_id, id, route_id, group_key, status, send_at, events,
                                                  event_ids, alert_ids, created_at)
                       VALUES (%s, %s, NULL, '', 'open', %s, %s, %s, %s, %s)""",
                    self.notifications,
                )
            if self.deliveries:
                # (event_id, channel_id) is unique: an action that ran before writes nothing again.
                cur.executemany(
                    """INSERT INTO deliveries (tenant_id, id, event_id, event_name, alert_id, channel_id, route_id,
                                               notification_id, status, reason, send_at, created_at)
                       VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, 'pending', 'escalation', %s, %s)
                       ON CONFLICT (event_id, channel_id) DO NOTHING""",
                    self.deliveries,
                )
            if self.timeline:
                cur.executemany(
                    """INSERT INTO alert_events (tenant_id, alert_id, at, action, actor, note, detail)
                       VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                    self.timeline,
                )
            if self.outbox:
                cur.executemany(
                    """INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail)
                       VALUES (%s, %s, %s, %s, %s)""",
                    self.outbox,
                )


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: str
    tenant_id: str
    event_id: str
    alert_state: AlertState

    @property
    def reminder(self) -> bool:
        return REMINDER_MARK in self.event_id

    @property
    def wanted(self) -> bool:
        """A step pages only an open alert; a reminder only an acknowledged one."""
        return self.alert_state is (AlertState.ACKNOWLEDGED if self.reminder else AlertState.OPEN)


def claim_unstarted(conn: psycopg.Connection, now: datetime, limit: int) -> list[DueDelivery]:
    """Escalation deliveries due and never started, with their alert's state, both locked: an
    acknowledgement in flight waits for this transaction, or this waits for it."""
    rows = conn.execute(
        """SELECT d.id, d.tenant_id, d.event_id, a.state
           FROM deliveries d JOIN alerts a ON a.tenant_id = d.tenant_id AND a.id = d.alert_id
           WHERE d.status = 'pending' AND d.execution_id IS NULL AND d.event_id LIKE 'escalation:%%'
             AND d.send_at <= %s
           ORDER BY d.send_at, d.id LIMIT %s
           FOR UPDATE OF d, a SKIP LOCKED""",
        (now, limit),
    ).fetchall()
    return [DueDelivery(r[0], r[1], r[2], AlertState(r[3])) for r in rows]


def suppress(conn: psycopg.Connection, ids: list[str], reason: str) -> None:
    conn.execute(
        "UPDATE deliveries SET status = 'suppressed', reason = %s WHERE id = ANY(%s) AND status = 'pending'",
        (reason, ids),
    )


def mark_started(conn: psycopg.Connection, ids: list[str], execution_id: str) -> None:
    conn.execute(
        "UPDATE deliveries SET execution_id = %s WHERE id = ANY(%s) AND execution_id IS NULL", (execution_id, ids)
    )
