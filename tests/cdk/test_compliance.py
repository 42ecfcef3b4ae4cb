"""The synthesized template passes cdk-nag (AwsSolutions) and cfn-lint.

cdk-nag v3 runs as a CDK validation plugin: findings go to ``validation-report.json`` in the
cloud assembly (not to annotations). The session fixture keeps the synth going on findings so
this test can list them all.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from tests.cdk.conftest import nag_violations

pytestmark = pytest.mark.cdk

# cfn-lint checks ignored, each with the reason it does not apply to a CDK-generated template.
CFN_LINT_IGNORED = {
    # CDK adds DependsOn for construct-level dependencies (e.g. a function on its role and role
    # policy) even when a Ref/GetAtt already orders them; redundant, never wrong.
    "W3005": "redundant DependsOn emitted by CDK construct dependencies",
}
CFN_LINT_REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized):
    report = synthesized.validation_report()

    assert nag_violations(report) == []


def test_acknowledgments_are_recorded_in_the_template_with_reasons(synthesized):
    acknowledged = {
        logical_id: resource["Metadata"]["cdk_nag"]["rules_to_suppress"]
        for logical_id, resource in synthesized.template_json["Resources"].items()
        if "cdk_nag" in resource.get("Metadata", {})
    }
    rule_ids = {rule["id"].split("[")[0] for rules in acknowledged.values() for rule in rules}

    assert rule_ids == {
        "AwsSolutions-L1",
        "AwsSolutions-IAM5",
        "AwsSolutions-SMG4",
        "AwsSolutions-SQS3",
        "AwsSolutions-APIG4",
        "AwsSolutions-COG2",
        "AwsSolutions-COG8",
        "AwsSolutions-S1",  # the portal's access-log bucket does not log itself
        "AwsSolutions-CFR1",  # portal distribution: no geo restriction
        "AwsSolutions-CFR2",  # portal distribution: no WAF yet
        "AwsSolutions-CFR4",  # portal distribution: default *.cloudfront.net certificate
    }
    assert all(len(rule["reason"]) >= 40 for rules in acknowledged.values() for rule in rules)


# Actions that support no resource-level permission, hence the only ones allowed on Resource '*'.
UNSCOPED_ACTIONS = (
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    {"iot:CreateKeysAndCertificate", "iot:DescribeEndpoint"},  # the API's provisioning (own policy)
    {"iot:DescribeEndpoint"},  # the twin function's publisher (own statement)
    {"sns:Publish"},  # SMS contact methods: direct publish to a phone number has no ARN (own statement)
    {  # the delivery state machine: execution logs (log deliveries) and X-Ray tracing
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    },
)


def test_wildcard_resources_only_carry_actions_without_resource_types(synthesized):
    """``AwsSolutions-IAM5[Resource::*]`` is acknowledged for these; nothing else may hide behind it."""
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) in UNSCOPED_ACTIONS


def test_nag_findings_would_reach_the_report(tmp_path):
    """Guards the test above against passing vacuously (wrong file, plugin not running)."""
    app = App(outdir=str(tmp_path), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = Stack(app, "Probe", env=Environment())
    sqs.Queue(stack, "QueueWithoutDeadLetters", enforce_ssl=True)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert any(v.startswith("AwsSolutions-SQS3 ") for v in nag_violations(report))


def test_synth_emits_no_cdk_errors_or_warnings(synthesized):
    annotations = Annotations.from_stack(synthesized.pulse.stack)

    assert annotations.find_error("*", Match.any_value()) == []
    assert annotations.find_warning("*", Match.any_value()) == []


def test_cfn_lint_finds_no_errors(synthesized):
    matches = lint(
        json.dumps(synthesized.template_json),
        config=ManualArgs(regions=CFN_LINT_REGIONS, ignore_checks=list(CFN_LINT_IGNORED)),
    )
    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id.startswith("E")]

    assert errors == []
