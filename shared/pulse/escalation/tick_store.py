"""SQL of one engine tick, batched: notifications and deliveries of escalation actions (the rows the
one delivery pipeline reads), alert timeline entries and outbox events, and escalation deliveries
that are due but not started yet. Callers own the transaction."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg

from pulse.alerts.models import AlertState
from pulse.outbox.after_commit import count_written

REMINDER_MARK = ":reminder:"


@dataclass
class TickWrites:
    """Rows one batch of escalations writes, in one transaction. Each kind goes in one statement, the
    rows as one JSON document (``jsonb_to_recordset``): a batch writes thousands of rows in four round
    trips, and orjson encodes them far faster than per-value parameters."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    _prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:20])
    _serial: Iterator[int] = field(default_factory=itertools.count)

    def new_id(self) -> str:
        """32 hex digits like a uuid4's: 80 random bits per batch, then a serial (one urandom per batch)."""
        return f"{self._prefix}{next(self._serial):012x}"

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
        self.notifications.append(
            {"t": tenant_id, "i": notification_id, "s": send_at, "e": [detail], "ev": event_id, "al": alert_id, "c": at}
        )

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
            {
                "t": tenant_id,
                "i": delivery_id,
                "ev": event_id,
                "en": event_name,
                "al": alert_id,
                "ch": channel_id,
                "n": notification_id,
                "s": send_at,
                "c": at,
            }
        )

    def entry(
        self, tenant_id: str, alert_id: str, at: datetime, action: str, actor: str, note: str, detail: Any
    ) -> None:
        row = {"t": tenant_id, "al": alert_id, "at": at, "a": action, "by": actor, "n": note, "d": detail}
        self.timeline.append(row)

    def event(self, tenant_id: str, event_type: str, correlation_id: str, at: datetime, detail: Any) -> None:
        self.outbox.append({"t": tenant_id, "et": event_type, "ci": correlation_id, "at": at, "d": detail})

    def flush(self, conn: psycopg.Connection, now: datetime) -> list[str]:
        """Writes every row; returns the deliveries written that are due at ``now`` (to start at once)."""
        due: list[str] = []
        if self.notifications:
            conn.execute(
                """INSERT INTO notifications (tenant_id, id, route_id, group_key, status, send_at, events, event_ids,
                                              alert_ids, created_at)
                   SELECT t, i, NULL, '', 'open', s, e, ARRAY[ev], ARRAY[al], c
                   FROM jsonb_to_recordset(%s::jsonb)
                        AS x(t text, i text, s timestamptz, e jsonb, ev text, al text, c timestamptz)""",
                (_rows(self.notifications),),
            )
        if self.deliveries:
            # (event_id, channel_id) is unique: an action that ran before writes nothing again.
            written = conn.execute(
                """INSERT INTO deliveries (tenant_id, id, event_id, event_name, alert_id, channel_id, route_id,
                                           notification_id, status, reason, send_at, created_at)
                   SELECT t, i, ev, en, al, ch, NULL, n, 'pending', 'escalation', s, c
                   FROM jsonb_to_recordset(%s::jsonb) AS x(t text, i text, ev text, en text, al text, ch text,
                                                          n text, s timestamptz, c timestamptz)
                   ON CONFLICT (event_id, channel_id) DO NOTHING RETURNING id, send_at""",
                (_rows(self.deliveries),),
            ).fetchall()
            due = [r[0] for r in written if r[1] <= now]
        if self.timeline:
            conn.execute(
                """INSERT INTO alert_events (tenant_id, alert_id, at, action, actor, note, detail)
                   SELECT t, al, at, a, by, n, d FROM jsonb_to_recordset(%s::jsonb)
                        AS x(t text, al text, at timestamptz, a text, by text, n text, d jsonb)""",
                (_rows(self.timeline),),
            )
        if self.outbox:
            conn.execute(
                """INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail)
                   SELECT t, et, ci, at, d FROM jsonb_to_recordset(%s::jsonb)
                        AS x(t text, et text, ci text, at timestamptz, d jsonb)""",
                (_rows(self.outbox),),
            )
            for _ in self.outbox:
                count_written()  # the handler's publish_after_commit starts the outbox publisher
        return due


def _rows(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


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
    """Escalation deliveries written by an earlier tick, due, and never started or tried, with their
    alert's state, both locked: an acknowledgement in flight waits for this transaction, or this waits
    for it. (A tick starts the deliveries it writes due at once itself, right after its commit; one
    whose start was lost is found here by the next tick.)"""
    rows = conn.execute(
        """SELECT d.id, d.tenant_id, d.event_id, a.state
           FROM deliveries d JOIN alerts a ON a.tenant_id = d.tenant_id AND a.id = d.alert_id
           WHERE d.status = 'pending' AND d.attempts = 0 AND d.execution_id IS NULL
             AND d.event_id LIKE 'escalation:%%' AND d.send_at <= %s AND d.created_at < %s
           ORDER BY d.send_at, d.id LIMIT %s
           FOR UPDATE OF d, a SKIP LOCKED""",
        (now, now, limit),
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
