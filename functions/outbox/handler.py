"""Outbox Lambda: publishes pending events (Alert*, SilenceExpired) to the EventBridge bus.

Invoked asynchronously right after a commit that wrote outbox rows (any payload), and every minute
by EventBridge Scheduler with ``{"task": "sweep"}``, which first runs the alert time sweeps.
Runs as ``pulse_ingest`` (PULSE_DB_ROLE); the bus is ``PULSE_EVENT_BUS_NAME``.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.observability import logger, metrics, tracer
from pulse.outbox.sweeper import run_outbox
from pulse.platform.aws.events import eventbridge_bus
from pulse.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="task")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    return run_outbox(
        runtime.database(),
        eventbridge_bus(settings.event_bus_name, settings.event_source),
        sweep=event.get("task") == "sweep",
        now=datetime.now(UTC),
        max_events=settings.outbox_max_events_per_run,
    )
