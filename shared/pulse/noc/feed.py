"""The platform event feed: alert lifecycle steps, presence changes, quarantined messages, dead letters.

Four tables feed it, each read in the order of its own key (the identity id; dead letters by
``(dead_at, id)``). The cursor holds the last key seen of every source, so "newer than the cursor"
means rows inserted after the ones the client has, whatever their timestamps say: a presence event
stamped by IoT Core a second before the last one shown, but stored after it, still arrives.

The first call answers the newest ``limit`` events. A call with ``after`` answers the oldest
``limit`` events newer than the cursor (merged by time; each source is taken as a prefix of its own
order, so no row is skipped), shown newest first, and says ``has_more`` when more are waiting.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from pulse.errors import RequestInvalid
from pulse.noc.measures import Tenants, tenant_clause
from pulse.noc.models import EventFeed, FeedEvent, FeedKind
from pulse.registry.paging import decode_cursor, encode_cursor

_SORT = "platform-events"
# Timeline actions that change an alert's lifecycle (comments, reminders and internal notes are not).
ALERT_LIFECYCLE = (
    "opened",
    "reopened",
    "acknowledged",
    "unacknowledged",
    "snoozed",
    "snooze_ended",
    "assigned",
    "escalated",
    "resolved",
    "closed",
)
ALL_KINDS: tuple[FeedKind, ...] = ("alert", "presence", "quarantine", "dead_letter")

Key = Any  # an id, or [dead_at iso, id] for dead letters


@dataclass(frozen=True, slots=True)
class _Row:
    key: Key
    event: FeedEvent


def _alerts(conn: psycopg.Connection, tenants: Tenants, after: Key, newest: bool, limit: int) -> list[_Row]:
    params: dict[str, Any] = {"actions": list(ALERT_LIFECYCLE), "limit": limit}
    where = tenant_clause(tenants, params, "e.tenant_id")
    if after is not None:
        params["after"] = int(after)
        where += " AND e.id > %(after)s"
    rows = conn.execute(
        f"""SELECT e.id, e.at, e.tenant_id, a.device_id, e.alert_id, e.action, e.actor, a.severity, a.rule_name
            FROM alert_events e JOIN alerts a ON a.tenant_id = e.tenant_id AND a.id = e.alert_id
            WHERE e.action = ANY(%(actions)s){where}
            ORDER BY e.id {"DESC" if newest else "ASC"} LIMIT %(limit)s""",
        params,
    ).fetchall()
    return [
        _Row(
            i,
            FeedEvent(
                id=f"alert:{i}",
                kind="alert",
                event=action,
                at=at,
                tenant_id=tenant,
                device_id=device,
                severity=severity,
                summary=f"{severity} alert {rule or alert_id!r} on {device} {action.replace('_', ' ')}",
                detail={"alert_id": alert_id, "rule_name": rule, "actor": actor},
            ),
        )
        for i, at, tenant, device, alert_id, action, actor, severity, rule in rows
    ]


def _presence(conn: psycopg.Connection, tenants: Tenants, after: Key, newest: bool, limit: int) -> list[_Row]:
    params: dict[str, Any] = {"limit": limit}
    where = tenant_clause(tenants, params)
    if after is not None:
        params["after"] = int(after)
        where += " AND id > %(after)s"
    rows = conn.execute(
        f"""SELECT id, at, tenant_id, device_id, kind, status, reason FROM device_connectivity_events
            WHERE true{where} ORDER BY id {"DESC" if newest else "ASC"} LIMIT %(limit)s""",
        params,
    ).fetchall()
    found = []
    for i, at, tenant, device, kind, status, reason in rows:
        event = status.lower() if kind == "status" else kind
        summary = (
            f"{device} is {event}" if kind == "status" else f"{device} {kind}" + (f" ({reason})" if reason else "")
        )
        detail = {"reason": reason} if reason else {}
        found.append(
            _Row(
                i,
                FeedEvent(
                    id=f"presence:{i}",
                    kind="presence",
                    event=event,
                    at=at,
                    tenant_id=tenant,
                    device_id=device,
                    summary=summary,
                    detail=detail,
                ),
            )
        )
    return found


def _quarantine(conn: psycopg.Connection, tenants: Tenants, after: Key, newest: bool, limit: int) -> list[_Row]:
    params: dict[str, Any] = {"limit": limit}
    where = tenant_clause(tenants, params)
    if after is not None:
        params["after"] = int(after)
        where += " AND id > %(after)s"
    rows = conn.execute(
        f"""SELECT id, received_at, tenant_id, device_id, reason, left(detail, 200), topic FROM quarantine_events
            WHERE true{where} ORDER BY id {"DESC" if newest else "ASC"} LIMIT %(limit)s""",
        params,
    ).fetchall()
    return [
        _Row(
            i,
            FeedEvent(
                id=f"quarantine:{i}",
                kind="quarantine",
                event=reason,
                at=at,
                tenant_id=tenant,
                device_id=device,
                summary=f"message on {topic} quarantined: {reason}",
                detail={"detail": detail, "topic": topic},
            ),
        )
        for i, at, tenant, device, reason, detail, topic in rows
    ]


def _dead_letters(conn: psycopg.Connection, tenants: Tenants, after: Key, newest: bool, limit: int) -> list[_Row]:
    params: dict[str, Any] = {"limit": limit}
    where = tenant_clause(tenants, params)
    if after is not None:
        try:
            params["after_at"], params["after_id"] = datetime.fromisoformat(str(after[0])), str(after[1])
        except (TypeError, ValueError, IndexError):
            raise RequestInvalid("after: not a cursor this API issued") from None
        where += " AND (dead_at, id) > (%(after_at)s, %(after_id)s)"
    order = "DESC" if newest else "ASC"
    rows = conn.execute(
        f"""SELECT id, dead_at, tenant_id, alert_id, channel_id, event_name, left(coalesce(last_error, ''), 200)
            FROM deliveries WHERE status = 'dead'{where}
            ORDER BY dead_at {order}, id {order} LIMIT %(limit)s""",
        params,
    ).fetchall()
    return [
        _Row(
            [at.isoformat(), i],
            FeedEvent(
                id=f"dead_letter:{i}",
                kind="dead_letter",
                event="dead_letter",
                at=at,
                tenant_id=tenant,
                device_id=None,
                summary=f"{event_name} to channel {channel} dead: {error or 'no error recorded'}",
                detail={"delivery_id": i, "alert_id": alert_id, "channel_id": channel, "error": error},
            ),
        )
        for i, at, tenant, alert_id, channel, event_name, error in rows
    ]


_Source = Callable[[psycopg.Connection, Tenants, Key, bool, int], list[_Row]]
_SOURCES: dict[FeedKind, _Source] = {
    "alert": _alerts,
    "presence": _presence,
    "quarantine": _quarantine,
    "dead_letter": _dead_letters,
}


def _decode(cursor: str | None) -> dict[str, Key] | None:
    try:
        values = decode_cursor(cursor, _SORT)
    except RequestInvalid:
        raise RequestInvalid("after: not a cursor of this feed") from None
    if values is None:
        return None
    if len(values) != 1 or not isinstance(values[0], dict) or not set(values[0]) <= set(ALL_KINDS):
        raise RequestInvalid("after: not a cursor this API issued")
    marks: dict[str, Key] = values[0]
    return marks


def newest(
    conn: psycopg.Connection, tenants: Tenants, kinds: Sequence[FeedKind], *, limit: int
) -> tuple[list[FeedEvent], dict[str, Key]]:
    """The newest ``limit`` events of ``kinds`` (newest first) and the last key of every source."""
    marks: dict[str, Key] = {}
    found: list[FeedEvent] = []
    for kind in kinds:
        rows = _SOURCES[kind](conn, tenants, None, True, limit)
        marks[kind] = rows[0].key if rows else None
        found += [r.event for r in rows]
    found.sort(key=lambda e: e.at, reverse=True)
    return found[:limit], marks


def feed(
    conn: psycopg.Connection, tenants: Tenants, kinds: Sequence[FeedKind], *, after: str | None, limit: int
) -> EventFeed:
    marks = _decode(after)
    if marks is None:
        items, heads = newest(conn, tenants, kinds, limit=limit)
        return EventFeed(items=items, cursor=encode_cursor(_SORT, [heads]), has_more=False)
    heads = dict(marks)
    per_source: dict[FeedKind, list[_Row]] = {}
    for kind in kinds:
        if kind in marks:
            per_source[kind] = _SOURCES[kind](conn, tenants, marks[kind], False, limit + 1)
        else:  # a kind the cursor did not follow yet: follow it from now on
            head = _SOURCES[kind](conn, tenants, None, True, 1)
            heads[kind] = head[0].key if head else None
    tagged = [[(row.event.at, kind, row) for row in rows] for kind, rows in per_source.items()]
    merged = list(heapq.merge(*tagged, key=lambda t: t[0]))  # keeps each source's own order
    taken = merged[:limit]
    for _, kind, row in taken:
        heads[kind] = row.key
    items = sorted((row.event for _, _, row in taken), key=lambda e: e.at, reverse=True)
    return EventFeed(items=items, cursor=encode_cursor(_SORT, [heads]), has_more=len(merged) > limit)
