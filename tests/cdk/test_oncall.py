"""OncallConstruct on its own stack (Ops, packaging, Stream and Oncall): the hourly coverage check, cdk-nag."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from pulse_cdk.oncall import OncallConstruct
from tests.cdk.conftest import nag_violations, synth_construct

pytestmark = pytest.mark.cdk


@pytest.fixture(scope="module")
def oncall_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any]]:
    return synth_construct(
        tmp_path_factory,
        "Oncall",
        lambda stack, defaults, stream: OncallConstruct(stack, "Oncall", defaults=defaults, stream=stream),
    )


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
    assert nag_violations(report) == []
