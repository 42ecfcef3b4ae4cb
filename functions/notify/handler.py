"""Notify Lambda: the task steps of the delivery workflow (Step Functions ``pulse-<stage>-deliver``).

Input ``{"task": "route" | "deliver" | "dead_letter", ...}`` as the state machine's Parameters
build it (``pulse.notify.workflow``); ``pulse.notify.tasks`` says what each returns or raises.
Runs as ``pulse_ingest`` (PULSE_DB_ROLE) across tenants; the sealer and the senders' ports are
built once per container, on the first delivery.
"""

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.notify import tasks
from pulse.observability import logger, metrics, tracer
from pulse.settings import get_settings


@lru_cache(maxsize=1)
def delivery_ports() -> tasks.DeliveryPorts:
    return tasks.DeliveryPorts.from_settings(get_settings())


@logger.inject_lambda_context(correlation_id_path="delivery_id || event.id")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return tasks.run(runtime.database(), event, delivery_ports, now=datetime.now(UTC))
