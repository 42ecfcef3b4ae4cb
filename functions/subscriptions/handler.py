"""EventBridge Scheduler -> subscription lifecycle (TRIAL..EXPIRED by date) and certificate retirement."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.observability import logger, metrics, tracer
from pulse.registry.schedule import handle_scheduled_event


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_scheduled_event(event)
