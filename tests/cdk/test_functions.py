"""Every Lambda comes out of PulseFunction with the same runtime, logging, tracing and alarms."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match

from pulse_cdk.config import StageConfig

pytestmark = pytest.mark.cdk

PULSE_FUNCTIONS = {
    "ingest",
    "http_ingest",
    "migrate",
    "maintenance",
    "api",
    "subscriptions",
    "twin",
    "evaluator",
    "outbox",
    "notify",
    "oncall",
    "escalation",
}


def _pulse_functions(synthesized):
    """Functions defined by Pulse (the trigger's Node.js provider is CDK's own)."""
    return {
        props["Handler"].split("/")[1]: props
        for props in (r["Properties"] for r in synthesized.resources("AWS::Lambda::Function").values())
        if props.get("Handler", "").startswith("functions/")
    }


def test_every_pulse_function_is_defined(synthesized):
    assert set(_pulse_functions(synthesized)) == PULSE_FUNCTIONS


@pytest.mark.parametrize("name", sorted(PULSE_FUNCTIONS))
def test_function_runs_python312_on_arm64_with_json_logs_and_tracing(synthesized, name):
    props = _pulse_functions(synthesized)[name]

    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == f"functions/{name}/handler.lambda_handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert "Ref" in props["LoggingConfig"]["LogGroup"]
    assert len(props["Layers"]) == 2
    assert props["FunctionName"] == f"pulse-dev-{name.replace('_', '-')}"


@pytest.mark.parametrize("name", sorted(PULSE_FUNCTIONS))
def test_function_environment_names_its_service_and_stage(synthesized, name):
    env = _pulse_functions(synthesized)[name]["Environment"]["Variables"]

    assert env["POWERTOOLS_SERVICE_NAME"] == f"pulse-{name}"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Pulse"
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert env["PULSE_STAGE"] == "dev"


@pytest.mark.parametrize(
    ("name", "db_role"),
    [
        ("ingest", "pulse_ingest"),
        ("http_ingest", "pulse_ingest"),
        ("migrate", "owner"),
        ("maintenance", "owner"),
        ("api", "pulse_app"),
        ("subscriptions", "pulse_operator"),
        ("twin", "pulse_app"),
        ("evaluator", "pulse_ingest"),
        ("outbox", "pulse_ingest"),
    ],
)
def test_database_functions_get_the_secret_arn_and_their_role(synthesized, name, db_role):
    env = _pulse_functions(synthesized)[name]["Environment"]["Variables"]
    (secret_id,) = synthesized.resources("AWS::SecretsManager::Secret")

    assert env["PULSE_DB_ROLE"] == db_role
    assert env["PULSE_DATABASE_SECRET_ARN"] == {"Ref": secret_id}


def test_function_log_groups_keep_dev_logs_one_month(synthesized):
    synthesized.template.resource_properties_count_is(
        "AWS::Logs::LogGroup",
        {"LogGroupName": Match.string_like_regexp("^/aws/lambda/pulse-dev-"), "RetentionInDays": 30},
        len(PULSE_FUNCTIONS),
    )


def test_function_roles_write_only_to_their_own_log_group(synthesized):
    function_roles = [{"Ref": props["Role"]["Fn::GetAtt"][0]} for props in _pulse_functions(synthesized).values()]
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if not any(role in policy["Properties"]["Roles"] for role in function_roles):
            continue  # e.g. the delivery state machine's log delivery, which supports no resource
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("logs:") for action in actions):
                assert "logs:CreateLogGroup" not in actions
                assert statement["Resource"] != "*"


def test_every_pulse_function_has_an_errors_alarm_paging_operators(synthesized):
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    for name in PULSE_FUNCTIONS:
        synthesized.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": f"pulse-dev-{name.replace('_', '-')}-errors",
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "AlarmActions": [{"Ref": topic_id}],
            },
        )


@pytest.mark.parametrize(
    ("stage", "retention", "removal"),
    [
        ("dev", logs.RetentionDays.ONE_MONTH, RemovalPolicy.DESTROY),
        ("stage", logs.RetentionDays.THREE_MONTHS, RemovalPolicy.DESTROY),
        ("prod", logs.RetentionDays.ONE_YEAR, RemovalPolicy.RETAIN),
    ],
)
def test_stage_decides_log_retention_and_what_survives_the_stack(stage, retention, removal):
    config = StageConfig(stage=stage, repo_root=Path())

    assert config.log_retention == retention
    assert config.removal_policy == removal
