"""What differs between dev, stage and prod, read once from CDK context.

Constructs ask this object (``config.log_retention``, ``config.name("ingest")``) instead of
comparing stage strings themselves, so a new stage-dependent setting is one property here.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
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
EMAIL_FROM_CONTEXT_KEY = "pulse:notify_email_from"
SES_CONFIGURATION_SET_CONTEXT_KEY = "pulse:ses_configuration_set"
# The local stage sends alert mail into the emulator's SES, which delivers nothing: any address will do.
LOCAL_EMAIL_FROM = "pulse-local@example.com"
# Only on the local stage may senders reach loopback, so a webhook can point at a receiver on the
# developer's machine; every other stage refuses non-public destinations (pulse.notify.channels.ssrf).
LOCAL_EGRESS_ALLOW_CIDRS = ("127.0.0.0/8",)

_LOG_RETENTION: dict[Stage, logs.RetentionDays] = {
    "local": logs.RetentionDays.ONE_WEEK,
    "dev": logs.RetentionDays.ONE_MONTH,
    "stage": logs.RetentionDays.THREE_MONTHS,
    "prod": logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class StageConfig:
    """The deployment stage, where the sources live, which platform the layers target and whom alert
    mail is from (a verified SES identity; empty: the notify function may use any identity of the account)."""

    stage: Stage
    repo_root: Path
    layer_platform: LayerPlatform = "aws"
    notify_email_from: str = ""
    ses_configuration_set: str = ""

    @classmethod
    def from_context(cls, node: Node, repo_root: Path) -> StageConfig:
        """Read ``-c stage=local|dev|stage|prod``, ``-c pulse:layer_platform=aws|host``,
        ``-c pulse:notify_email_from=alerts@example.com`` and ``-c pulse:ses_configuration_set=<name>``
        (all optional)."""
        stage = node.try_get_context(STAGE_CONTEXT_KEY) or "dev"
        if stage not in get_args(Stage):
            raise ValueError(f"context {STAGE_CONTEXT_KEY}={stage!r}: expected one of {get_args(Stage)}")
        layer_platform = node.try_get_context(LAYER_PLATFORM_CONTEXT_KEY) or "aws"
        if layer_platform not in get_args(LayerPlatform):
            raise ValueError(
                f"context {LAYER_PLATFORM_CONTEXT_KEY}={layer_platform!r}: expected one of {get_args(LayerPlatform)}"
            )
        email_from = str(node.try_get_context(EMAIL_FROM_CONTEXT_KEY) or "").strip()
        if not email_from and stage == "local":
            email_from = LOCAL_EMAIL_FROM
        local_part, _, domain = parseaddr(email_from)[1].partition("@")
        if email_from and not (local_part and "." in domain):
            raise ValueError(
                f"context {EMAIL_FROM_CONTEXT_KEY}={email_from!r}: expected an address, e.g. Pulse <alerts@example.com>"
            )
        return cls(
            stage=cast(Stage, stage),
            repo_root=repo_root,
            layer_platform=cast(LayerPlatform, layer_platform),
            notify_email_from=email_from,
            ses_configuration_set=str(node.try_get_context(SES_CONFIGURATION_SET_CONTEXT_KEY) or "").strip(),
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
    def notify_email_address(self) -> str:
        """The bare address of ``notify_email_from`` (``Pulse <alerts@example.com>`` -> ``alerts@example.com``)."""
        return parseaddr(self.notify_email_from)[1]

    @property
    def notify_egress_allow_cidrs(self) -> tuple[str, ...]:
        """Non-public networks channel senders may reach (``PULSE_NOTIFY_EGRESS_ALLOW_CIDRS``): loopback locally."""
        return LOCAL_EGRESS_ALLOW_CIDRS if self.stage == "local" else ()

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Production keeps logs, keys and secrets when the stack goes; other stages clean up."""
        return RemovalPolicy.RETAIN if self.is_prod else RemovalPolicy.DESTROY

    def name(self, suffix: str, separator: str = "-") -> str:
        """Physical name ``pulse-<stage>-<suffix>``: several stages can share one account."""
        return separator.join(("pulse", self.stage, suffix.replace("-", separator).replace("_", separator)))
