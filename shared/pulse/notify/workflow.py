"""The delivery state machine (Amazon States Language), produced here and rendered as-is by CDK and tests.

::

    Plan (Choice) --redrive input {"deliveries": [...]}-----------------------+
      | EventBridge Alert* event                                              |
      v                                                                       v
    Route (task route) -> {"event_id", "deliveries": [{"delivery_id", "send_at"}, ...]} -> Deliveries (Map)

    per delivery:  Hold (Choice) --send_at set--> Wait (until send_at: a grouped notification) --+
                     | due now                                                                  |
                     v                                                                          |
                   Deliver (task deliver, Retry = DELIVERY_RETRY) <--------------------------------+
                     | returned outcome                  | raised, retries exhausted (Catch)
                     v                                   v
                   Outcome (Choice) --"permanent"--> Permanent (Pass) --> DeadLetter (task dead_letter)
                     | delivered | duplicate
                     v
                   Done

Why a permanent failure is *returned* and only a retryable one is *raised*: the local emulator
reports every Python exception as ``Runtime.HandlerError`` (never the class name), so a Catch
or Retry on a custom name cannot tell "retry" from "give up" there. A returned outcome reaches
the Choice state with its status intact everywhere, and everything raised is retryable by
construction (``pulse.notify.retry``). The deliver task receives ``$$.State.RetryCount``, so
each attempt knows its number (``attempt = retry_count + 1``) and is recorded and logged with it.

Task resources are placeholders (``${RouteFunctionArn}``, ``${DeliverFunctionArn}``,
``${DeadLetterFunctionArn}``): CDK passes them as ``DefinitionSubstitutions``, tests and the
bench substitute them with :func:`render`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from pulse.notify.retry import DELIVERY_RETRY, DELIVERY_RETRYABLE, RETRYABLE_ERRORS, RetryPolicy

ROUTE_FUNCTION = "RouteFunctionArn"
DELIVER_FUNCTION = "DeliverFunctionArn"
DEAD_LETTER_FUNCTION = "DeadLetterFunctionArn"
PLACEHOLDERS = (ROUTE_FUNCTION, DELIVER_FUNCTION, DEAD_LETTER_FUNCTION)

MAX_CONCURRENCY = 10
DELIVER_TIMEOUT_S = 90  # the deliver function's own timeout is shorter (CDK): a stuck invocation is retried
EXECUTION_TIMEOUT_S = 24 * 3600
PERMANENT_ERROR = "DeliveryPermanent"

STEP_RETRY = RetryPolicy(
    max_attempts=4,
    first_interval_s=2,
    backoff_rate=2.0,
    max_delay_s=30,
    jitter="FULL",
    errors=tuple(name for name in RETRYABLE_ERRORS if name != DELIVERY_RETRYABLE),
)
"""Route and dead-letter steps: the invocation or the database failed, not a receiver; short and few."""


def delivery_item(delivery_id: str, send_at: datetime | None, *, now: datetime) -> dict[str, Any]:
    """One Map item. ``send_at`` is kept only when still ahead, as Step Functions' timestamp (UTC with
    ``Z``, rounded up to the second so the Wait never ends before it); ``None`` delivers right away."""
    if send_at is None or send_at <= now:
        return {"delivery_id": delivery_id, "send_at": None}
    due = datetime.fromtimestamp(math.ceil(send_at.timestamp()), UTC)
    return {"delivery_id": delivery_id, "send_at": due.strftime("%Y-%m-%dT%H:%M:%SZ")}


def redrive_input(delivery_ids: Sequence[str]) -> dict[str, Any]:
    """Execution input that skips routing: the given deliveries, each right away."""
    return {"deliveries": [{"delivery_id": d, "send_at": None} for d in delivery_ids], "redrive": True}


def _task(placeholder: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "${" + placeholder + "}", "Parameters": parameters, **fields}


def _delivery_states(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "Hold": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.send_at", "IsNull": False, "Next": "Wait"}],
            "Default": "Deliver",
        },
        "Wait": {"Type": "Wait", "TimestampPath": "$.send_at", "Next": "Deliver"},
        "Deliver": _task(
            DELIVER_FUNCTION,
            {
                "task": "deliver",
                "delivery_id.$": "$.delivery_id",
                "retry_count.$": "$$.State.RetryCount",
                "execution_id.$": "$$.Execution.Id",
            },
            ResultPath="$.outcome",
            TimeoutSeconds=DELIVER_TIMEOUT_S,
            Retry=[policy.to_asl()],
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "DeadLetter"}],
            Next="Outcome",
        ),
        "Outcome": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.outcome.status", "StringEquals": "permanent", "Next": "Permanent"}],
            "Default": "Done",
        },
        "Permanent": {
            "Type": "Pass",
            "Parameters": {
                "delivery_id.$": "$.delivery_id",
                "outcome.$": "$.outcome",
                "error": {"Error": PERMANENT_ERROR, "Cause.$": "$.outcome.error"},
            },
            "Next": "DeadLetter",
        },
        "DeadLetter": _task(
            DEAD_LETTER_FUNCTION,
            {"task": "dead_letter", "delivery_id.$": "$.delivery_id", "error.$": "$.error"},
            ResultPath="$.dead_letter",
            Retry=[STEP_RETRY.to_asl()],
            End=True,
        ),
        "Done": {"Type": "Succeed"},
    }


def definition(policy: RetryPolicy = DELIVERY_RETRY, *, max_concurrency: int = MAX_CONCURRENCY) -> dict[str, Any]:
    """The state machine with placeholder task resources."""
    return {
        "Comment": "Pulse alert notifications: route an Alert* event to deliveries, deliver each with retries, "
        "dead-letter what cannot be delivered",
        "StartAt": "Plan",
        "TimeoutSeconds": EXECUTION_TIMEOUT_S,
        "States": {
            "Plan": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.deliveries", "IsPresent": True, "Next": "Deliveries"}],
                "Default": "Route",
            },
            "Route": _task(
                ROUTE_FUNCTION,
                {"task": "route", "event.$": "$", "execution_id.$": "$$.Execution.Id"},
                Retry=[STEP_RETRY.to_asl()],
                Next="Deliveries",
            ),
            "Deliveries": {
                "Type": "Map",
                "ItemsPath": "$.deliveries",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Hold",
                    "States": _delivery_states(policy),
                },
                "End": True,
            },
        },
    }


def definition_json(policy: RetryPolicy = DELIVERY_RETRY) -> str:
    """The definition as CDK hands it to ``DefinitionBody.from_string`` (placeholders intact)."""
    return orjson.dumps(definition(policy), option=orjson.OPT_SORT_KEYS).decode()


def render(*, route_arn: str, deliver_arn: str, dead_letter_arn: str, policy: RetryPolicy = DELIVERY_RETRY) -> str:
    """The definition with the three function ARNs in place (tests, bench; CDK substitutes its own)."""
    text = definition_json(policy)
    for placeholder, arn in zip(PLACEHOLDERS, (route_arn, deliver_arn, dead_letter_arn), strict=True):
        text = text.replace("${" + placeholder + "}", arn)
    return text
