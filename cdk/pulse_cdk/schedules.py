"""EventBridge Scheduler -> Lambda: the one way a Pulse construct runs a function on a clock."""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from pulse_cdk.config import StageConfig
from pulse_cdk.function import PulseFunction
from pulse_cdk.nag import acknowledge_wildcard, default_policy

INVOKE_WILDCARD_REASON = (
    "grant_invoke also allows the function's qualified ARNs (versions, aliases); the wildcard "
    "only spans qualifiers of this one function."
)


def invoke_on_schedule(
    scope: Construct,
    construct_id: str,
    *,
    config: StageConfig,
    role: iam.Role,
    function: PulseFunction,
    name: str,
    payload: dict[str, Any],
    rate: Duration,
    description: str,
    wildcard_reason: str = INVOKE_WILDCARD_REASON,
) -> scheduler.Schedule:
    """A ``rate(...)`` schedule invoking ``function`` with an explicit ``payload``.

    No retries and a maximum event age of one period: every scheduled Pulse task picks up whatever
    is due when it runs, so a missed run is caught up by the next one and a retry would only overlap.
    The target grants the invoke on the function's qualified ARNs too; that wildcard is acknowledged
    where it lands (the scheduler role's default policy), with ``wildcard_reason`` as its written reason.
    """
    schedule = scheduler.Schedule(
        scope,
        construct_id,
        schedule_name=config.name(name),
        description=description,
        schedule=scheduler.ScheduleExpression.rate(rate),
        target=scheduler_targets.LambdaInvoke(
            function.function,
            input=scheduler.ScheduleTargetInput.from_object(payload),
            retry_attempts=0,
            max_event_age=rate,
            role=role,
        ),
    )
    function_id = Stack.of(scope).get_logical_id(cast(CfnElement, function.function.node.default_child))
    acknowledge_wildcard(
        default_policy(role),
        f"Resource::<{function_id}.Arn>:*",
        wildcard_reason,
    )
    return schedule
