"""The delivery workflow's task steps as the notify Lambda runs them (``{"task": ...}`` inputs).

- ``route``: ``{"task": "route", "event": <EventBridge event>, "execution_id"}`` -> the route plan,
  its deliveries as Map items (``workflow.delivery_item``: due now, or a ``send_at`` to wait for).
- ``deliver``: ``{"task": "deliver", "delivery_id", "retry_count", "execution_id"}`` -> the outcome.
  ``delivered`` and ``duplicate`` (already delivered: nothing sent) end the item, ``permanent`` is
  *returned* and the state machine's Choice dead-letters it; a retryable outcome is *raised* as
  ``DeliveryRetryable`` for the Retry entry. Anything else ``deliver`` raises (database down, a
  bug) is raised as ``DeliveryRetryable`` too, so every raised error means "try again" on AWS and
  locally alike (where every exception arrives as ``Runtime.HandlerError``; ``pulse.notify.retry``).
- ``dead_letter``: ``{"task": "dead_letter", "delivery_id", "error": {"Error", "Cause"}}`` -> the
  delivery ends ``dead`` with a readable reason.

Each attempt is logged (``delivery attempt``: delivery, attempt number, status, response code,
latency, error) and counted in EMF metrics (``DeliveriesDelivered``, ``DeliveryAttemptsFailed``,
``DeliveriesDeadLettered``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit

from pulse.db import Database
from pulse.errors import RequestInvalid
from pulse.notify import service
from pulse.notify.channels import SenderPorts
from pulse.notify.retry import DELIVERY_RETRY, DeliveryRetryable
from pulse.notify.sealing import SecretSealer, sealer_from_settings
from pulse.notify.workflow import PERMANENT_ERROR, delivery_item
from pulse.observability import logger, metrics
from pulse.settings import Settings

TASKS = ("route", "deliver", "dead_letter")


@dataclass(frozen=True, slots=True)
class DeliveryPorts:
    """What ``deliver`` needs besides the database: the secret sealer and the senders' ports."""

    sealer: SecretSealer
    ports: SenderPorts

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPorts:
        return cls(sealer=sealer_from_settings(settings), ports=SenderPorts.from_settings(settings))


def route(db: Database, task: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    event = task.get("event")
    if not isinstance(event, Mapping):
        raise RequestInvalid("route: 'event' must be the EventBridge event")
    plan = service.route_event(db, event, now=now, execution_id=_execution_id(task))
    send_at = {d.delivery_id: d.send_at for d in plan.deliveries}
    return {
        **plan.to_output(),
        "deliveries": [delivery_item(d, send_at[d], now=now) for d in plan.delivery_ids],
    }


def deliver(db: Database, task: Mapping[str, Any], deps: DeliveryPorts, *, now: datetime) -> dict[str, Any]:
    delivery_id = _delivery_id(task)
    attempt = int(task.get("retry_count", 0)) + 1
    try:
        outcome = service.deliver(
            db,
            delivery_id,
            attempt=attempt,
            sealer=deps.sealer,
            ports=deps.ports,
            now=now,
            execution_id=_execution_id(task),
        )
    except Exception as exc:
        logger.exception("delivery attempt crashed", extra={"delivery_id": delivery_id, "attempt": attempt})
        metrics.add_metric(name="DeliveryAttemptsFailed", unit=MetricUnit.Count, value=1)
        raise DeliveryRetryable(f"{type(exc).__name__}: {exc}") from exc
    logger.info(
        "delivery attempt",
        extra={
            "delivery_id": delivery_id,
            "attempt": attempt,
            "attempt_no": outcome.attempt_no,
            "status": outcome.status,
            "response_code": outcome.response_code,
            "latency_ms": outcome.latency_ms,
            "error": outcome.error or None,
        },
    )
    if outcome.status == "delivered":
        metrics.add_metric(name="DeliveriesDelivered", unit=MetricUnit.Count, value=1)
    elif outcome.status in ("retryable", "permanent"):
        metrics.add_metric(name="DeliveryAttemptsFailed", unit=MetricUnit.Count, value=1)
    if outcome.status == "retryable":
        last = attempt >= DELIVERY_RETRY.max_attempts
        raise DeliveryRetryable(f"attempt {attempt}{' (last)' if last else ''}: {outcome.error or 'failed'}")
    return outcome.to_output()


def dead_letter(db: Database, task: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    delivery_id = _delivery_id(task)
    error = dead_letter_reason(task.get("error"))
    service.dead_letter(db, delivery_id, error=error, now=now)
    logger.warning("delivery dead-lettered", extra={"delivery_id": delivery_id, "error": error})
    metrics.add_metric(name="DeliveriesDeadLettered", unit=MetricUnit.Count, value=1)
    return {"delivery_id": delivery_id, "status": "dead", "error": error}


def dead_letter_reason(error: Any) -> str:
    """A readable reason from the Catch output or the Permanent step's ``{"Error", "Cause"}``."""
    if not isinstance(error, Mapping):
        return "dead-lettered without an error"
    name = str(error.get("Error") or "")
    cause = error.get("Cause")
    message = str(cause or "")
    if isinstance(cause, str) and cause.startswith("{"):
        try:
            parsed = orjson.loads(cause)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            message = str(parsed.get("errorMessage") or message)
            name = str(parsed.get("errorType") or name) if name not in DELIVERY_RETRY.errors else name
    if name == PERMANENT_ERROR:
        return f"permanent failure: {message}"
    if name in DELIVERY_RETRY.errors:
        return f"gave up after {DELIVERY_RETRY.max_attempts} attempts: {message}"
    return f"{name}: {message}" if name else message


def run(db: Database, task: Mapping[str, Any], deps: Callable[[], DeliveryPorts], *, now: datetime) -> dict[str, Any]:
    """Dispatch one task input; ``deps`` is called only by ``deliver`` (the others send nothing)."""
    kind = task.get("task")
    if kind == "route":
        return route(db, task, now=now)
    if kind == "deliver":
        return deliver(db, task, deps(), now=now)
    if kind == "dead_letter":
        return dead_letter(db, task, now=now)
    raise RequestInvalid(f"task must be one of {', '.join(TASKS)}, got {kind!r}")


def _delivery_id(task: Mapping[str, Any]) -> str:
    delivery_id = task.get("delivery_id")
    if not isinstance(delivery_id, str) or not delivery_id:
        raise RequestInvalid("'delivery_id' is required")
    return delivery_id


def _execution_id(task: Mapping[str, Any]) -> str | None:
    value = task.get("execution_id")
    return str(value) if value else None
