"""SQL of the Connect plane: who is sending (device, tenant, credentials) and how fast."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from pulse.connect.quarantine import Rejection

ACCEPTING_TENANT_STATUSES = frozenset({"trial", "active", "grace"})


@dataclass(frozen=True, slots=True)
class SenderRecord:
    """What ingest needs to know about a device and its tenant to admit a message."""

    tenant_id: str
    device_id: str
    device_status: str
    thing_name: str | None
    token_hash: bytes | None
    tenant_status: str
    rate_per_minute: int | None


def lock_senders(conn: psycopg.Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], SenderRecord]:
    """Reads and row-locks the batch's devices in key order (concurrent batches never deadlock)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = conn.execute(
        """SELECT d.tenant_id, d.id, d.status, d.thing_name, d.token_hash, t.status, t.device_rate_per_minute
           FROM devices d
           JOIN tenants t ON t.id = d.tenant_id
           JOIN unnest(%s::text[], %s::text[]) AS b(tenant_id, device_id)
             ON d.tenant_id = b.tenant_id AND d.id = b.device_id
           ORDER BY d.tenant_id, d.id
           FOR UPDATE OF d""",
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    return {(r[0], r[1]): SenderRecord(*r) for r in rows}


def count_messages(conn: psycopg.Connection, window: datetime,
                   counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """Adds this batch's new messages to each device's fixed one-minute window; returns the totals.

    The counter lives on the (already locked) device row, so the limit holds across any number of
    concurrent ingest instances.
    """
    if not counts:
        return {}
    keys = sorted(counts)
    rows = conn.execute(
        """UPDATE devices d
           SET rate_count = CASE WHEN d.rate_window = %s THEN d.rate_count + b.n ELSE b.n END,
               rate_window = %s
           FROM unnest(%s::text[], %s::text[], %s::int[]) AS b(tenant_id, device_id, n)
           WHERE d.tenant_id = b.tenant_id AND d.id = b.device_id
           RETURNING d.tenant_id, d.id, d.rate_count""",
        (window, window, [k[0] for k in keys], [k[1] for k in keys], [counts[k] for k in keys]),
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def record_rejections(conn: psycopg.Connection, rejections: list[Rejection], excerpt_bytes: int) -> None:
    """Writes refused messages and their per-minute counters in two statements."""
    if not rejections:
        return
    conn.cursor().executemany(
        """INSERT INTO quarantine_events
               (received_at, tenant_id, device_id, topic, source, reason, detail, excerpt, payload_size)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        [(r.received_at, r.tenant_id, r.device_id, r.topic[:512].replace("\x00", ""), r.source, r.reason.value,
          r.detail[:1000].replace("\x00", ""), r.excerpt(excerpt_bytes).replace("\x00", "\\x00"), len(r.payload))
         for r in rejections],
    )
    counts: dict[tuple[datetime, str, str], int] = {}
    for r in rejections:
        key = (r.received_at.replace(second=0, microsecond=0), r.tenant_id or "", r.reason.value)
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts)
    conn.execute(
        """INSERT INTO quarantine_counts (minute, tenant_id, reason, count)
           SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::bigint[])
           ON CONFLICT (minute, tenant_id, reason) DO UPDATE SET count = quarantine_counts.count + excluded.count""",
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [counts[k] for k in keys]),
    )
