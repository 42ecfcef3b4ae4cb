"""EscalationConstruct on its own stack (Ops, packaging, Stream, Rules, Delivery): the one-minute tick,
its grants (start the delivery workflow, SMS through SNS), the lag alarm, cdk-nag clean."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from pulse_cdk.delivery import DeliveryConstruct
from pulse_cdk.escalation import ESCALATION_LAG_METRIC, ESCALATION_LAG_THRESHOLD_S, EscalationConstruct
from pulse_cdk.function import FunctionDefaults
from pulse_cdk.rules import RulesConstruct
from pulse_cdk.stream import StreamConstruct
from tests.cdk.conftest import nag_violations, synth_construct

pytestmark = pytest.mark.cdk


def _build(stack: Stack, defaults: FunctionDefaults, stream: StreamConstruct) -> None:
    rules = RulesConstruct(stack, "Rules", defaults=defaults, stream=stream)
    delivery = DeliveryConstruct(stack, "Delivery", defaults=defaults, stream=stream, rules=rules)
    EscalationConstruct(stack, "Escalation", defaults=defaults, stream=stream, delivery=delivery)


@pytest.fixture(scope="module")
def escalation_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    return synth_construct(tmp_path_factory, "Escalation", _build)


def _function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": f"pulse-dev-{name}"}}
    ).items()
    return logical_id, resource["Properties"]


def _actions_of(template: Template, function_props: dict[str, Any]) -> set[str]:
    role = function_props["Role"]["Fn::GetAtt"][0]
    found: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                found.update([actions] if isinstance(actions, str) else actions)
    return found


def test_the_escalation_function_ticks_every_minute_with_an_explicit_task(escalation_stack):
    template, _ = escalation_stack
    logical_id, props = _function(template, "escalation")
    assert props["Environment"]["Variables"]["PULSE_DB_ROLE"] == "pulse_ingest"
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Target": Match.object_like({"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}, "Input": '{"task":"escalate"}'}),
        },
    )


def test_the_tick_starts_the_delivery_workflow_and_notify_may_send_sms(escalation_stack):
    template, _ = escalation_stack
    _, escalation = _function(template, "escalation")
    assert "PULSE_DELIVERY_STATE_MACHINE_ARN" in escalation["Environment"]["Variables"]
    assert "states:StartExecution" in _actions_of(template, escalation)
    assert "sns:Publish" not in _actions_of(template, escalation)
    _, notify = _function(template, "notify")
    assert "sns:Publish" in _actions_of(template, notify)


def test_escalation_lag_alarms_after_three_late_minutes(escalation_stack):
    template, _ = escalation_stack
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "pulse-dev-escalation-lag",
            "MetricName": ESCALATION_LAG_METRIC,
            "Namespace": "Pulse",
            "Threshold": ESCALATION_LAG_THRESHOLD_S,
            "EvaluationPeriods": 3,
        },
    )


def test_cdk_nag_has_no_unacknowledged_finding(escalation_stack):
    _, report = escalation_stack
    assert nag_violations(report) == []
