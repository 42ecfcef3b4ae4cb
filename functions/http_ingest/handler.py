"""Gateways POST telemetry over HTTPS with a device token; same pipeline as MQTT."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.connect.gateway_api import app
from pulse.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
