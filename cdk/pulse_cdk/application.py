"""Assembling the CDK app: shared by ``cdk/app.py`` and the CDK tests so both check one thing."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from pulse_cdk.config import StageConfig
from pulse_cdk.stack import PulseStack


@dataclass(frozen=True)
class PulseApp:
    app: App
    stack: PulseStack
    config: StageConfig


def project_context(repo_root: Path) -> dict[str, Any]:
    """The ``context`` block of ``cdk.json`` (feature flags, defaults).

    The CDK CLI passes it to the app itself; reading it here as well makes a plain
    ``python cdk/app.py`` synthesize the same template as ``cdk synth``.
    """
    cdk_json = repo_root / "cdk.json"
    if not cdk_json.is_file():
        return {}
    context = json.loads(cdk_json.read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


def create_app(
    repo_root: Path,
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    env: Environment | None = None,
    nag: bool = True,
) -> PulseApp:
    """Build the app with one ``PulseStack`` named ``Pulse-<stage>``; cdk-nag runs at synth.

    ``context`` overrides ``cdk.json`` (as ``-c`` does). The CLI's own context, when present,
    still wins over both because the App reads it from the environment after ``context``.
    ``env`` defaults to ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` (environment-agnostic
    when unset); tests pass ``Environment()`` so a developer's AWS profile cannot change them.
    """
    app = App(
        context={**project_context(repo_root), **(context or {})},
        outdir=outdir,
    )
    config = StageConfig.from_context(app.node, repo_root)
    if env is None:
        env = Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        )
    stack = PulseStack(
        app,
        f"Pulse-{config.stage}",
        config=config,
        env=env,
        description=f"Pulse IoT platform ({config.stage})",
    )
    if nag:
        Validations.of(app).add_plugins(
            AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
        )
    return PulseApp(app=app, stack=stack, config=config)
