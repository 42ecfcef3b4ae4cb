"""The evaluator Lambda's minute: the scheduled tick, then the alert sweeps that depend on time.

After ``run_scheduled_task`` it settles deferred resolves that fell due and wakes snoozed alerts
whose snooze ended (``pulse.alerts.sweeps``), so a flap-deferred resolve lands within a minute even
when the outbox function's sweep runs late (both claim rows with SKIP LOCKED, so each alert is
resolved once whoever gets there first). When the tick or the sweeps wrote alert events, the
outbox function is started after their commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pulse import runtime
from pulse.alerts.sweeps import settle_deferred_resolves, wake_snoozed
from pulse.observability import logger
from pulse.outbox.after_commit import OutboxStarter, publish_after_commit
from pulse.rules.scheduled import run_scheduled_task


def run_evaluator_task(
    event: Mapping[str, Any], *, starter: OutboxStarter | None, now: datetime | None = None
) -> dict[str, Any]:
    with publish_after_commit(starter) as written:
        summary = run_scheduled_task(event)
        if not summary.get("ok"):
            return summary
        at = now or datetime.now(UTC)
        with runtime.database().transaction() as conn:
            swept = {"resolved": settle_deferred_resolves(conn, at), "unsnoozed": wake_snoozed(conn, at)}
        if any(swept.values()):
            logger.info("alert sweeps", extra=swept)
    return {**summary, **swept, "events": written.count}
