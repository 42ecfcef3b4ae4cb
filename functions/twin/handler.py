"""Twin Lambda: device twin/update, twin/get, command acks and presence from IoT rules; scheduled checks.

Rule event: ``{"payload_b64", "topic", "client_id", "principal", "received_at"}`` -> replies published
through iot-data. IoT Core lifecycle event (``{"clientId", "eventType": "connected"|"disconnected",
"timestamp", ...}`` from ``$aws/events/presence/+/+``) -> the device's presence and connectivity history.
Schedule inputs ``{"task": "find_unconverged"}`` -> ``TwinNotConverged`` events,
``{"task": "expire_commands"}`` -> open commands past their TTL end ``expired`` (``CommandExpired``) and
``{"task": "sweep_connectivity"}`` -> every device's ONLINE / STALE / OFFLINE, history where it changed.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.commands.service import expire_due
from pulse.connectivity.service import is_lifecycle_event, record_presence, sweep_connectivity
from pulse.observability import logger, metrics, tracer
from pulse.outbox.after_commit import publish_after_commit
from pulse.settings import get_settings
from pulse.twin.device_inbound import handle_rule_event
from pulse.twin.publishing import default_publisher
from pulse.twin.service import find_unconverged


@logger.inject_lambda_context(correlation_id_path="topic")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # twin updates re-evaluate twin rules, so any path here may commit alert events
    with publish_after_commit(runtime.outbox_starter()):
        return _handle(event, context)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == "find_unconverged":
        return {"raised": len(find_unconverged(runtime.database()))}
    if event.get("task") == "expire_commands":
        return {"expired": len(expire_due(runtime.database(), datetime.now(UTC)))}
    if event.get("task") == "sweep_connectivity":
        return {"changed": sweep_connectivity(runtime.database(), datetime.now(UTC))}
    if is_lifecycle_event(event):
        return {"presence": record_presence(runtime.database(), event).value}
    settings = get_settings()
    publisher = default_publisher(settings.iot_endpoint, settings.iot_data_url)
    replies = handle_rule_event(runtime.database(), event, publisher, request_id=context.aws_request_id)
    return {"replies": [r.kind for r in replies]}
