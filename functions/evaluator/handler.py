"""EventBridge Scheduler -> one scheduled rule evaluation tick (absence, for-duration, windows, schedules),
then the deferred-resolve and snooze sweeps; the outbox function starts when they wrote events.

Input: ``{"task": "evaluate"}``; anything else is logged and answered with ``{"ok": false}``.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.observability import logger, metrics, tracer
from pulse.rules.evaluator_task import run_evaluator_task


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_evaluator_task(event, starter=runtime.outbox_starter())
