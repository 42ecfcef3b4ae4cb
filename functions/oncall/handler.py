"""EventBridge Scheduler -> the hourly on-call coverage check.

Input ``{"task": "check_coverage"}`` (optional ``"days"``, default 7): every schedule's gaps in the
next days open, update or resolve its coverage-gap alert. Anything else is logged and answered
with ``{"ok": false}``.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.observability import logger, metrics, tracer
from pulse.oncall.gaps import DEFAULT_DAYS, check_coverage
from pulse.outbox.after_commit import publish_after_commit


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") != "check_coverage":
        logger.warning("unknown on-call task", extra={"task": str(event.get("task"))[:64]})
        return {"ok": False, "error": "unknown task"}
    days = event.get("days", DEFAULT_DAYS)
    if not isinstance(days, int) or not 1 <= days <= 90:
        return {"ok": False, "error": "days: a whole number from 1 to 90"}
    with publish_after_commit(runtime.outbox_starter()):
        report = check_coverage(runtime.database(), datetime.now(UTC), days)
    return {"ok": True, "schedules": report.schedules, "with_gaps": report.with_gaps, "opened": report.opened,
            "changed": report.changed, "resolved": report.resolved}  # fmt: skip
