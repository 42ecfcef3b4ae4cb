"""TwinConstruct on its own stack (Ops, packaging, Stream and Twin): rules, grants, schedules, cdk-nag;
and in the whole stack: the twin plane wired in, the API's iot:Publish scope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from pulse_cdk.twin import COMMAND_ACK_RULE_SQL, PRESENCE_RULE_SQL, TWIN_RULE_SQL, TwinConstruct
from tests.cdk.conftest import nag_violations, synth_construct


@pytest.fixture(scope="module")
def twin_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    return synth_construct(
        tmp_path_factory,
        "Twin",
        lambda stack, defaults, stream: TwinConstruct(stack, "Twin", defaults=defaults, stream=stream),
    )


def _twin_policy(template: Template) -> list[dict[str, Any]]:
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any("iot:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) for s in statements):
            return list(statements)
    raise AssertionError("no policy grants iot:Publish")


def test_rule_sends_only_device_twin_requests_to_the_function_with_an_error_queue(twin_stack):
    template, _ = twin_stack
    assert "topic(6) = 'update' OR topic(6) = 'get'" in TWIN_RULE_SQL
    assert "encode(*, 'base64') AS payload_b64" in TWIN_RULE_SQL
    template.has_resource_properties(
        "AWS::IoT::TopicRule",
        {
            "TopicRulePayload": {
                "Sql": TWIN_RULE_SQL,
                "Actions": [{"Lambda": {"FunctionArn": Match.any_value()}}],
                "ErrorAction": {"Sqs": Match.object_like({"UseBase64": False})},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission", {"Principal": "iot.amazonaws.com", "Action": "lambda:InvokeFunction"}
    )


def test_function_may_publish_only_on_twin_topics(twin_stack):
    template, _ = twin_stack
    [publish] = [s for s in _twin_policy(template) if s["Action"] == "iot:Publish"]
    rendered = json.dumps(publish["Resource"])
    assert rendered.endswith(':topic/tenant/*/device/*/twin/*"]]}')
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"PULSE_DB_ROLE": "pulse_app"})}},
    )


def test_command_acks_reach_the_same_function(twin_stack):
    template, _ = twin_stack
    assert "FROM 'tenant/+/device/+/commands/+/ack'" in COMMAND_ACK_RULE_SQL
    template.has_resource_properties(
        "AWS::IoT::TopicRule",
        {"TopicRulePayload": Match.object_like({"Sql": COMMAND_ACK_RULE_SQL})},
    )
    assert (
        len(template.find_resources("AWS::Lambda::Permission", {"Properties": {"Principal": "iot.amazonaws.com"}})) == 3
    )


def test_presence_events_reach_the_function_unencoded_with_arrival_time(twin_stack):
    template, _ = twin_stack
    assert PRESENCE_RULE_SQL == "SELECT *, timestamp() AS received_at FROM '$aws/events/presence/+/+'"
    template.has_resource_properties(
        "AWS::IoT::TopicRule",
        {
            "RuleName": "pulse_dev_device_presence",
            "TopicRulePayload": Match.object_like(
                {
                    "Sql": PRESENCE_RULE_SQL,
                    "Actions": [{"Lambda": {"FunctionArn": Match.any_value()}}],
                    "ErrorAction": {"Sqs": Match.object_like({"UseBase64": False})},
                }
            ),
        },
    )


def test_only_this_rule_invokes_the_function_from_iot(twin_stack):
    template, _ = twin_stack
    rules = template.find_resources("AWS::IoT::TopicRule")
    permissions = template.find_resources("AWS::Lambda::Permission", {"Properties": {"Principal": "iot.amazonaws.com"}})

    assert {p["Properties"]["SourceArn"]["Fn::GetAtt"][0] for p in permissions.values()} == set(rules)
    assert all("SourceAccount" in p["Properties"] for p in permissions.values())


def test_rule_errors_are_alarmed(twin_stack):
    template, _ = twin_stack
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": "pulse-dev-twin-iot-errors-depth", "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"},
    )


@pytest.mark.parametrize("task", ["find_unconverged", "expire_commands", "sweep_connectivity"])
def test_convergence_check_command_expiry_and_connectivity_sweep_run_every_minute(twin_stack, task):
    template, _ = twin_stack
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": "rate(1 minute)", "Target": Match.object_like({"Input": f'{{"task":"{task}"}}'})},
    )


def test_cdk_nag_has_no_unacknowledged_finding(twin_stack):
    _, report = twin_stack
    assert nag_violations(report) == []


def _api_publish_topics(synthesized) -> set[str]:
    (role,) = [
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "pulse-dev-api"
    ]
    return {
        synthesized.render(resource)
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "iot:Publish" in statement["Action"]
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    }


def test_api_may_publish_only_twin_deltas_and_commands(synthesized):
    arn = "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/tenant/*/device/*/"

    assert _api_publish_topics(synthesized) == {arn + "twin/delta", arn + "commands"}


def test_stack_wires_the_twin_plane(synthesized):
    functions = {f["Properties"].get("FunctionName") for f in synthesized.resources("AWS::Lambda::Function").values()}
    rules = {r["Properties"]["RuleName"] for r in synthesized.resources("AWS::IoT::TopicRule").values()}

    assert "pulse-dev-twin" in functions
    assert {"pulse_dev_twin_requests", "pulse_dev_command_acks", "pulse_dev_device_presence"} <= rules
