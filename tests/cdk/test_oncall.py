"""OncallConstruct on its own stack (Ops, packaging, Stream and Oncall): the hourly coverage check, cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Validations
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from pulse_cdk.application import project_context
from pulse_cdk.config import StageConfig
from pulse_cdk.function import FunctionDefaults
from pulse_cdk.oncall import OncallConstruct
from pulse_cdk.ops import OpsConstruct
from pulse_cdk.packaging import LambdaPackaging
from pulse_cdk.stream import StreamConstruct
from tests.cdk.conftest import REPO_ROOT, SYNTH_CONTEXT

pytestmark = pytest.mark.cdk


@pytest.fixture(scope="module")
def oncall_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("oncall-cdk.out")
    app = App(context={**project_context(REPO_ROOT), **SYNTH_CONTEXT}, outdir=str(outdir))
    config = StageConfig.from_context(app.node, REPO_ROOT)
    stack = Stack(app, "OncallTest", env=Environment())
    ops = OpsConstruct(stack, "Ops", config=config)
    defaults = FunctionDefaults(config=config, packaging=LambdaPackaging(stack, "Packaging", config=config), ops=ops)
    stream = StreamConstruct(stack, "Stream", defaults=defaults)
    OncallConstruct(stack, "Oncall", defaults=defaults, stream=stream)
    ops.add_alarm_overview()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Template.from_stack(stack), report


def test_the_coverage_check_runs_hourly_with_an_explicit_task_as_pulse_ingest(oncall_stack):
    template, _ = oncall_stack
    [(logical_id, function)] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "pulse-dev-oncall"}}
    ).items()
    assert function["Properties"]["Environment"]["Variables"]["PULSE_DB_ROLE"] == "pulse_ingest"
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "Name": "pulse-dev-oncall-coverage",
            "ScheduleExpression": "rate(1 hour)",
            "Target": Match.object_like(
                {
                    "Arn": {"Fn::GetAtt": [logical_id, "Arn"]},
                    "Input": '{"task":"check_coverage"}',
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 0},
                }
            ),
        },
    )


def test_coverage_check_errors_page_operators(oncall_stack):
    template, _ = oncall_stack
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "pulse-dev-oncall-errors"})


def test_cdk_nag_has_no_unacknowledged_finding(oncall_stack):
    _, report = oncall_stack
    violations = [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in plugin.get("violations", [])
        for c in v.get("violatingConstructs", [])
    ]
    assert violations == []
