"""SQS batch from the IoT topic rule -> the ingest pipeline; reports only failed message ids."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.ingest import ingest_sqs_batch
from pulse.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return ingest_sqs_batch(event)
