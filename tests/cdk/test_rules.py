"""RulesConstruct on its own stack (Ops, packaging, Stream and Rules): bus, schedules, grants, alarms, cdk-nag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from pulse_cdk.rules import EVALUATION_LAG_METRIC, EVALUATION_LAG_THRESHOLD_S, RulesConstruct
from tests.cdk.conftest import nag_violations, synth_construct

pytestmark = pytest.mark.cdk


@pytest.fixture(scope="module")
def rules_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    return synth_construct(
        tmp_path_factory,
        "Rules",
        lambda stack, defaults, stream: RulesConstruct(stack, "Rules", defaults=defaults, stream=stream),
    )


def _function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": f"pulse-dev-{name}"}}
    ).items()
    return logical_id, resource["Properties"]


def _statements_of(template: Template, function_props: dict[str, Any]) -> list[dict[str, Any]]:
    role = function_props["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_bus_is_named_after_the_stage(rules_stack):
    template, _ = rules_stack
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "pulse-dev"})


@pytest.mark.parametrize(("name", "task"), [("evaluator", "evaluate"), ("outbox", "sweep")])
def test_evaluator_and_outbox_publisher_run_every_minute_with_an_explicit_task(rules_stack, name, task):
    template, _ = rules_stack
    logical_id, _ = _function(template, name)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Target": Match.object_like(
                {
                    "Arn": {"Fn::GetAtt": [logical_id, "Arn"]},
                    "Input": f'{{"task":"{task}"}}',
                    "RetryPolicy": Match.any_value(),
                }
            ),
        },
    )


@pytest.mark.parametrize("name", ["evaluator", "outbox"])
def test_functions_connect_as_pulse_ingest_and_finish_inside_their_minute(rules_stack, name):
    template, _ = rules_stack
    _, props = _function(template, name)
    assert props["Environment"]["Variables"]["PULSE_DB_ROLE"] == "pulse_ingest"
    assert props["Timeout"] < 60


def test_only_the_outbox_function_puts_events_and_only_on_the_pulse_bus(rules_stack):
    template, _ = rules_stack
    [bus_id] = template.find_resources("AWS::Events::EventBus")
    outbox_id, outbox = _function(template, "outbox")
    _, evaluator = _function(template, "evaluator")
    assert outbox["Environment"]["Variables"]["PULSE_EVENT_BUS_NAME"] == {"Ref": bus_id}
    [put] = [s for s in _statements_of(template, outbox) if s["Action"] == "events:PutEvents"]
    assert put["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert not [s for s in _statements_of(template, evaluator) if s["Action"] == "events:PutEvents"]
    # the evaluator starts the outbox function after committing alert events
    assert evaluator["Environment"]["Variables"]["PULSE_OUTBOX_FUNCTION_NAME"] == {"Ref": outbox_id}
    [invoke] = [s for s in _statements_of(template, evaluator) if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": [outbox_id, "Arn"]}


def test_evaluation_lag_and_outbox_backlog_page_operators(rules_stack):
    template, _ = rules_stack
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "pulse-dev-rules-evaluation-lag",
            "MetricName": EVALUATION_LAG_METRIC,
            "Namespace": "Pulse",
            "Dimensions": [{"Name": "service", "Value": "pulse-evaluator"}],
            "Threshold": EVALUATION_LAG_THRESHOLD_S,
            "AlarmActions": [Match.any_value()],
            "OKActions": [Match.any_value()],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": "pulse-dev-outbox-publish-failing", "MetricName": "OutboxPublishFailed", "Threshold": 0},
    )
    for name in ("evaluator", "outbox"):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": f"pulse-dev-{name}-errors"})


def test_dashboard_shows_evaluation_and_the_outbox(rules_stack):
    template, _ = rules_stack
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in ("Rule evaluation", "Evaluator function", "Events outbox"):
        assert title in body
    assert EVALUATION_LAG_METRIC in body


def test_cdk_nag_has_no_unacknowledged_finding(rules_stack):
    _, report = rules_stack
    assert nag_violations(report) == []


def test_stack_wires_the_rules_plane_and_lets_outbox_writers_start_the_publisher(synthesized):
    functions = {
        props["FunctionName"]: props
        for props in (f["Properties"] for f in synthesized.resources("AWS::Lambda::Function").values())
        if "FunctionName" in props
    }
    [(outbox_id, _)] = [
        (logical_id, f)
        for logical_id, f in synthesized.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("FunctionName") == "pulse-dev-outbox"
    ]
    for name in ("evaluator", "ingest", "http-ingest", "api"):
        env = functions[f"pulse-dev-{name}"]["Environment"]["Variables"]
        assert env["PULSE_OUTBOX_FUNCTION_NAME"] == {"Ref": outbox_id}
    put_events_roles = {
        role["Ref"]
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "events:PutEvents"
        for role in policy["Properties"]["Roles"]
    }
    assert len(put_events_roles) == 1
    assert "EventBusName" in synthesized.template_json["Outputs"]
