"""SQL of ``rule_state``: lock, write back in bulk, select what the scheduled tick must run.

Lock order: ingest holds the device row (``lock_senders``) before it locks the device's states;
the scheduled tick locks states with SKIP LOCKED and creates new states only for devices it could
share-lock without waiting, so the two paths never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from pydantic import TypeAdapter

from pulse.rules.state import RuleState

StateKey = tuple[str, str, str]  # (tenant_id, rule_id, device_id)


@dataclass(frozen=True, slots=True)
class Shard:
    """One of ``count`` disjoint parts of the fleet, by a hash of the device id: concurrent ticks
    of different shards never touch the same state."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}")


# How long after a rule change the tick also looks for states of an older version or behind their
# device's telemetry: far longer than any ingest container's rule cache lives.
RECENTLY_CHANGED = "1 hour"


@dataclass(frozen=True, slots=True)
class DueRow:
    key: StateKey
    state: RuleState


# States travel to the server as one JSON array of [tenant, rule, device, state] (the indexed columns
# are read from the state itself): serialized in one call, parsed once by the server, instead
# of eight parameter arrays built element by element (measured: half the client CPU of a write).
_WRITE_BATCH: TypeAdapter[list[tuple[str, str, str, RuleState]]] = TypeAdapter(list[tuple[str, str, str, RuleState]])
_BATCH_ROWS = """SELECT e.v->>0 AS tenant_id, e.v->>1 AS rule_id, e.v->>2 AS device_id,
                        (e.v->3->>'rule_version')::int AS rule_version, e.v->3 AS state,
                        (e.v->3->>'firing')::bool AS firing, (e.v->3->>'next_due')::timestamptz AS next_due,
                        (e.v->3->>'watermark')::timestamptz AS watermark
                 FROM jsonb_array_elements(%s::jsonb) AS e(v)"""


def _batch(rows: Sequence[tuple[StateKey, RuleState]]) -> str:
    return _WRITE_BATCH.dump_json([(*k, s) for k, s in rows]).decode()


def _columns(keys: Sequence[StateKey]) -> tuple[list[str], list[str], list[str]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


def lock_states(conn: psycopg.Connection, keys: Sequence[StateKey]) -> dict[StateKey, RuleState]:
    """Reads and row-locks the states of ``keys`` that exist, in key order (waits for other writers)."""
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    rows = conn.execute(
        """SELECT s.tenant_id, s.rule_id, s.device_id, s.state::text
           FROM unnest(%b::text[], %b::text[], %b::text[]) AS k(tenant_id, rule_id, device_id)
           JOIN rule_state s ON s.tenant_id = k.tenant_id AND s.rule_id = k.rule_id AND s.device_id = k.device_id
           ORDER BY 1, 2, 3
           FOR UPDATE OF s""",
        _columns(ordered),
    ).fetchall()
    return {(r[0], r[1], r[2]): RuleState.model_validate_json(r[3]) for r in rows}


def lock_due(conn: psycopg.Connection, keys: Sequence[StateKey]) -> list[DueRow]:
    """Row-locks the states of ``keys`` nobody else holds (the rest are left to their holder)."""
    if not keys:
        return []
    rows = conn.execute(
        """SELECT s.tenant_id, s.rule_id, s.device_id, s.state::text
           FROM unnest(%b::text[], %b::text[], %b::text[]) AS k(tenant_id, rule_id, device_id)
           JOIN rule_state s ON s.tenant_id = k.tenant_id AND s.rule_id = k.rule_id AND s.device_id = k.device_id
           FOR UPDATE OF s SKIP LOCKED""",
        _columns(keys),
    ).fetchall()
    return [DueRow((r[0], r[1], r[2]), RuleState.model_validate_json(r[3])) for r in rows]


def update_states(conn: psycopg.Connection, rows: Sequence[tuple[StateKey, RuleState]], at: datetime) -> None:
    """Writes back states that exist (and that this transaction holds locked), in one statement."""
    if not rows:
        return
    conn.execute(
        f"""UPDATE rule_state s
            SET rule_version = b.rule_version, state = b.state, firing = b.firing, next_due = b.next_due,
                watermark = b.watermark, updated_at = %s
            FROM ({_BATCH_ROWS}) AS b
            WHERE s.tenant_id = b.tenant_id AND s.rule_id = b.rule_id AND s.device_id = b.device_id""",
        (at, _batch(rows)),
    )


def insert_states(conn: psycopg.Connection, rows: Sequence[tuple[StateKey, RuleState]], at: datetime) -> set[StateKey]:
    """Creates states; returns the keys inserted (a key someone else created meanwhile is skipped)."""
    if not rows:
        return set()
    inserted = conn.execute(
        f"""INSERT INTO rule_state (tenant_id, rule_id, device_id, rule_version, state, firing, next_due, watermark,
                                    updated_at)
            SELECT b.tenant_id, b.rule_id, b.device_id, b.rule_version, b.state, b.firing, b.next_due, b.watermark, %s
            FROM ({_BATCH_ROWS}) AS b
            ON CONFLICT DO NOTHING
            RETURNING tenant_id, rule_id, device_id""",
        (at, _batch(rows)),
    ).fetchall()
    return {(r[0], r[1], r[2]) for r in inserted}


def delete_states(conn: psycopg.Connection, keys: Sequence[StateKey]) -> None:
    if keys:
        conn.execute(
            """DELETE FROM rule_state s USING unnest(%b::text[], %b::text[], %b::text[]) AS k(t, r, d)
               WHERE s.tenant_id = k.t AND s.rule_id = k.r AND s.device_id = k.d""",
            _columns(keys),
        )


# --- what the scheduled tick runs -----------------------------------------------------------------


def due_keys(conn: psycopg.Connection, until: datetime, shard: Shard | None = None) -> list[StateKey]:
    """States the tick must run: a timer before ``until`` (index scan), and for rules changed within
    ``RECENTLY_CHANGED``, states of an older version or behind their device's telemetry (samples no
    ingest container evaluated: its rule cache had not seen the rule yet). Ordered by device, so a
    chunk holds all due states of its devices (their facts are loaded once); with ``shard``, only
    the devices of that shard."""
    of_shard = "" if shard is None else "AND mod(hashtext(s.device_id) & 2147483647, %(count)s) = %(index)s"
    rows = conn.execute(
        f"""SELECT s.tenant_id, s.rule_id, s.device_id
            FROM rule_state s
            JOIN rules r ON r.tenant_id = s.tenant_id AND r.id = s.rule_id
            WHERE s.next_due < %(until)s AND r.enabled AND r.deleted_at IS NULL {of_shard}
            UNION
            SELECT s.tenant_id, s.rule_id, s.device_id
            FROM rules r
            JOIN rule_state s ON s.tenant_id = r.tenant_id AND s.rule_id = r.id
            JOIN devices d ON d.tenant_id = s.tenant_id AND d.id = s.device_id
            WHERE r.enabled AND r.deleted_at IS NULL AND r.updated_at > now() - interval '{RECENTLY_CHANGED}'
              AND (s.rule_version <> r.current_version
                   OR (d.last_msg_ts > s.watermark AND s.watermark < %(until)s)) {of_shard}
            ORDER BY 1, 3, 2""",
        {"until": until, **({} if shard is None else {"count": shard.count, "index": shard.index})},
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def unstarted_pairs(conn: psycopg.Connection, limit: int) -> list[tuple[str, str, str]]:
    """(tenant, rule, device) in scope of a live rule without a state yet, device rows share-locked.

    Only rules whose scope was not synced since they changed look at every device; the others only
    at devices created or changed since their last sync (with a margin for late commits). Devices
    that ingest holds right now are skipped: ingest starts their states itself.
    """
    rows = conn.execute(
        """SELECT r.tenant_id, r.id, d.id
           FROM rules r
           JOIN devices d ON d.tenant_id = r.tenant_id
           WHERE r.enabled AND r.deleted_at IS NULL AND d.status = 'active'
             AND (r.scope_synced_at IS NULL OR r.scope_synced_at < r.updated_at
                  OR d.created_at > r.scope_synced_at - interval '5 minutes'
                  OR d.updated_at > r.scope_synced_at - interval '5 minutes')
             AND (cardinality(r.scope_site_ids) = 0 OR d.site_id = ANY(r.scope_site_ids))
             AND (cardinality(r.scope_device_ids) = 0 OR d.id = ANY(r.scope_device_ids))
             AND (cardinality(r.scope_models) = 0 OR d.model = ANY(r.scope_models))
             AND d.tags @> r.scope_tags
             AND NOT EXISTS (SELECT 1 FROM rule_state s
                             WHERE s.tenant_id = r.tenant_id AND s.rule_id = r.id AND s.device_id = d.id)
           LIMIT %s
           FOR SHARE OF d SKIP LOCKED""",
        (limit,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def mark_scopes_synced(conn: psycopg.Connection, at: datetime) -> None:
    """Every live rule's scope is materialized as of ``at`` (called after ``unstarted_pairs`` ran dry)."""
    conn.execute(
        """UPDATE rules SET scope_synced_at = %s
           WHERE enabled AND deleted_at IS NULL AND (scope_synced_at IS NULL OR scope_synced_at < %s)""",
        (at, at),
    )


def all_live_rules(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(tenant, body JSON) of every enabled live rule's current version, across tenants."""
    rows = conn.execute(
        """SELECT r.tenant_id, v.body::text FROM rules r
           JOIN rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version
           WHERE r.enabled AND r.deleted_at IS NULL"""
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def read_telemetry(
    conn: psycopg.Connection, spans: Sequence[tuple[str, str, datetime, datetime]]
) -> dict[tuple[str, str], list[tuple[datetime, str | None, float | None]]]:
    """Stored messages of each (tenant, device) with after < ts <= until: message instants (metric
    None) and metric values, oldest first."""
    if not spans:
        return {}
    rows = conn.execute(
        """WITH k AS (SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::timestamptz[])
                      AS k(tenant_id, device_id, after, until))
           SELECT m.tenant_id, m.device_id, m.ts, NULL::text, NULL::float8 FROM k
           JOIN telemetry_messages m ON m.tenant_id = k.tenant_id AND m.device_id = k.device_id
                                    AND m.ts > k.after AND m.ts <= k.until
           UNION ALL
           SELECT t.tenant_id, t.device_id, t.ts, t.metric, t.value FROM k
           JOIN telemetry t ON t.tenant_id = k.tenant_id AND t.device_id = k.device_id
                           AND t.ts > k.after AND t.ts <= k.until
           ORDER BY 1, 2, 3""",
        ([s[0] for s in spans], [s[1] for s in spans], [s[2] for s in spans], [s[3] for s in spans]),
    ).fetchall()
    found: dict[tuple[str, str], list[tuple[datetime, str | None, float | None]]] = {}
    for tenant, device, ts, metric, value in rows:
        found.setdefault((tenant, device), []).append((ts, metric, value))
    return found
