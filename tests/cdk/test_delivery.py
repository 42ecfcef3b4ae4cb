"""DeliveryConstruct on its own stack (Ops, packaging, Stream, Rules, Delivery): the state machine is
pulse's definition, the Alert* rule starts it, logging, tracing, alarms, grants, cdk-nag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from pulse.notify import workflow
from pulse.notify.retry import DELIVERY_RETRY
from pulse_cdk.delivery import DeliveryConstruct
from pulse_cdk.function import FunctionDefaults
from pulse_cdk.rules import RulesConstruct
from pulse_cdk.stream import StreamConstruct
from tests.cdk.conftest import Synthesized, nag_violations, synth_construct

pytestmark = pytest.mark.cdk


def _build(stack: Stack, defaults: FunctionDefaults, stream: StreamConstruct) -> None:
    rules = RulesConstruct(stack, "Rules", defaults=defaults, stream=stream)
    DeliveryConstruct(stack, "Delivery", defaults=defaults, stream=stream, rules=rules)


@pytest.fixture(scope="module")
def delivery_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    return synth_construct(tmp_path_factory, "Delivery", _build)


def _state_machine(template: Template) -> dict[str, Any]:
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    return machine["Properties"]


def _notify_function(template: Template, stage: str = "dev") -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": f"pulse-{stage}-notify"}}
    ).items()
    return logical_id, resource["Properties"]


def _definition(template: Template) -> dict[str, Any]:
    props = _state_machine(template)
    body = props.get("DefinitionString") or props["Definition"]
    return json.loads(body) if isinstance(body, str) else body


def test_state_machine_is_standard_and_runs_pulses_definition_verbatim(delivery_stack):
    template, _ = delivery_stack
    props = _state_machine(template)
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == "pulse-dev-deliver"
    assert _definition(template) == workflow.definition()


def test_deliver_retry_is_the_retry_policy_and_failures_are_caught_into_dead_letter(delivery_stack):
    template, _ = delivery_stack
    states = _definition(template)["States"]["Deliveries"]["ItemProcessor"]["States"]
    assert states["Deliver"]["Retry"] == [DELIVERY_RETRY.to_asl()]
    assert DELIVERY_RETRY.to_asl() == {
        "ErrorEquals": list(DELIVERY_RETRY.errors),
        "IntervalSeconds": 30,
        "BackoffRate": 2.0,
        "MaxAttempts": 4,
        "MaxDelaySeconds": 7200,
        "JitterStrategy": "FULL",
    }
    assert {"DeliveryRetryable", "Runtime.HandlerError"} <= set(states["Deliver"]["Retry"][0]["ErrorEquals"])
    assert states["Deliver"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "DeadLetter"}
    ]
    assert states["Outcome"]["Choices"][0] == {
        "Variable": "$.outcome.status",
        "StringEquals": "permanent",
        "Next": "Permanent",
    }
    assert states["Permanent"]["Next"] == "DeadLetter"


def test_every_task_runs_the_notify_function(delivery_stack):
    template, _ = delivery_stack
    notify_id, _ = _notify_function(template)
    substitutions = _state_machine(template)["DefinitionSubstitutions"]
    assert substitutions == {key: {"Fn::GetAtt": [notify_id, "Arn"]} for key in workflow.PLACEHOLDERS}
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "lambda:InvokeFunction"
        and statement["Resource"] == {"Fn::GetAtt": [notify_id, "Arn"]}
    ]
    assert statements, "the state machine role may invoke the notify function (unqualified ARN)"


def test_notify_runs_as_pulse_ingest_inside_the_deliver_task_timeout(delivery_stack):
    template, _ = delivery_stack
    _, props = _notify_function(template)
    assert props["Environment"]["Variables"]["PULSE_DB_ROLE"] == "pulse_ingest"
    assert props["Timeout"] < workflow.DELIVER_TIMEOUT_S


def test_executions_are_logged_and_traced(delivery_stack):
    template, _ = delivery_stack
    props = _state_machine(template)
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/aws/vendedlogs/states/pulse-dev-deliver", "RetentionInDays": Match.any_value()},
    )


def test_alert_events_on_the_pulse_bus_start_an_execution_with_a_dead_letter_queue(delivery_stack):
    template, _ = delivery_stack
    [bus_id] = template.find_resources("AWS::Events::EventBus")
    [machine_id] = template.find_resources("AWS::StepFunctions::StateMachine")
    [(_, rule)] = template.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventBusName": {"Ref": bus_id}}}
    ).items()
    props = rule["Properties"]
    assert props["EventPattern"] == {"source": ["pulse.alerts"], "detail-type": [{"prefix": "Alert"}]}
    [target] = props["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    assert "Input" not in target and "InputPath" not in target  # the whole event is the execution input
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86_400


@pytest.mark.parametrize(
    "alarm",
    [
        "pulse-dev-deliver-executions-failed",
        "pulse-dev-deliveries-dead-lettered",
        "pulse-dev-deliver-start-dlq-depth",
        "pulse-dev-notify-errors",
    ],
)
def test_failures_and_dead_letters_page_operators(delivery_stack, alarm):
    template, _ = delivery_stack
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": alarm, "AlarmActions": [Match.any_value()], "OKActions": [Match.any_value()]},
    )


def test_dashboard_shows_executions_and_deliveries(delivery_stack):
    template, _ = delivery_stack
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for text in ("Delivery executions", "Deliveries", "Notify function", "DeliveriesDeadLettered"):
        assert text in body


def test_cdk_nag_has_no_unacknowledged_finding(delivery_stack):
    _, report = delivery_stack
    assert nag_violations(report) == []


def test_stack_lets_the_api_start_a_redrive_and_seal_channel_secrets(synthesized):
    [(machine_id, _)] = synthesized.resources("AWS::StepFunctions::StateMachine").items()
    [api] = [
        f["Properties"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "pulse-dev-api"
    ]
    assert api["Environment"]["Variables"]["PULSE_DELIVERY_STATE_MACHINE_ARN"] == {"Ref": machine_id}
    role = api["Role"]["Fn::GetAtt"][0]
    starts = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "states:StartExecution"
    ]
    assert [s["Resource"] for s in starts] == [{"Ref": machine_id}]
    assert api["Environment"]["Variables"]["PULSE_NOTIFY_SEALING"] == "kms"
    sealing = {
        action
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == api["Environment"]["Variables"]["PULSE_NOTIFY_KMS_KEY_ID"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert {"kms:Encrypt", "kms:Decrypt"} <= sealing
    assert "DeliveryStateMachineArn" in synthesized.template_json["Outputs"]


def test_channel_secrets_are_opened_with_a_rotated_kms_key_the_notify_function_may_only_decrypt(delivery_stack):
    template, _ = delivery_stack
    [(key_id, key)] = template.find_resources(
        "AWS::KMS::Key", {"Properties": {"Description": Match.string_like_regexp("channel secrets")}}
    ).items()
    assert key["Properties"]["EnableKeyRotation"] is True
    _, props = _notify_function(template)
    variables = props["Environment"]["Variables"]
    assert variables["PULSE_NOTIFY_SEALING"] == "kms"
    assert variables["PULSE_NOTIFY_KMS_KEY_ID"] == {"Fn::GetAtt": [key_id, "Arn"]}
    role = props["Role"]["Fn::GetAtt"][0]
    kms_actions = {
        action
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert kms_actions == {"kms:Decrypt"}


# --- what the senders may reach and the settings they read ------------------------------------------

SENDER_CONTEXT = {
    "stage": "local",
    "pulse:notify_email_from": "Pulse Alerts <alerts@mail.example.com>",
    "pulse:ses_configuration_set": "pulse-alerts",
}


@pytest.fixture(scope="module")
def sender_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    """The local stage with a From address and an SES configuration set given as context."""
    return synth_construct(tmp_path_factory, "Delivery", _build, SENDER_CONTEXT)


def _notify_statements(template: Template, stage: str = "dev") -> list[dict[str, Any]]:
    _, props = _notify_function(template, stage)
    role = props["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _granted(statements: list[dict[str, Any]], action: str) -> list[str]:
    """Resources ``action`` is allowed on, ARNs rendered as ``arn:${AWS::Partition}:...``."""
    resources: list[str] = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions:
            listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            resources += [Synthesized.render(resource) for resource in listed]
    return resources


def _arn(service: str, resource: str) -> str:
    return f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"


def test_without_a_from_address_email_may_use_any_ses_identity_of_the_account(delivery_stack):
    template, _ = delivery_stack
    _, props = _notify_function(template)
    variables = props["Environment"]["Variables"]

    assert variables["PULSE_NOTIFY_EMAIL_TRANSPORT"] == "ses"
    assert "PULSE_NOTIFY_EMAIL_FROM" not in variables
    assert _granted(_notify_statements(template), "ses:SendEmail") == [_arn("ses", "identity/*")]
    assert _granted(_notify_statements(template), "ses:SendRawEmail") == []


def test_email_is_sent_only_as_the_configured_identity_and_configuration_set(sender_stack):
    template, report = sender_stack
    _, props = _notify_function(template, "local")
    variables = props["Environment"]["Variables"]

    assert variables["PULSE_NOTIFY_EMAIL_FROM"] == "Pulse Alerts <alerts@mail.example.com>"
    assert variables["PULSE_NOTIFY_SES_CONFIGURATION_SET"] == "pulse-alerts"
    assert set(_granted(_notify_statements(template, "local"), "ses:SendEmail")) == {
        _arn("ses", "identity/alerts@mail.example.com"),
        _arn("ses", "identity/mail.example.com"),
        _arn("ses", "configuration-set/pulse-alerts"),
    }
    assert nag_violations(report) == []


def test_mqtt_channels_publish_only_on_tenant_out_topics_after_finding_the_data_endpoint(delivery_stack):
    template, _ = delivery_stack
    statements = _notify_statements(template)

    assert _granted(statements, "iot:Publish") == [_arn("iot", "topic/tenant/*/out/*")]
    [describe] = [s for s in statements if s.get("Sid") == "DescribeIotDataEndpoint"]
    assert (describe["Action"], describe["Resource"]) == ("iot:DescribeEndpoint", "*")


def test_only_the_local_stage_lets_senders_reach_loopback(delivery_stack, sender_stack):
    _, aws_props = _notify_function(delivery_stack[0])
    _, local_props = _notify_function(sender_stack[0], "local")

    assert "PULSE_NOTIFY_EGRESS_ALLOW_CIDRS" not in aws_props["Environment"]["Variables"]
    assert json.loads(local_props["Environment"]["Variables"]["PULSE_NOTIFY_EGRESS_ALLOW_CIDRS"]) == ["127.0.0.0/8"]


def test_links_in_messages_point_at_the_portal(delivery_stack):
    _, props = _notify_function(delivery_stack[0])

    assert props["Environment"]["Variables"]["PULSE_PORTAL_ORIGIN"] == "http://localhost:8080"
