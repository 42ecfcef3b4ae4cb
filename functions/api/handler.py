"""API Gateway HTTP API (JWT authorizer: Cognito) -> the FastAPI app, through Mangum."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from pulse.api.app import create_app
from pulse.observability import logger, metrics, tracer

asgi = Mangum(create_app(), lifespan="off", api_gateway_base_path="/")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response: dict[str, Any] = asgi(event, context)
    return response
