"""EventBridge Scheduler -> one escalation tick a minute.

Input ``{"task": "escalate"}``: every due escalation advances (steps, repeats, reminders) and the
due escalation deliveries start through the delivery workflow (``pulse.escalation.engine.tick``).
Runs as ``pulse_ingest`` across tenants. Anything else is logged and answered ``{"ok": false}``.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse import runtime
from pulse.escalation.engine import tick
from pulse.notify.defaults import default_starter
from pulse.observability import logger, metrics, tracer
from pulse.outbox.after_commit import publish_after_commit
from pulse.settings import get_settings


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") != "escalate":
        logger.warning("unknown escalation task", extra={"task": str(event.get("task"))[:64]})
        return {"ok": False, "error": "unknown task"}
    with publish_after_commit(runtime.outbox_starter()):  # AlertEscalated events leave after the commit
        report = tick(runtime.database(), now=datetime.now(UTC), starter=default_starter(get_settings()))
    return {"ok": True, **report.__dict__}
