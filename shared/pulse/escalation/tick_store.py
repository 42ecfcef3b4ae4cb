"""SQL of one engine tick, batched: notifications and deliveries of escalation actions (the rows the
one delivery pipeline reads), alert timeline entries and outbox events, and escalation deliveries
that are due but not started yet. Callers own the transaction."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg

from pulse.alerts.models import AlertState
from pulse.escalation.targets import Page

REMINDER_MARK = ":reminder:"

# The rows of a part travel as one JSON array of arrays (orjson encodes it in one call; the server
# parses it once, with no per-row keys to sort) and are read by position: one row per action, with its
# timeline entry; its notification when it pages anyone, and a delivery per page; its outbox event
# when it announces (a step). The event travels once, as the notification's events; the outbox event's
# data is read out of it (a copy of the parsed value, not parsed again). One statement writes them all
# (the notifications first: the deliveries' foreign key is checked at its end).
_ACTIONS = """
WITH a AS MATERIALIZED (
    SELECT r->>0 AS tenant_id, r->>1 AS alert_id, r->>2 AS event_id, r->>3 AS event_name,
           r->>4 AS notification_id, (r->5)::bool AS announce, r->6 AS events, r->>7 AS action, r->>8 AS note,
           r->9 AS detail, r->10 AS pages
    FROM jsonb_array_elements(%(rows)s::jsonb) r
), notified AS (
    INSERT INTO notifications (tenant_id, id, route_id, group_key, status, send_at, events, event_ids, alert_ids,
                               created_at)
    SELECT tenant_id, notification_id, NULL, '', 'open', %(at)s, events, ARRAY[event_id], ARRAY[alert_id], %(at)s
    FROM a WHERE notification_id IS NOT NULL
), announced AS (
    INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail)
    SELECT tenant_id, event_name, alert_id, %(at)s, events->0->'data' FROM a WHERE announce
), entered AS (
    INSERT INTO alert_events (tenant_id, alert_id, at, action, actor, note, detail)
    SELECT tenant_id, alert_id, %(at)s, action, %(actor)s, note, detail FROM a
)
INSERT INTO deliveries (tenant_id, id, event_id, event_name, alert_id, channel_id, route_id, notification_id,
                        status, reason, send_at, created_at)
SELECT a.tenant_id, p->>0, a.event_id, a.event_name, a.alert_id, p->>1, NULL, a.notification_id, 'pending',
       'escalation', (p->>2)::timestamptz, %(at)s
FROM a, jsonb_array_elements(a.pages) p"""

# (event_id, channel_id) is unique: a delivery of an action that ran before is not written again. Only
# when a part's plain INSERT hit one does its batch run again with this (see ``TickWrites.send``).
_AGAIN = " ON CONFLICT (event_id, channel_id) DO NOTHING RETURNING id, send_at"
DELIVERY_KEY = "deliveries_event_id_channel_id_key"


@dataclass
class TickWrites:
    """The rows of the actions one part of a batch takes at ``at``, by ``actor``; ``send`` writes them
    in one statement while the engine walks the next part (pipeline mode)."""

    at: datetime
    actor: str
    actions: list[tuple[Any, ...]] = field(default_factory=list)
    deliveries: list[tuple[Any, ...]] = field(default_factory=list)
    announced: int = 0
    _prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:20])
    _serial: Iterator[int] = field(default_factory=itertools.count)
    at_text: str = field(init=False)

    def __post_init__(self) -> None:
        self.at_text = self.at.isoformat()  # the events' occurred_at

    def new_id(self) -> str:
        """32 hex digits like a uuid4's: 80 random bits per batch, then a serial (one urandom per batch)."""
        return f"{self._prefix}{next(self._serial):012x}"

    def action(
        self,
        tenant_id: str,
        alert_id: str,
        event_id: str,
        event_name: str,
        data: dict[str, Any],
        *,
        pages: Sequence[Page],
        announce: bool,
        timeline: tuple[str, str, dict[str, Any]],
    ) -> None:
        """An action: its timeline entry (action, note, detail); when it pages anyone, a notification of
        the event and a delivery per page; when it ``announce``s, its outbox event."""
        notification_id = f"ntf_{self.new_id()}" if pages else None
        metadata = {  # keys in jsonb's order (see _jsonb_order)
            "event_id": event_id,
            "tenant_id": tenant_id,
            "event_name": event_name,
            "occurred_at": self.at_text,
            "event_version": 1,
            "correlation_id": alert_id,
        }
        events = [{"data": _jsonb_order(data), "metadata": metadata}]
        deliveries = [(f"dlv_{self.new_id()}", page.channel_id, page.send_at) for page in pages]
        action, note, detail = timeline
        row = (tenant_id, alert_id, event_id, event_name, notification_id, announce, events, action, note)
        self.actions.append((*row, _jsonb_order(detail), deliveries))
        self.deliveries += deliveries
        self.announced += announce

    def send(self, conn: psycopg.Connection, *, again: bool = False) -> Sent:
        """Writes every row in one statement. Deliveries go in with a plain INSERT (an escalation action
        runs once, so none exists yet: nothing to look up per row, nothing to read back); one that
        exists after all (the action ran before, or a step names a channel twice) fails the statement,
        and the engine writes the batch ``again``: ON CONFLICT DO NOTHING skips exactly those, and the
        deliveries written are read back. Sends and reads nothing before the statement ran, so it works
        in pipeline mode (``Sent.due`` reads the result once the pipeline synced)."""
        if not self.actions:
            return Sent(0, [], None)
        params = {"rows": _json(self.actions), "at": self.at, "actor": self.actor}
        if again:
            return Sent(self.announced, [], conn.execute(_ACTIONS + _AGAIN, params))
        conn.execute(_ACTIONS, params)
        return Sent(self.announced, [(d[0], d[2]) for d in self.deliveries], None)


def _json(rows: list[tuple[Any, ...]]) -> str:
    return orjson.dumps(rows).decode()


_KEY_ORDER: dict[tuple[str, ...], tuple[str, ...]] = {}


def _jsonb_order(obj: dict[str, Any]) -> dict[str, Any]:
    """The same object with its keys in the order jsonb stores them: shorter first, then bytewise.
    PostgreSQL sorts every object's keys as it parses JSON into jsonb; keys that arrive sorted cost it a
    check instead of a sort (~4% of a tick's server instructions). Nested objects are left as they are:
    the one in an event's data, its ``escalation``, is built in that order by the engine."""
    keys = tuple(obj)
    order = _KEY_ORDER.get(keys)
    if order is None:
        order = _KEY_ORDER[keys] = tuple(sorted(keys, key=lambda k: (len(k.encode()), k.encode())))
    return {k: obj[k] for k in order}


@dataclass(frozen=True, slots=True)
class Sent:
    """What one ``TickWrites.send`` wrote: its outbox events, and its deliveries (those it sent, or when
    written again those the server returned as written, read once the results arrived)."""

    announced: int
    written: list[tuple[str, datetime]]
    cursor: psycopg.Cursor[Any] | None

    def due(self, now: datetime) -> list[str]:
        """The deliveries written (not there before) that are due at ``now``: started at once."""
        rows = self.written if self.cursor is None else self.cursor.fetchall()
        return [delivery_id for delivery_id, send_at in rows if send_at <= now]


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
