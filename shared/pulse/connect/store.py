"""SQL of the Connect plane: who is sending (device, tenant, credentials) and how fast."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

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
    rate_window: datetime | None
    rate_count: int
    last_msg_ts: datetime | None
    last_metrics: dict[str, float | bool]

    def sent_in(self, window: datetime) -> int:
        """Messages already counted in the one-minute ``window`` (0 when the stored window is older)."""
        return self.rate_count if self.rate_window == window else 0


def lock_senders(conn: psycopg.Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], SenderRecord]:
    """Reads and row-locks the batch's devices in key order (concurrent batches never deadlock).

    Tenants are read by a second, tiny query: joined into the device lookup, the planner may pair
    tenants with the key list first and then scan every device of a tenant once per key.
    """
    keys = sorted(set(keys))
    if not keys:
        return {}
    devices = conn.execute(
        """SELECT d.tenant_id, d.id, d.status, d.thing_name, d.token_hash, d.rate_window, d.rate_count,
                  d.last_msg_ts, d.last_metrics
           FROM unnest(%b::text[], %b::text[]) AS b(tenant_id, device_id)
           JOIN devices d ON d.tenant_id = b.tenant_id AND d.id = b.device_id
           ORDER BY d.tenant_id, d.id
           FOR UPDATE OF d""",
        ([k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    tenants = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT id, status, device_rate_per_minute FROM tenants WHERE id = ANY(%b::text[])",
            (sorted({k[0] for k in keys}),),
        )
    }
    return {
        (d[0], d[1]): SenderRecord(
            tenant_id=d[0],
            device_id=d[1],
            device_status=d[2],
            thing_name=d[3],
            token_hash=d[4],
            tenant_status=tenants[d[0]][0],
            rate_per_minute=tenants[d[0]][1],
            rate_window=d[5],
            rate_count=d[6],
            last_msg_ts=d[7],
            last_metrics=d[8],
        )
        for d in devices
    }


def update_senders(
    conn: psycopg.Connection,
    *,
    seen_at: datetime,
    window: datetime,
    sent: dict[tuple[str, str], int],
    latest: dict[tuple[str, str], tuple[datetime, dict[str, float | bool]]],
) -> None:
    """One UPDATE per batch: each device's rate window count, last-seen time and latest metrics.

    ``sent`` is the device's total in ``window`` including this batch and ``latest`` its merged
    latest state (see ``pulse.stream.writer.fold_latest``); both were computed from the row read by
    ``lock_senders``, which stays locked until commit, so concurrent ingest instances cannot
    interleave. Merging in Python and writing the result is cheaper than a jsonb merge in SQL.
    """
    keys = sorted(set(sent) | set(latest))
    if not keys:
        return
    conn.execute(
        """UPDATE devices d
           SET rate_window = %b, rate_count = b.sent,
               last_seen_at = CASE WHEN b.ts IS NULL THEN d.last_seen_at ELSE greatest(d.last_seen_at, %b) END,
               last_msg_ts = coalesce(b.ts, d.last_msg_ts),
               last_metrics = coalesce(b.metrics, d.last_metrics)
           FROM unnest(%b::text[], %b::text[], %b::int[], %b::timestamptz[], %b::jsonb[])
                AS b(tenant_id, device_id, sent, ts, metrics)
           WHERE d.tenant_id = b.tenant_id AND d.id = b.device_id""",
        (
            window,
            seen_at,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [sent.get(k, 0) for k in keys],
            [latest[k][0] if k in latest else None for k in keys],
            [Jsonb(latest[k][1]) if k in latest else None for k in keys],
        ),
    )


def record_rejections(conn: psycopg.Connection, rejections: list[Rejection], excerpt_bytes: int) -> None:
    """Writes refused messages and their per-minute counters in two statements."""
    if not rejections:
        return
    conn.cursor().executemany(
        """INSERT INTO quarantine_events
               (received_at, tenant_id, device_id, topic, source, reason, detail, excerpt, payload_size)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        [
            (
                r.received_at,
                r.tenant_id,
                r.device_id,
                r.topic[:512].replace("\x00", ""),
                r.source,
                r.reason.value,
                r.detail[:1000].replace("\x00", ""),
                r.excerpt(excerpt_bytes).replace("\x00", "\\x00"),
                len(r.payload),
            )
            for r in rejections
        ],
    )
    counts: dict[tuple[datetime, str, str], int] = {}
    for r in rejections:
        key = (r.received_at.replace(second=0, microsecond=0), r.tenant_id or "", r.reason.value)
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts)
    conn.execute(
        """INSERT INTO quarantine_counts (minute, tenant_id, reason, count)
           SELECT * FROM unnest(%b::timestamptz[], %b::text[], %b::text[], %b::bigint[])
           ON CONFLICT (minute, tenant_id, reason) DO UPDATE SET count = quarantine_counts.count + excluded.count""",
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [counts[k] for k in keys]),
    )
