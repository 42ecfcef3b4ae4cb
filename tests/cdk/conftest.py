"""One synthesis of the Pulse app, shared by every CDK test in the session.

jsii starts its Node process on the first ``aws_cdk`` import, so the project's Node (>= 22) is
put on PATH before anything imports the CDK (``make`` already does; a bare ``pytest`` may not).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where the project installs Node 22: `tooling/` (Makefile, npm ci) or `.tools/node` (npm node@22).
NODE_BINS = (REPO_ROOT / "tooling" / "node_modules" / ".bin", REPO_ROOT / ".tools" / "node" / "node_modules" / ".bin")
for node_bin in reversed([b for b in NODE_BINS if (b / "node").exists()]):
    if str(node_bin) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join((str(node_bin), os.environ.get("PATH", "")))

from aws_cdk import App, Environment, Stack, Validations  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from pulse_cdk.application import PulseApp, create_app, project_context  # noqa: E402
from pulse_cdk.config import StageConfig  # noqa: E402
from pulse_cdk.function import FunctionDefaults  # noqa: E402
from pulse_cdk.ops import OpsConstruct  # noqa: E402
from pulse_cdk.packaging import LambdaPackaging  # noqa: E402
from pulse_cdk.stream import StreamConstruct  # noqa: E402

SYNTH_CONTEXT = {
    "stage": "dev",
    # Wheels for this machine: no aarch64 download, and a cached build after the first run.
    "pulse:layer_platform": "host",
    # Reference assets in place instead of copying ~60 MB of wheels into a temporary cdk.out.
    "aws:cdk:disable-asset-staging": True,
    # Record cdk-nag findings in validation-report.json instead of aborting the synth, so one
    # finding fails the nag test rather than every test in the session.
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}


@dataclass(frozen=True)
class Synthesized:
    pulse: PulseApp
    template: Template
    template_json: dict[str, Any]
    assembly_dir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    @staticmethod
    def render(value: Any) -> str:
        """Flatten ``Fn::Join`` into a string: ``Ref`` as ``${Name}``, ``Fn::GetAtt`` as ``${Name.Attr}``."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(Synthesized.render(part) for part in parts)
        if isinstance(value, dict) and "Ref" in value:
            return "${" + value["Ref"] + "}"
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        raise AssertionError(f"cannot render {value!r}")

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.assembly_dir / "validation-report.json").read_text())


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    pulse = create_app(REPO_ROOT, context=SYNTH_CONTEXT, outdir=str(outdir), env=Environment())
    assembly = pulse.app.synth()
    template = Template.from_stack(pulse.stack)  # reuses the assembly above
    return Synthesized(
        pulse=pulse,
        template=template,
        template_json=template.to_json(),
        assembly_dir=Path(assembly.directory),
    )


def synth_construct(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Stack, FunctionDefaults, StreamConstruct], object],
    context: dict[str, Any] | None = None,
) -> tuple[Template, dict[str, Any]]:
    """A construct on a small stack of its own (``<name>Test``: Ops, packaging, Stream, then ``build``),
    synthesized with cdk-nag; returns the template and the validation report (see ``nag_violations``)."""
    outdir = tmp_path_factory.mktemp(f"{name.lower()}-cdk.out")
    app = App(context={**project_context(REPO_ROOT), **SYNTH_CONTEXT, **(context or {})}, outdir=str(outdir))
    config = StageConfig.from_context(app.node, REPO_ROOT)
    stack = Stack(app, f"{name}Test", env=Environment())
    ops = OpsConstruct(stack, "Ops", config=config)
    defaults = FunctionDefaults(config=config, packaging=LambdaPackaging(stack, "Packaging", config=config), ops=ops)
    stream = StreamConstruct(stack, "Stream", defaults=defaults)
    build(stack, defaults, stream)
    ops.add_alarm_overview()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Template.from_stack(stack), report


def nag_violations(report: dict[str, Any]) -> list[str]:
    """Every unacknowledged cdk-nag finding of a validation report, as ``<rule> at <construct path>``."""
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]
