"""Set-based SQL of ``pulse.alerts.bulk``: what many fingerprints' decisions need, read in a few
statements, and their alerts and timeline entries written in a few. Callers own the transaction.

Rows travel to the server as one JSON document each (``jsonb_to_recordset``), encoded by orjson.
The per-transition path's SQL (``store``, ``suppression_store``) is the reference: every query
here answers the same question for many keys at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from pulse.alerts.models import SEVERITY_RANK, Alert, AlertDetail
from pulse.alerts.store import ACTIVE_STATES, COLUMNS
from pulse.alerts.suppression_store import DeviceFacts

Key = tuple[str, str]  # (tenant_id, device_id) or (tenant_id, fingerprint)


def _doc(rows: list[dict[str, Any]]) -> str:
    try:
        return orjson.dumps(rows).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (a twin document may hold one)
        return json.dumps(rows, default=_instant)


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def device_facts(conn: psycopg.Connection, devices: Collection[Key]) -> dict[Key, DeviceFacts]:
    """``suppression_store.device_facts`` of every (tenant, device) that exists."""
    if not devices:
        return {}
    rows = conn.execute(
        """SELECT d.tenant_id, d.id, d.site_id, d.tags, d.last_seen_at, d.heartbeat_interval_s, t.document, t.version
           FROM unnest(%s::text[], %s::text[]) AS k(t, d)
           JOIN devices d ON d.tenant_id = k.t AND d.id = k.d
           LEFT JOIN device_twins t ON t.tenant_id = d.tenant_id AND t.device_id = d.id""",
        ([k[0] for k in devices], [k[1] for k in devices]),
    ).fetchall()
    return {(r[0], r[1]): DeviceFacts(*r[2:]) for r in rows}


def active_alerts(conn: psycopg.Connection, fingerprints: Collection[Key]) -> dict[Key, Alert]:
    """``store.active_for`` of every (tenant, fingerprint): its open / acknowledged / snoozed alert, locked."""
    if not fingerprints:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"""SELECT a.tenant_id, {_qualified("a")}
                FROM unnest(%s::text[], %s::text[]) AS k(t, f)
                JOIN alerts a ON a.tenant_id = k.t AND a.fingerprint = k.f
                WHERE a.state = ANY(%s)
                ORDER BY a.tenant_id, a.id
                FOR UPDATE OF a""",
            ([k[0] for k in fingerprints], [k[1] for k in fingerprints], list(ACTIVE_STATES)),
        ).fetchall()
    return _by_fingerprint(rows)


def last_resolved(conn: psycopg.Connection, fingerprints: Collection[Key]) -> dict[Key, Alert]:
    """``store.last_resolved`` of every (tenant, fingerprint): its latest resolved (not closed) alert, locked."""
    if not fingerprints:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"""SELECT k.t AS tenant_id, {_qualified("r")}
                FROM unnest(%s::text[], %s::text[]) AS k(t, f)
                CROSS JOIN LATERAL (SELECT {COLUMNS} FROM alerts a
                                    WHERE a.tenant_id = k.t AND a.fingerprint = k.f AND a.state = 'resolved'
                                    ORDER BY a.resolved_at DESC LIMIT 1 FOR UPDATE) AS r""",
            ([k[0] for k in fingerprints], [k[1] for k in fingerprints]),
        ).fetchall()
    return _by_fingerprint(rows)


def _by_fingerprint(rows: list[dict[str, Any]]) -> dict[Key, Alert]:
    found: dict[Key, Alert] = {}
    for row in rows:
        tenant_id = row.pop("tenant_id")
        found[(tenant_id, row["fingerprint"])] = Alert.model_validate(row)
    return found


def _qualified(alias: str) -> str:
    return ", ".join(f"{alias}.{column}" for column in COLUMNS.split(", "))


@dataclass(frozen=True, slots=True)
class OpenedAt:
    """One Opened transition to check against maintenance windows and silences."""

    tenant_id: str
    device_id: str
    rule_id: str
    severity: str
    at: datetime


def guards(conn: psycopg.Connection, openings: Sequence[OpenedAt]) -> dict[int, tuple[str | None, str | None]]:
    """(maintenance window, silence) covering each opening, by its index, for those with either:
    ``suppression_store.maintenance_covering`` and ``matching_silence``, with the device's site and tags."""
    if not openings:
        return {}
    doc = [
        {"o": n, "t": o.tenant_id, "d": o.device_id, "r": o.rule_id, "sev": o.severity, "at": o.at}
        for n, o in enumerate(openings)
    ]
    rows = conn.execute(
        """SELECT g.o, g.m, g.s FROM (
             SELECT x.o,
                    (SELECT m.id FROM maintenance_windows m
                     WHERE m.tenant_id = x.t AND m.starts_at <= x.at AND m.ends_at > x.at
                       AND (m.device_id = x.d OR (m.site_id IS NOT NULL AND m.site_id = dv.site_id))
                     ORDER BY m.ends_at DESC LIMIT 1) AS m,
                    (SELECT s.id FROM silences s
                     WHERE s.tenant_id = x.t AND s.starts_at <= x.at AND s.ends_at > x.at
                       AND (s.site_id IS NULL OR s.site_id = dv.site_id) AND (s.device_id IS NULL OR s.device_id = x.d)
                       AND (s.rule_id IS NULL OR s.rule_id = x.r) AND dv.tags @> s.tags
                       AND (cardinality(s.severities) = 0 OR x.sev = ANY(s.severities))
                     ORDER BY s.ends_at DESC, s.id LIMIT 1) AS s
             FROM jsonb_to_recordset(%s::jsonb) AS x(o int, t text, d text, r text, sev text, at timestamptz)
             JOIN devices dv ON dv.tenant_id = x.t AND dv.id = x.d) AS g
           WHERE g.m IS NOT NULL OR g.s IS NOT NULL""",
        (_doc(doc),),
    ).fetchall()
    return {int(r[0]): (r[1], r[2]) for r in rows}


def insert_alerts(conn: psycopg.Connection, tenant_alerts: Sequence[tuple[str, AlertDetail]]) -> set[str]:
    """``store.insert`` of many opened alerts; returns the ids stored (a fingerprint another
    transaction holds active is skipped, like ``store.insert``'s False)."""
    if not tenant_alerts:
        return set()
    doc = [
        {
            "t": tenant_id,
            "i": a.id,
            "fp": a.fingerprint,
            "r": a.rule_id,
            "rv": a.rule_version,
            "rn": a.rule_name,
            "d": a.device_id,
            "s": a.site_id,
            "sev": a.severity.value,
            "rank": SEVERITY_RANK[a.severity],
            "st": a.state.value,
            "src": a.source,
            "l": a.latched,
            "si": a.silenced,
            "sid": a.silence_id,
            "c": a.count,
            "fv": a.first_value,
            "lv": a.last_value,
            "oa": a.opened_at,
            "ep": a.episode_started_at,
            "lf": a.last_fired_at,
            "ex": a.explanation,
            "up": a.updated_at,
        }
        for tenant_id, a in tenant_alerts
    ]
    rows = conn.execute(
        """INSERT INTO alerts (tenant_id, id, fingerprint, rule_id, rule_version, rule_name, device_id, site_id,
                               severity, severity_rank, state, source, latched, silenced, silence_id, count,
                               first_value, last_value, opened_at, episode_started_at, last_fired_at, explanation,
                               updated_at)
           SELECT t, i, fp, r, rv, rn, d, s, sev, rank, st, src, l, si, sid, c,
                  NULLIF(fv, 'null'), NULLIF(lv, 'null'), oa, ep, lf, ex, up
           FROM jsonb_to_recordset(%s::jsonb)
                AS x(t text, i text, fp text, r text, rv int, rn text, d text, s text, sev text, rank smallint,
                     st text, src text, l bool, si bool, sid text, c int, fv jsonb, lv jsonb, oa timestamptz,
                     ep timestamptz, lf timestamptz, ex jsonb, up timestamptz)
           ON CONFLICT (tenant_id, fingerprint) WHERE state NOT IN ('resolved', 'closed') DO NOTHING
           RETURNING id""",
        (_doc(doc),),
    ).fetchall()
    return {r[0] for r in rows}


@dataclass(frozen=True, slots=True)
class AlertWrite:
    """An alert as a batch of decisions left it: ``changes`` updates (each one bumps the version),
    the last at ``alert.updated_at``; ``explanation`` when one was captured anew (a reopen)."""

    tenant_id: str
    alert: Alert
    changes: int
    explanation: dict[str, Any] | None


def update_alerts(conn: psycopg.Connection, writes: Sequence[AlertWrite]) -> None:
    """Every column a decision may change set to its final value, in one statement."""
    if not writes:
        return
    doc = [
        {
            "t": w.tenant_id,
            "i": a.id,
            "rv": a.rule_version,
            "st": a.state.value,
            "si": a.silenced,
            "sid": a.silence_id,
            "sn": a.snoozed_until,
            "c": a.count,
            "lv": a.last_value,
            "ep": a.episode_started_at,
            "lf": a.last_fired_at,
            "aa": a.acknowledged_at,
            "ab": a.acknowledged_by,
            "cc": a.condition_cleared_at,
            "rd": a.resolve_due_at,
            "ra": a.resolved_at,
            "rb": a.resolved_by,
            "ex": w.explanation,
            "up": a.updated_at,
            "n": w.changes,
        }
        for w in writes
        for a in (w.alert,)
    ]
    conn.execute(
        """UPDATE alerts a
           SET rule_version = x.rv, state = x.st, silenced = x.si, silence_id = x.sid, snoozed_until = x.sn,
               count = x.c, last_value = NULLIF(x.lv, 'null'), episode_started_at = x.ep, last_fired_at = x.lf,
               acknowledged_at = x.aa, acknowledged_by = x.ab, condition_cleared_at = x.cc, resolve_due_at = x.rd,
               resolved_at = x.ra, resolved_by = x.rb, explanation = COALESCE(NULLIF(x.ex, 'null'), a.explanation),
               updated_at = x.up, version = a.version + x.n
           FROM jsonb_to_recordset(%s::jsonb)
                AS x(t text, i text, rv int, st text, si bool, sid text, sn timestamptz, c int, lv jsonb,
                     ep timestamptz, lf timestamptz, aa timestamptz, ab text, cc timestamptz, rd timestamptz,
                     ra timestamptz, rb text, ex jsonb, up timestamptz, n int)
           WHERE a.tenant_id = x.t AND a.id = x.i""",
        (_doc(doc),),
    )


@dataclass(frozen=True, slots=True)
class TimelineWrite:
    tenant_id: str
    alert_id: str
    at: datetime
    action: str
    actor: str
    detail: dict[str, Any]


def add_timeline(conn: psycopg.Connection, entries: Sequence[TimelineWrite]) -> None:
    """``store.add_timeline`` of many entries (no note: the evaluator writes none), ids in the order given."""
    if not entries:
        return
    doc = [
        {"o": n, "t": e.tenant_id, "al": e.alert_id, "at": e.at, "a": e.action, "by": e.actor, "d": e.detail}
        for n, e in enumerate(entries)
    ]
    conn.execute(
        """INSERT INTO alert_events (tenant_id, alert_id, at, action, actor, note, detail)
           SELECT t, al, at, a, by, '', d FROM jsonb_to_recordset(%s::jsonb)
                AS x(o int, t text, al text, at timestamptz, a text, by text, d jsonb)
           ORDER BY o""",
        (_doc(doc),),
    )
