"""On-call SQL (psycopg 3), nothing else. Callers own the transaction; every query names the tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pulse.alerts.models import SEVERITY_RANK, AlertDetail
from pulse.oncall.models import OnCallSchedule, Override, Swap, SwapState

_SCHEDULE = "id, name, timezone, description, alert_on_gaps, layers, created_by, created_at, updated_at, version"
_OVERRIDE = "id, schedule_id, username, starts_at, ends_at, source, swap_id, note, created_by, created_at"
_SWAP = (
    "id, schedule_id, from_user, to_user, requested_by, starts_at, ends_at, state, note, override_id, created_at, "
    "decided_by, decided_at"
)


def _layers(schedule: OnCallSchedule) -> Jsonb:
    return Jsonb([layer.model_dump(mode="json") for layer in schedule.layers])


# --- schedules ---------------------------------------------------------------------------------------


def insert_schedule(conn: psycopg.Connection, tenant_id: str, s: OnCallSchedule) -> None:
    conn.execute(
        f"""INSERT INTO oncall_schedules (tenant_id, {_SCHEDULE})
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (tenant_id, s.id, s.name, s.timezone, s.description, s.alert_on_gaps, _layers(s), s.created_by,
         s.created_at, s.updated_at, s.version),
    )  # fmt: skip


def get_schedule(
    conn: psycopg.Connection, tenant_id: str, schedule_id: str, *, lock: bool = False
) -> OnCallSchedule | None:
    with conn.cursor(row_factory=class_row(OnCallSchedule)) as cur:
        return cur.execute(
            f"SELECT {_SCHEDULE} FROM oncall_schedules WHERE tenant_id = %s AND id = %s"
            + (" FOR UPDATE" if lock else ""),
            (tenant_id, schedule_id),
        ).fetchone()


def list_schedules(
    conn: psycopg.Connection, tenant_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[OnCallSchedule]:
    """By name, then id; ``after`` is the (name, id) of the previous page's last schedule."""
    key = "AND (name, id) > (%s, %s)" if after else ""
    with conn.cursor(row_factory=class_row(OnCallSchedule)) as cur:
        return cur.execute(
            f"SELECT {_SCHEDULE} FROM oncall_schedules WHERE tenant_id = %s {key} ORDER BY name, id LIMIT %s",
            (tenant_id, *(after or ()), limit),
        ).fetchall()


def update_schedule(conn: psycopg.Connection, tenant_id: str, s: OnCallSchedule) -> None:
    conn.execute(
        """UPDATE oncall_schedules SET name = %s, timezone = %s, description = %s, alert_on_gaps = %s, layers = %s,
                                       updated_at = %s, version = %s
           WHERE tenant_id = %s AND id = %s""",
        (s.name, s.timezone, s.description, s.alert_on_gaps, _layers(s), s.updated_at, s.version, tenant_id, s.id),
    )


def delete_schedule(conn: psycopg.Connection, tenant_id: str, schedule_id: str) -> None:
    conn.execute("DELETE FROM oncall_schedules WHERE tenant_id = %s AND id = %s", (tenant_id, schedule_id))


def set_ical_token_hash(conn: psycopg.Connection, tenant_id: str, schedule_id: str, digest: bytes) -> None:
    conn.execute(
        "UPDATE oncall_schedules SET ical_token_hash = %s WHERE tenant_id = %s AND id = %s",
        (digest, tenant_id, schedule_id),
    )


def find_ical_schedule(conn: psycopg.Connection, digest: bytes) -> tuple[str, str] | None:
    """(tenant, schedule) whose feed token hashes to ``digest``; callable without a tenant."""
    row = conn.execute("SELECT tenant_id, schedule_id FROM pulse_find_ical_schedule(%s)", (digest,)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def schedule_keys(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(tenant, schedule) of every tenant's schedules (the coverage check, as ``pulse_ingest``)."""
    rows = conn.execute("SELECT tenant_id, id FROM oncall_schedules ORDER BY tenant_id, id").fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


# --- overrides ---------------------------------------------------------------------------------------


def insert_override(conn: psycopg.Connection, tenant_id: str, o: Override) -> None:
    conn.execute(
        f"INSERT INTO oncall_overrides (tenant_id, {_OVERRIDE}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (tenant_id, o.id, o.schedule_id, o.username, o.starts_at, o.ends_at, o.source, o.swap_id, o.note,
         o.created_by, o.created_at),
    )  # fmt: skip


def get_override(conn: psycopg.Connection, tenant_id: str, schedule_id: str, override_id: str) -> Override | None:
    with conn.cursor(row_factory=class_row(Override)) as cur:
        return cur.execute(
            f"SELECT {_OVERRIDE} FROM oncall_overrides WHERE tenant_id = %s AND schedule_id = %s AND id = %s",
            (tenant_id, schedule_id, override_id),
        ).fetchone()


def overrides_between(
    conn: psycopg.Connection, tenant_id: str, schedule_id: str, start: datetime, end: datetime
) -> list[Override]:
    """Overrides overlapping ``[start, end)``, oldest first."""
    with conn.cursor(row_factory=class_row(Override)) as cur:
        return cur.execute(
            f"""SELECT {_OVERRIDE} FROM oncall_overrides
                WHERE tenant_id = %s AND schedule_id = %s AND ends_at > %s AND starts_at < %s
                ORDER BY starts_at, id""",
            (tenant_id, schedule_id, start, end),
        ).fetchall()


def delete_override(conn: psycopg.Connection, tenant_id: str, override_id: str) -> None:
    conn.execute("DELETE FROM oncall_overrides WHERE tenant_id = %s AND id = %s", (tenant_id, override_id))


# --- swaps -------------------------------------------------------------------------------------------


def insert_swap(conn: psycopg.Connection, tenant_id: str, s: Swap) -> None:
    conn.execute(
        f"""INSERT INTO oncall_swaps (tenant_id, {_SWAP})
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (tenant_id, s.id, s.schedule_id, s.from_user, s.to_user, s.requested_by, s.starts_at, s.ends_at,
         s.state.value, s.note, s.override_id, s.created_at, s.decided_by, s.decided_at),
    )  # fmt: skip


def get_swap(
    conn: psycopg.Connection, tenant_id: str, schedule_id: str, swap_id: str, *, lock: bool = False
) -> Swap | None:
    with conn.cursor(row_factory=class_row(Swap)) as cur:
        return cur.execute(
            f"SELECT {_SWAP} FROM oncall_swaps WHERE tenant_id = %s AND schedule_id = %s AND id = %s"
            + (" FOR UPDATE" if lock else ""),
            (tenant_id, schedule_id, swap_id),
        ).fetchone()


def list_swaps(
    conn: psycopg.Connection,
    tenant_id: str,
    schedule_id: str,
    *,
    state: SwapState | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Swap]:
    """Newest first; ``after`` is the (created_at, id) of the previous page's last swap."""
    clauses = ["tenant_id = %s", "schedule_id = %s"]
    params: list[Any] = [tenant_id, schedule_id]
    if state is not None:
        clauses.append("state = %s")
        params.append(state.value)
    if after is not None:
        clauses.append("(created_at, id) < (%s, %s)")
        params.extend(after)
    with conn.cursor(row_factory=class_row(Swap)) as cur:
        return cur.execute(
            f"""SELECT {_SWAP} FROM oncall_swaps WHERE {" AND ".join(clauses)}
                ORDER BY created_at DESC, id DESC LIMIT %s""",
            (*params, limit),
        ).fetchall()


def decide_swap(conn: psycopg.Connection, tenant_id: str, s: Swap) -> None:
    conn.execute(
        """UPDATE oncall_swaps SET state = %s, override_id = %s, decided_by = %s, decided_at = %s
           WHERE tenant_id = %s AND id = %s""",
        (s.state.value, s.override_id, s.decided_by, s.decided_at, tenant_id, s.id),
    )


# --- alerts about a schedule ---------------------------------------------------------------------------


def insert_schedule_alert(conn: psycopg.Connection, tenant_id: str, a: AlertDetail) -> bool:
    """Insert an open alert whose subject is the schedule ``a.device_id`` names (migration 0050: no
    device behind it); False when the fingerprint already has an active alert."""
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": a.id,
        "fingerprint": a.fingerprint,
        "rule_id": a.rule_id,
        "rule_version": a.rule_version,
        "rule_name": a.rule_name,
        "device_id": a.device_id,
        "subject": "schedule",
        "severity": a.severity.value,
        "severity_rank": SEVERITY_RANK[a.severity],
        "state": a.state.value,
        "source": a.source,
        "silenced": a.silenced,
        "silence_id": a.silence_id,
        "opened_at": a.opened_at,
        "episode_started_at": a.episode_started_at,
        "last_fired_at": a.last_fired_at,
        "explanation": Jsonb(a.explanation),
        "updated_at": a.updated_at,
    }
    cur = conn.execute(
        f"""INSERT INTO alerts ({", ".join(values)}) VALUES ({", ".join(["%s"] * len(values))})
            ON CONFLICT (tenant_id, fingerprint) WHERE state NOT IN ('resolved', 'closed') DO NOTHING""",
        tuple(values.values()),
    )
    return cur.rowcount == 1
