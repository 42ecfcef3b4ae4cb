"""Stream plane (secret, migrations, maintenance schedule) and Ops plane (topic, dashboard, alarms)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

pytestmark = pytest.mark.cdk


def _logical_id(synthesized, resource_type, predicate):
    (logical_id,) = [
        logical_id for logical_id, r in synthesized.resources(resource_type).items() if predicate(r["Properties"])
    ]
    return logical_id


def test_database_secret_is_named_per_stage(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"Name": "pulse/dev/database-url", "GenerateSecretString": Match.object_like({"PasswordLength": 32})},
    )


def test_maintenance_runs_every_15_minutes_with_explicit_input(synthesized):
    maintenance = _logical_id(
        synthesized, "AWS::Lambda::Function", lambda p: p.get("FunctionName") == "pulse-dev-maintenance"
    )
    (props,) = [
        schedule["Properties"]
        for schedule in synthesized.resources("AWS::Scheduler::Schedule").values()
        if schedule["Properties"]["Name"] == "pulse-dev-maintenance"
    ]

    assert props["ScheduleExpression"] == "rate(15 minutes)"
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [maintenance, "Arn"]}
    assert json.loads(props["Target"]["Input"]) == {"task": "maintenance"}


def test_migrations_run_at_deploy_after_the_secret_exists(synthesized):
    secret = _logical_id(synthesized, "AWS::SecretsManager::Secret", lambda p: True)
    migrate = _logical_id(synthesized, "AWS::Lambda::Function", lambda p: p.get("FunctionName") == "pulse-dev-migrate")
    (trigger,) = synthesized.resources("Custom::Trigger").values()

    assert trigger["Properties"]["ExecuteOnHandlerChange"] is True
    assert secret in trigger["DependsOn"]
    assert migrate in trigger["DependsOn"]


def test_alarm_topic_is_encrypted_with_a_rotated_key_and_tls_only(synthesized):
    key = _logical_id(synthesized, "AWS::KMS::Key", lambda p: "alarm topic" in p.get("Description", ""))
    synthesized.template.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": "pulse-dev-alarms", "KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}}
    )
    synthesized.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                }
            )
        },
    )


def test_cloudwatch_may_use_the_alarm_topic_key(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                }
                            )
                        ]
                    )
                }
            )
        },
    )


@pytest.mark.parametrize(
    ("alarm_name", "metric_name"),
    [
        ("pulse-dev-ingest-dlq-depth", "ApproximateNumberOfMessagesVisible"),
        ("pulse-dev-iot-errors-depth", "ApproximateNumberOfMessagesVisible"),
        ("pulse-dev-ingest-errors", "Errors"),
    ],
)
def test_operators_are_paged_for_dead_letters_and_ingest_errors(synthesized, alarm_name, metric_name):
    topic = _logical_id(synthesized, "AWS::SNS::Topic", lambda p: True)
    (alarm,) = [
        a["Properties"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if synthesized.render(a["Properties"]["AlarmName"]) == alarm_name
    ]

    assert alarm["MetricName"] == metric_name
    assert alarm["AlarmActions"] == [{"Ref": topic}]
    assert alarm["OKActions"] == [{"Ref": topic}]
    if metric_name != "Errors":
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_dashboard_shows_ingest_queue_and_telemetry_metrics(synthesized):
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = synthesized.render(dashboard["Properties"]["DashboardBody"])

    assert dashboard["Properties"]["DashboardName"] == "Pulse-dev"
    for needle in (
        '"Invocations"',
        '"Errors"',
        '"Duration"',
        '"ApproximateNumberOfMessagesVisible"',
        '"TelemetryAccepted"',
        '"TelemetryQuarantined"',
        '"TelemetryDuplicate"',
        '"pulse-ingest"',
    ):
        assert needle in body
