"""What the outbox function does per invocation: on the minute schedule first the time-driven alert
sweeps (deferred resolves, ended snoozes, expired silences: their events go into the outbox), then
publish everything pending; invoked after a commit it only publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pulse.alerts.sweeps import run_sweeps
from pulse.db import Database
from pulse.observability import logger
from pulse.outbox.publisher import EventBus, publish_pending


def run_outbox(db: Database, bus: EventBus, *, sweep: bool, now: datetime, max_events: int) -> dict[str, Any]:
    swept: dict[str, int] = {}
    if sweep:
        with db.transaction() as conn:
            swept = run_sweeps(conn, now)
    result = publish_pending(db, bus, max_events=max_events)
    summary = {"published": result.published, "failed": result.failed, **swept}
    logger.info("outbox run", extra=summary)
    return summary
