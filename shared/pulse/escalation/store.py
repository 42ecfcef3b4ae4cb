"""SQL of escalation: policies, personal notification policies, contact methods (channels with an owner),
alert escalations, and the batched writes of one engine tick. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from pulse.alerts.models import Alert
from pulse.escalation.models import EscalationPolicy
from pulse.escalation.policy import Cursor

# --- escalation policies ------------------------------------------------------------------------------

_POLICY = (
    "id, name, description, timezone, steps, repeat_count, active_window, reminder, version, created_at, updated_at"
)


def _policy(row: tuple[Any, ...]) -> EscalationPolicy:
    return EscalationPolicy.model_validate(dict(zip(_POLICY.split(", "), row, strict=True)))


def _policy_values(p: EscalationPolicy) -> tuple[Any, ...]:
    doc = p.model_dump(mode="json")
    return (
        p.name,
        p.description,
        p.timezone,
        Jsonb(doc["steps"]),
        p.repeat_count,
        None if p.active_window is None else Jsonb(doc["active_window"]),
        None if p.reminder is None else Jsonb(doc["reminder"]),
        p.version,
        p.updated_at,
    )


def insert_policy(conn: psycopg.Connection, tenant_id: str, p: EscalationPolicy) -> None:
    conn.execute(
        """INSERT INTO escalation_policies (tenant_id, id, name, description, timezone, steps, repeat_count,
                                            active_window, reminder, version, updated_at, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (tenant_id, p.id, *_policy_values(p), p.created_at),
    )


def update_policy(conn: psycopg.Connection, tenant_id: str, p: EscalationPolicy) -> None:
    conn.execute(
        """UPDATE escalation_policies SET name = %s, description = %s, timezone = %s, steps = %s,
                  repeat_count = %s, active_window = %s, reminder = %s, version = %s, updated_at = %s
           WHERE tenant_id = %s AND id = %s""",
        (*_policy_values(p), tenant_id, p.id),
    )


def get_policy(
    conn: psycopg.Connection, tenant_id: str, policy_id: str, *, lock: bool = False
) -> EscalationPolicy | None:
    row = conn.execute(
        f"SELECT {_POLICY} FROM escalation_policies WHERE tenant_id = %s AND id = %s" + (" FOR UPDATE" if lock else ""),
        (tenant_id, policy_id),
    ).fetchone()
    return _policy(row) if row else None


def list_policies(
    conn: psycopg.Connection, tenant_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[EscalationPolicy]:
    clause, params = ("", []) if after is None else (" AND (lower(name), id) > (%s, %s)", list(after))
    rows = conn.execute(
        f"SELECT {_POLICY} FROM escalation_policies WHERE tenant_id = %s{clause} ORDER BY lower(name), id LIMIT %s",
        (tenant_id, *params, limit),
    ).fetchall()
    return [_policy(r) for r in rows]


def policies_by_key(conn: psycopg.Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], EscalationPolicy]:
    if not keys:
        return {}
    tenants, ids = zip(*sorted(keys), strict=True)
    rows = conn.execute(
        f"""SELECT tenant_id, {_POLICY} FROM escalation_policies
            WHERE (tenant_id, id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))""",
        (list(tenants), list(ids)),
    ).fetchall()
    return {(r[0], r[1]): _policy(r[1:]) for r in rows}


def policy_name_taken(conn: psycopg.Connection, tenant_id: str, name: str, except_id: str | None = None) -> bool:
    row = conn.execute(
        "SELECT 1 FROM escalation_policies WHERE tenant_id = %s AND lower(name) = lower(%s) AND id IS DISTINCT FROM %s",
        (tenant_id, name, except_id),
    ).fetchone()
    return row is not None


def routes_using(conn: psycopg.Connection, tenant_id: str, policy_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM notification_routes WHERE tenant_id = %s AND escalation_policy_id = %s ORDER BY position",
        (tenant_id, policy_id),
    ).fetchall()
    return [r[0] for r in rows]


def delete_policy(conn: psycopg.Connection, tenant_id: str, policy_id: str) -> None:
    conn.execute("DELETE FROM escalation_policies WHERE tenant_id = %s AND id = %s", (tenant_id, policy_id))


# --- alert escalations --------------------------------------------------------------------------------


def start(
    conn: psycopg.Connection,
    tenant_id: str,
    alert_id: str,
    policy_id: str,
    route_id: str,
    at: datetime,
    *,
    restart: bool,
) -> bool:
    """A new escalation whose first step is due at ``at``; ``restart`` (a reopened alert) begins a new
    episode over a finished or running one. False when one already runs and nothing was restarted."""
    conflict = (
        """DO UPDATE SET policy_id = excluded.policy_id, route_id = excluded.route_id,
              episode = alert_escalations.episode + 1, status = 'active', position = 0, repeat = 0,
              step_due_at = excluded.step_due_at, reminders = 0, last_reminder_at = NULL, alert_version = 0,
              next_due_at = excluded.next_due_at, ended_reason = NULL, started_at = excluded.started_at,
              updated_at = excluded.updated_at"""
        if restart
        else "DO NOTHING"
    )
    row = conn.execute(
        f"""INSERT INTO alert_escalations (tenant_id, alert_id, policy_id, route_id, status, step_due_at,
                                           next_due_at, started_at, updated_at)
            VALUES (%s, %s, %s, %s, 'active', %s, %s, %s, %s)
            ON CONFLICT (tenant_id, alert_id) {conflict} RETURNING 1""",
        (tenant_id, alert_id, policy_id, route_id, at, at, at, at),
    ).fetchone()
    return row is not None


_ALERT_FIELDS = list(Alert.model_fields)


@dataclass(frozen=True, slots=True)
class DueEscalation:
    tenant_id: str
    policy_id: str
    episode: int
    cursor: Cursor
    next_due_at: datetime | None
    alert_row: tuple[Any, ...]  # the alert's columns in ``Alert`` field order, as read

    @property
    def alert_id(self) -> str:
        return str(self.alert_row[0])

    def alert(self) -> Alert:
        """The alert, validated when the engine walks it (part by part, while the server writes the
        previous part) rather than for the whole batch at the claim."""
        return Alert(**dict(zip(_ALERT_FIELDS, self.alert_row, strict=True)))

    @property
    def alert_key(self) -> str:
        """The alert id, with the episode after a reopen (a new episode pages again)."""
        return self.alert_id if self.episode == 1 else f"{self.alert_id}~{self.episode}"


def claim_due(conn: psycopg.Connection, now: datetime, limit: int) -> list[DueEscalation]:
    """Active escalations that are due or whose alert changed since the engine last looked, with their
    alerts, both locked (skipped when another tick or a person's action holds them)."""
    rows = conn.execute(
        f"""SELECT e.tenant_id, e.policy_id, e.episode, e.position, e.repeat, e.step_due_at, e.reminders,
                   e.last_reminder_at, e.next_due_at, {", ".join("a." + f for f in _ALERT_FIELDS)}
            FROM alert_escalations e JOIN alerts a ON a.tenant_id = e.tenant_id AND a.id = e.alert_id
            WHERE e.status = 'active' AND (e.next_due_at <= %s OR a.version <> e.alert_version)
            ORDER BY e.next_due_at NULLS LAST LIMIT %s
            FOR UPDATE OF e, a SKIP LOCKED""",
        (now, limit),
        binary=True,  # 40 columns x 1,000 rows: binary values load in about half the time of text
    ).fetchall()
    return [
        DueEscalation(
            tenant_id=r[0],
            policy_id=r[1],
            episode=r[2],
            cursor=Cursor(position=r[3], repeat=r[4], step_due_at=r[5], reminders=r[6], last_reminder_at=r[7]),
            next_due_at=r[8],
            alert_row=r[9:],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Progress:
    tenant_id: str
    alert_id: str
    cursor: Cursor
    alert_version: int
    next_due_at: datetime | None
    ended: str | None
    done: list[dict[str, Any]]


def save_progress(conn: psycopg.Connection, items: list[Progress], at: datetime) -> None:
    """Every cursor of a batch in one statement: the rows as one JSON array of arrays, read by position
    (encoded in one call; nothing per row for the server to sort). Sends and reads nothing back, so
    it works in pipeline mode."""
    if not items:
        return
    rows = [
        (
            p.tenant_id,
            p.alert_id,
            p.cursor.position,
            p.cursor.repeat,
            p.cursor.step_due_at,
            p.cursor.reminders,
            p.cursor.last_reminder_at,
            p.alert_version,
            p.next_due_at,
            p.ended,
            p.done,
        )
        for p in items
    ]
    conn.execute(
        """UPDATE alert_escalations e SET position = (x->>2)::int, repeat = (x->>3)::int,
                  step_due_at = (x->>4)::timestamptz, reminders = (x->>5)::int,
                  last_reminder_at = (x->>6)::timestamptz, alert_version = (x->>7)::int,
                  next_due_at = (x->>8)::timestamptz,
                  status = CASE WHEN x->>9 IS NULL THEN 'active' ELSE 'done' END, ended_reason = x->>9,
                  done = e.done || (x->10), updated_at = %s
           FROM jsonb_array_elements(%s::jsonb) x
           WHERE e.tenant_id = x->>0 AND e.alert_id = x->>1""",
        (at, orjson.dumps(rows).decode()),
    )


def get_escalation(conn: psycopg.Connection, tenant_id: str, alert_id: str) -> dict[str, Any] | None:
    cur = conn.execute(
        """SELECT alert_id, policy_id, route_id, episode, status, position, repeat, step_due_at, next_due_at,
                  reminders, ended_reason, started_at, updated_at, done
           FROM alert_escalations WHERE tenant_id = %s AND alert_id = %s""",
        (tenant_id, alert_id),
    )
    row = cur.fetchone()
    if row is None:
        return None
    assert cur.description is not None
    return dict(zip([c.name for c in cur.description], row, strict=True))
