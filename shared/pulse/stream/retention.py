"""Retention of the telemetry store: day partitions ahead of time, expired partitions and rows away.

Partitions exist from the oldest day a buffered message may carry (``max_message_age_s``) to
``partitions_ahead_days`` after today, so ingest seldom has to create one on its path. Day
partitions older than ``telemetry_retention_days`` are dropped (by ``pulse_drop_expired_partitions``,
which counts days on the database clock). Every row cutoff is a UTC midnight:

- ``telemetry_1h`` keeps what the raw rows keep (same cutoff as the partitions), so an hourly
  bucket never outlives or predeceases the rows it summarizes and rollup-backed queries stay exact.
- ``telemetry_1m`` keeps ``min(30, telemetry_retention_days)`` days: minutes are there to rebuild the
  hour of a late row (a few days back at most) and for fine-grained recent charts; beyond a month the
  hourly rows and raw rows answer every query, at 1/60 of the size.
- quarantine events and counters keep ``quarantine_retention_days``.

DDL takes a lock on the parent table that conflicts with ingest, so each partition change runs in a
transaction of its own with a short ``lock_timeout``; one that cannot get its lock is reported and
left for the next run instead of stalling ingest behind it. On TimescaleDB chunks are created on
insert and expire by the hypertables' retention policy, so the partition steps are skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from psycopg import errors as pg_errors

from pulse.db import Database
from pulse.observability import logger
from pulse.settings import Settings

DAY_PARTITIONED = ("telemetry_messages", "telemetry")
MINUTE_ROLLUP_MAX_DAYS = 30
DDL_LOCK_TIMEOUT = "2s"


@dataclass(frozen=True, slots=True)
class RetentionSummary:
    partitions_created: tuple[str, ...] = ()
    partitions_dropped: tuple[str, ...] = ()
    partitions_deferred: tuple[str, ...] = ()  # lock not available: left for the next run
    minute_rows_deleted: int = 0
    hour_rows_deleted: int = 0
    dirty_hours_deleted: int = 0
    quarantine_events_deleted: int = 0
    quarantine_counts_deleted: int = 0


def partition_days(settings: Settings, now: datetime) -> list[date]:
    """Days needing partitions: from the oldest acceptable message's day to ``partitions_ahead_days`` on."""
    today = now.astimezone(UTC).date()
    back = math.ceil(settings.max_message_age_s / 86_400)
    return [today + timedelta(days=offset) for offset in range(-back, settings.partitions_ahead_days + 1)]


def partition_name(parent: str, day: date) -> str:
    return f"{parent}_p{day:%Y%m%d}"


def _midnight_days_ago(now: datetime, days: int) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=days), time(), tzinfo=UTC)


def telemetry_cutoff(settings: Settings, now: datetime) -> datetime:
    """Raw rows and hourly rollups before this instant are expired."""
    return _midnight_days_ago(now, settings.telemetry_retention_days)


def minute_rollup_cutoff(settings: Settings, now: datetime) -> datetime:
    return _midnight_days_ago(now, min(MINUTE_ROLLUP_MAX_DAYS, settings.telemetry_retention_days))


def quarantine_cutoff(settings: Settings, now: datetime) -> datetime:
    return _midnight_days_ago(now, settings.quarantine_retention_days)


def _timescale_enabled(db: Database) -> bool:
    with db.transaction() as conn:
        row = conn.execute("SELECT pulse_timescale_enabled()").fetchone()
    return bool(row and row[0])


def _run_ddl(db: Database, statement: str, params: tuple[object, ...]) -> list[str] | None:
    """Runs one partition statement in its own transaction; None when its lock was not available."""
    with db.transaction() as conn:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (DDL_LOCK_TIMEOUT,))
        try:
            with conn.transaction():
                return [str(r[0]) for r in conn.execute(statement, params).fetchall() if r[0] is not None]
        except pg_errors.LockNotAvailable:
            return None


def ensure_partitions(db: Database, days: list[date]) -> tuple[list[str], list[str]]:
    """Creates the missing day partitions of the telemetry tables; returns (created, deferred) names."""
    wanted = [(parent, day) for parent in DAY_PARTITIONED for day in days]
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NULL",
            ([partition_name(p, d) for p, d in wanted],),
        ).fetchall()
    missing = {r[0] for r in rows}
    created: list[str] = []
    deferred: list[str] = []
    for parent, day in wanted:
        name = partition_name(parent, day)
        if name not in missing:
            continue
        done = _run_ddl(db, "SELECT pulse_ensure_day_partition(%s, %s)::text", (parent, day))
        (deferred if done is None else created).append(name)
    return created, deferred


def drop_expired_partitions(db: Database, keep_days: int) -> tuple[list[str], list[str]]:
    """Drops day partitions older than ``keep_days``; returns (dropped, deferred parent tables)."""
    dropped: list[str] = []
    deferred: list[str] = []
    for parent in DAY_PARTITIONED:
        names = _run_ddl(db, "SELECT * FROM pulse_drop_expired_partitions(%s, %s)", (parent, keep_days))
        if names is None:
            deferred.append(parent)
        else:
            dropped.extend(names)
    return dropped, deferred


def _delete_before(conn: psycopg.Connection, table: str, column: str, cutoff: datetime) -> int:
    # Table and column names come from this module's constants, never from input.
    return conn.execute(f"DELETE FROM {table} WHERE {column} < %s", (cutoff,)).rowcount


def delete_expired_rows(db: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """Deletes expired rollup, dirty-hour and quarantine rows in one transaction; counts per table."""
    raw = telemetry_cutoff(settings, now)
    with db.transaction() as conn:
        minutes = minute_rollup_cutoff(settings, now)
        return {
            "telemetry_1m": _delete_before(conn, "telemetry_1m", "bucket", minutes),
            "telemetry_1h": _delete_before(conn, "telemetry_1h", "bucket", raw),
            "telemetry_dirty_hours": _delete_before(conn, "telemetry_dirty_hours", "hour", raw),
            "quarantine_events": _delete_before(
                conn, "quarantine_events", "received_at", quarantine_cutoff(settings, now)
            ),
            "quarantine_counts": _delete_before(conn, "quarantine_counts", "minute", quarantine_cutoff(settings, now)),
        }


def apply_retention(db: Database, settings: Settings, now: datetime) -> RetentionSummary:
    """Partitions ahead, expired partitions dropped, expired rows deleted."""
    created: list[str] = []
    dropped: list[str] = []
    deferred: list[str] = []
    if not _timescale_enabled(db):
        created, deferred = ensure_partitions(db, partition_days(settings, now))
        dropped, drop_deferred = drop_expired_partitions(db, settings.telemetry_retention_days)
        deferred += drop_deferred
    if deferred:
        logger.warning("partition changes deferred: lock not available", extra={"tables": deferred})
    deleted = delete_expired_rows(db, settings, now)
    return RetentionSummary(
        partitions_created=tuple(created),
        partitions_dropped=tuple(dropped),
        partitions_deferred=tuple(deferred),
        minute_rows_deleted=deleted["telemetry_1m"],
        hour_rows_deleted=deleted["telemetry_1h"],
        dirty_hours_deleted=deleted["telemetry_dirty_hours"],
        quarantine_events_deleted=deleted["quarantine_events"],
        quarantine_counts_deleted=deleted["quarantine_counts"],
    )
