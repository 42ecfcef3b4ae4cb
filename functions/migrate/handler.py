"""Runs database migrations at deploy (CDK trigger); a failure fails the deployment."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.db.deploy import run_deploy_migrations
from pulse.observability import logger, metrics, tracer


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_deploy_migrations()
