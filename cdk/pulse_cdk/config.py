"""What differs between dev, stage and prod, read once from CDK context.

Constructs ask this object (``config.log_retention``, ``config.name("ingest")``) instead of
comparing stage strings themselves, so a new stage-dependent setting is one property here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

# ``local`` is the stack `make dev` deploys into the emulator on a developer machine.
Stage = Literal["local", "dev", "stage", "prod"]
LayerPlatform = Literal["aws", "host"]

STAGE_CONTEXT_KEY = "stage"
LAYER_PLATFORM_CONTEXT_KEY = "pulse:layer_platform"

_LOG_RETENTION: dict[Stage, logs.RetentionDays] = {
    "local": logs.RetentionDays.ONE_WEEK,
    "dev": logs.RetentionDays.ONE_MONTH,
    "stage": logs.RetentionDays.THREE_MONTHS,
    "prod": logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class StageConfig:
    """The deployment stage, where the sources live and which platform the layers target."""

    stage: Stage
    repo_root: Path
    layer_platform: LayerPlatform = "aws"

    @classmethod
    def from_context(cls, node: Node, repo_root: Path) -> StageConfig:
        """Read ``-c stage=local|dev|stage|prod`` and ``-c pulse:layer_platform=aws|host`` (both optional)."""
        stage = node.try_get_context(STAGE_CONTEXT_KEY) or "dev"
        if stage not in get_args(Stage):
            raise ValueError(f"context {STAGE_CONTEXT_KEY}={stage!r}: expected one of {get_args(Stage)}")
        layer_platform = node.try_get_context(LAYER_PLATFORM_CONTEXT_KEY) or "aws"
        if layer_platform not in get_args(LayerPlatform):
            raise ValueError(
                f"context {LAYER_PLATFORM_CONTEXT_KEY}={layer_platform!r}: expected one of {get_args(LayerPlatform)}"
            )
        return cls(
            stage=cast(Stage, stage),
            repo_root=repo_root,
            layer_platform=cast(LayerPlatform, layer_platform),
        )

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _LOG_RETENTION[self.stage]

    @property
    def log_level(self) -> str:
        """Powertools level: debug output is useful in dev and noise (and cost) elsewhere."""
        return "DEBUG" if self.stage in ("local", "dev") else "INFO"

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Production keeps logs, keys and secrets when the stack goes; other stages clean up."""
        return RemovalPolicy.RETAIN if self.is_prod else RemovalPolicy.DESTROY

    def name(self, suffix: str, separator: str = "-") -> str:
        """Physical name ``pulse-<stage>-<suffix>``: several stages can share one account."""
        return separator.join(("pulse", self.stage, suffix.replace("-", separator).replace("_", separator)))
