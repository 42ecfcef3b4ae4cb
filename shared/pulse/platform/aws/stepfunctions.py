"""Step Functions adapter: starts the delivery workflow for deliveries that already exist (redrive).

Alert events start the workflow through the EventBridge rule (execution names chosen by
EventBridge); a redrive starts it here with ``workflow.redrive_input`` (skips routing). Its
execution is named after the deliveries and the moment, e.g. ``redrive-dlv_123-20261122T100000123``
(``-and2`` when more ids ride along), so the console shows what a run was for. A refused call
becomes ``WorkflowStartError``; starting twice with the same name within the same millisecond is
refused by Step Functions itself (``ExecutionAlreadyExists``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError
from pulse.notify.workflow import redrive_input

MAX_DELIVERIES_PER_EXECUTION = 500  # ids of ~40 bytes stay far below the 256 KB input limit
_NAME_LIMIT = 80
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


class WorkflowStartError(PulseError):
    status = 502
    title = "Delivery workflow could not be started"


def execution_name(prefix: str, keys: list[str], now: datetime) -> str:
    """``<prefix>-<first key>[-and<n more>]-<UTC time to the ms>``, at most 80 of ``[0-9A-Za-z_-]``."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}"
    more = f"-and{len(keys) - 1}" if len(keys) > 1 else ""
    room = _NAME_LIMIT - len(prefix) - len(more) - len(stamp) - 2
    first = _UNSAFE.sub("_", keys[0] if keys else "none")[:room]
    return f"{_UNSAFE.sub('_', prefix)}-{first}{more}-{stamp}"


class StepFunctionsStarter:
    """``DeliveryStarter`` on a state machine: one execution per call, its ARN returned."""

    def __init__(self, client: Any, state_machine_arn: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self._client = client
        self._arn = state_machine_arn
        self._clock = clock or (lambda: datetime.now(UTC))

    def start(self, delivery_ids: list[str]) -> str:
        if not delivery_ids:
            raise ValueError("a redrive needs at least one delivery id")
        if len(delivery_ids) > MAX_DELIVERIES_PER_EXECUTION:
            raise ValueError(
                f"at most {MAX_DELIVERIES_PER_EXECUTION} deliveries per execution, got {len(delivery_ids)}"
            )
        name = execution_name("redrive", delivery_ids, self._clock())
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn,
                name=name,
                input=orjson.dumps(redrive_input(delivery_ids)).decode(),
            )
        except (ClientError, BotoCoreError) as exc:
            raise WorkflowStartError(f"start_execution {name} on {self._arn}: {exc}") from exc
        return str(response["executionArn"])


def delivery_starter(state_machine_arn: str) -> StepFunctionsStarter:
    import boto3

    return StepFunctionsStarter(boto3.client("stepfunctions"), state_machine_arn)
