"""Writes an accepted batch: message ledger (dedup), one binary COPY of metric rows, device latest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from pulse.connect.envelope import EnvelopeV1

# (tenant, device, msg_key, ts)
LedgerKey = tuple[str, str, str, datetime]


@dataclass(frozen=True, slots=True)
class StoredMessage:
    tenant_id: str
    device_id: str
    msg_key: str
    envelope: EnvelopeV1
    source: str

    @property
    def ledger_key(self) -> LedgerKey:
        return (self.tenant_id, self.device_id, self.msg_key, self.envelope.timestamp)


class PartitionCache:
    """Days whose partitions are known to exist, so ingest asks the database once per day per process."""

    def __init__(self) -> None:
        self._days: set[date] = set()

    def ensure(self, conn: psycopg.Connection, days: Iterable[date]) -> None:
        missing = sorted(set(days) - self._days)
        for day in missing:
            for parent in ("telemetry", "telemetry_messages"):
                conn.execute("SELECT pulse_ensure_day_partition(%s, %s)", (parent, day))
        self._days.update(missing)

    def forget(self) -> None:
        self._days.clear()


def record_messages(conn: psycopg.Connection, messages: list[StoredMessage], received_at: datetime) -> set[LedgerKey]:
    """Inserts the batch into the ledger; returns the keys that were new (the rest are redeliveries)."""
    if not messages:
        return set()
    cols: tuple[list[object], ...] = ([], [], [], [], [], [], [], [], [], [])
    for m in messages:
        e = m.envelope
        for col, value in zip(
            cols,
            (
                m.tenant_id,
                m.device_id,
                m.msg_key,
                e.timestamp,
                e.seq,
                e.site_id,
                e.lat,
                e.lng,
                len(e.metrics),
                m.source,
            ),
            strict=True,
        ):
            col.append(value)
    rows = conn.execute(
        """INSERT INTO telemetry_messages
               (tenant_id, device_id, msg_key, ts, seq, site_id, lat, lng, metric_count, source, received_at)
           SELECT b.*, %b FROM unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::bigint[],
                                   %b::text[], %b::float8[], %b::float8[], %b::int[], %b::text[]) AS b
           ON CONFLICT DO NOTHING
           RETURNING tenant_id, device_id, msg_key, ts""",
        (received_at, *cols),
    ).fetchall()
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def forget_messages(conn: psycopg.Connection, keys: list[LedgerKey]) -> None:
    """Removes ledger rows of messages refused after dedup (rate limited), so a retry can store them."""
    if keys:
        conn.execute(
            """DELETE FROM telemetry_messages m
               USING unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[]) AS k(t, d, key, ts)
               WHERE m.tenant_id = k.t AND m.device_id = k.d AND m.msg_key = k.key AND m.ts = k.ts""",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [k[3] for k in keys]),
        )


_STAGE = """CREATE TEMPORARY TABLE IF NOT EXISTS telemetry_stage
               (LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"""


def copy_metrics(conn: psycopg.Connection, messages: list[StoredMessage], *, direct: bool) -> int:
    """One binary COPY of every (message, metric) row; returns the number of rows.

    ``direct`` when the session's role bypasses row-level security. Otherwise PostgreSQL refuses COPY
    into ``telemetry``, so rows are copied into a temporary table and moved with one INSERT.
    """
    target = "telemetry"
    if not direct:
        conn.execute(_STAGE)
        target = "telemetry_stage"
    rows = 0
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {target} (tenant_id, device_id, ts, metric, value) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["text", "text", "timestamptz", "text", "float8"])
        write = copy.write_row
        for m in messages:
            t, d, ts = m.tenant_id, m.device_id, m.envelope.timestamp
            for name, value in m.envelope.metrics.items():
                write((t, d, ts, name, float(value)))
            rows += len(m.envelope.metrics)
    if not direct:
        conn.execute("INSERT INTO telemetry SELECT * FROM telemetry_stage")
    return rows


DeviceKey = tuple[str, str]
LatestState = tuple[datetime, dict[str, float | bool]]


def fold_latest(
    messages: list[StoredMessage],
    previous: Mapping[DeviceKey, tuple[datetime | None, dict[str, float | bool]]],
) -> dict[DeviceKey, LatestState]:
    """Per device: the newest timestamp and every metric's newest value, this batch folded into ``previous``.

    Messages are applied in timestamp order and the stored state wins where it is newer, so a
    buffered old message never hides a newer value while still adding metrics never seen before.
    """
    batch: dict[DeviceKey, LatestState] = {}
    for m in sorted(messages, key=lambda m: m.envelope.timestamp):
        key = (m.tenant_id, m.device_id)
        merged = batch[key][1] if key in batch else {}
        merged.update(m.envelope.metrics)
        batch[key] = (m.envelope.timestamp, merged)
    folded: dict[DeviceKey, LatestState] = {}
    for key, (ts, metrics) in batch.items():
        stored_ts, stored = previous.get(key, (None, {}))
        if stored_ts is None or ts >= stored_ts:
            folded[key] = (ts, {**stored, **metrics})
        else:
            folded[key] = (stored_ts, {**metrics, **stored})
    return folded


def mark_dirty_hours(conn: psycopg.Connection, messages: list[StoredMessage]) -> None:
    """Records which (tenant, hour) rollups the maintenance job must recompute.

    An existing mark is updated rather than skipped so that ingest holds its row lock until commit:
    a concurrent rollup refresh (``FOR UPDATE SKIP LOCKED``) then leaves the hour for its next run
    instead of computing it without these uncommitted rows and deleting the mark.
    """
    hours = sorted(
        {
            (m.tenant_id, m.envelope.timestamp.replace(minute=0, second=0, microsecond=0))
            for m in messages
            if m.envelope.metrics
        }
    )
    if hours:
        conn.execute(
            """INSERT INTO telemetry_dirty_hours (tenant_id, hour)
               SELECT * FROM unnest(%b::text[], %b::timestamptz[])
               ON CONFLICT (tenant_id, hour) DO UPDATE SET hour = excluded.hour""",
            ([h[0] for h in hours], [h[1] for h in hours]),
        )
