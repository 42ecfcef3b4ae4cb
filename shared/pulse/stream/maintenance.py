"""The scheduled maintenance job of the telemetry store: retention first, then dirty-hour rollups.

EventBridge Scheduler invokes the maintenance Lambda with ``{"task": "maintenance"}``. The job runs
as the database owner (it creates and drops partitions). Rollups are refreshed in batches, each in a
transaction of its own, so a long backlog never holds locks for long; whatever is left over after
``max_batches`` waits for the next run (queries read raw rows for dirty hours meanwhile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from pulse import runtime
from pulse.db import Database
from pulse.errors import PulseError
from pulse.observability import logger, metrics
from pulse.settings import Settings, get_settings
from pulse.stream.retention import RetentionSummary, apply_retention
from pulse.stream.rollups import DEFAULT_BATCH_HOURS, RollupRefresh, refresh_dirty_rollups

MAINTENANCE_TASK = "maintenance"
MAX_ROLLUP_BATCHES = 20


@dataclass(frozen=True, slots=True)
class MaintenanceSummary:
    retention: RetentionSummary
    rollups: RollupRefresh
    rollup_backlog: bool  # True when dirty hours were left for the next run


def refresh_rollups(
    db: Database, *, batch_hours: int = DEFAULT_BATCH_HOURS, max_batches: int = MAX_ROLLUP_BATCHES
) -> tuple[RollupRefresh, bool]:
    """Refreshes dirty hours batch by batch; returns the totals and whether a backlog remains."""
    total = RollupRefresh()
    for _ in range(max_batches):
        with db.transaction() as conn:
            batch = refresh_dirty_rollups(conn, limit_hours=batch_hours)
        total += batch
        if batch.hours < batch_hours:
            return total, False
    return total, True


def run_maintenance(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    batch_hours: int = DEFAULT_BATCH_HOURS,
    max_batches: int = MAX_ROLLUP_BATCHES,
) -> MaintenanceSummary:
    """Retention (partitions ahead, expired partitions and rows) then rollups of the dirty hours."""
    retention = apply_retention(db, settings, now)
    rollups, backlog = refresh_rollups(db, batch_hours=batch_hours, max_batches=max_batches)
    summary = MaintenanceSummary(retention=retention, rollups=rollups, rollup_backlog=backlog)
    metrics.add_metric(
        name="MaintenancePartitionsDropped", unit=MetricUnit.Count, value=len(retention.partitions_dropped)
    )
    metrics.add_metric(
        name="MaintenancePartitionsCreated", unit=MetricUnit.Count, value=len(retention.partitions_created)
    )
    metrics.add_metric(name="RollupHoursRefreshed", unit=MetricUnit.Count, value=rollups.hours)
    logger.info(
        "maintenance done",
        extra={
            "partitions_created": len(retention.partitions_created),
            "partitions_dropped": list(retention.partitions_dropped),
            "partitions_deferred": list(retention.partitions_deferred),
            "minute_rows_deleted": retention.minute_rows_deleted,
            "hour_rows_deleted": retention.hour_rows_deleted,
            "quarantine_events_deleted": retention.quarantine_events_deleted,
            "rollup_hours": rollups.hours,
            "rollup_minute_rows": rollups.minute_rows,
            "rollup_hour_rows": rollups.hour_rows,
            "rollup_backlog": backlog,
        },
    )
    return summary


def run_scheduled_task(event: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Entry of the maintenance Lambda: a failure response (never a stack trace) for what it cannot run."""
    task = event.get("task") if isinstance(event, Mapping) else None
    if task != MAINTENANCE_TASK:
        logger.error('unknown scheduled task; expected {"task": "maintenance"}', extra={"task": repr(task)[:200]})
        metrics.add_metric(name="MaintenanceFailed", unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": f"unknown task {task!r}; expected {MAINTENANCE_TASK!r}"}
    try:
        summary = run_maintenance(runtime.database(), get_settings(), datetime.now(UTC))
    except PulseError as exc:
        logger.error("maintenance failed", extra={"error": exc.detail, "error_type": type(exc).__name__})
        metrics.add_metric(name="MaintenanceFailed", unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": exc.detail}
    return {"ok": True, "summary": asdict(summary)}
