"""``PulseFunction``: the one way a Pulse Lambda is defined."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse_cdk.config import StageConfig
from pulse_cdk.nag import acknowledge, acknowledge_wildcard, default_policy
from pulse_cdk.ops import OpsConstruct
from pulse_cdk.packaging import ARCHITECTURE, RUNTIME, LambdaPackaging


@dataclass(frozen=True)
class FunctionDefaults:
    """What every function shares: the stage, the code it is built from, where its alarms go."""

    config: StageConfig
    packaging: LambdaPackaging
    ops: OpsConstruct


class PulseFunction(Construct):
    """A Lambda running ``functions/<name>/handler.lambda_handler`` on the shared layers.

    Settings that must not drift between functions live here and nowhere else: Python 3.12 on
    arm64, JSON logs into an explicit log group with the stage's retention, active X-Ray tracing,
    the Powertools environment and an errors alarm on the Ops topic. The function gets its own
    role holding only write access to its log group; callers add the rest with ``grant_*``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        defaults: FunctionDefaults,
        description: str,
        memory_size: int = 256,
        timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        self._defaults = defaults
        self.function_name = defaults.config.name(name)
        self.log_group = self._build_log_group()
        self.role = self._build_role()
        self.function = self._build_function(
            description=description,
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(30),
            environment=environment or {},
        )
        self.errors_alarm = self._build_errors_alarm()

    @property
    def service_name(self) -> str:
        """``POWERTOOLS_SERVICE_NAME``: the ``service`` dimension of this function's EMF metrics."""
        return f"pulse-{self.name}"

    def metric(self, name: str, statistic: str = "Sum") -> cloudwatch.Metric:
        """A per-minute EMF metric this function emits (namespace ``Pulse``, dimension ``service``)."""
        return cloudwatch.Metric(
            namespace="Pulse",
            metric_name=name,
            dimensions_map={"service": self.service_name},
            statistic=statistic,
            period=Duration.minutes(1),
        )

    def _build_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/lambda/{self.function_name}",
            retention=self._defaults.config.log_retention,
            removal_policy=self._defaults.config.removal_policy,
        )

    def _build_role(self) -> iam.Role:
        # Own role instead of AWSLambdaBasicExecutionRole: that managed policy may create and
        # write any log group, this one writes to exactly one.
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Pulse {self.name} function",
        )
        self.log_group.grant_write(role)
        return role

    def _build_function(
        self, *, description: str, memory_size: int, timeout: Duration, environment: Mapping[str, str]
    ) -> lambda_.Function:
        config = self._defaults.config
        function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"functions/{self.name}/handler.lambda_handler",
            code=self._defaults.packaging.function_code,
            layers=self._defaults.packaging.layers,
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(config.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": self.service_name,
                "POWERTOOLS_METRICS_NAMESPACE": "Pulse",
                "POWERTOOLS_LOG_LEVEL": config.log_level,
                "PULSE_STAGE": config.stage,
                **environment,
            },
        )
        acknowledge(
            function.node.default_child,
            "AwsSolutions-L1",
            "Pinned to python3.12 on purpose: the dependency layer is built for cp312/aarch64 "
            "wheels (layers/build.py), so the runtime moves together with the layer build, in one "
            "reviewed change, not whenever Lambda ships a newer Python.",
        )
        acknowledge_wildcard(
            default_policy(self.role),
            "Resource::*",
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions; no other statement of this role uses '*'.",
        )
        return function

    def _build_errors_alarm(self) -> cloudwatch.Alarm:
        alarm = self.function.metric_errors(period=Duration.minutes(1), statistic="Sum").create_alarm(
            self,
            "ErrorsAlarm",
            alarm_name=f"{self.function_name}-errors",
            alarm_description=(
                f"{self.function_name} raised an unhandled error: a crashed invocation, not a "
                "rejected message (those are quarantined and do not count as errors)."
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)
