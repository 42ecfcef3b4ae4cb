"""Escalation: the ``escalation`` function on a one-minute schedule, SMS sending for contact methods,
and the lag alarm and dashboard row."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from pulse_cdk.delivery import DeliveryConstruct
from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.nag import acknowledge_wildcard, default_policy
from pulse_cdk.schedules import invoke_on_schedule
from pulse_cdk.stream import StreamConstruct

SCHEDULE_RATE = Duration.minutes(1)
ESCALATE_INPUT = {"task": "escalate"}
# EMF metrics (namespace Pulse, dimension service) the engine emits (pulse.escalation.engine).
ESCALATION_LAG_METRIC = "EscalationLagSeconds"
ESCALATION_LAG_THRESHOLD_S = 180
ESCALATION_METRICS = ("EscalationActions", "EscalationDeliveriesStarted")


class EscalationConstruct(Construct):
    """Every minute EventBridge Scheduler runs ``escalation`` with ``{"task": "escalate"}`` (as
    ``pulse_ingest``): due escalation steps and reminders write deliveries, which start through the
    delivery workflow (``delivery.grant_redrive``: its ARN and ``states:StartExecution``).

    SMS contact methods are sent by the delivery workflow's ``notify`` function through
    ``sns:Publish`` to phone numbers, which has no resource ARN (``grant_sms``; the API function needs
    it too for a contact method's send-test). Alarm: escalation lag above
    ``ESCALATION_LAG_THRESHOLD_S`` for three minutes (pages go out late).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        stream: StreamConstruct,
        delivery: DeliveryConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self.function = self._build_function(stream)
        delivery.grant_redrive(self.function)
        self.grant_sms(delivery.notify)
        # A tick handles whatever is due; a missed minute is caught up by the next one.
        self.schedule = invoke_on_schedule(
            self,
            "EscalationSchedule",
            config=self._config,
            role=stream.scheduler_role,
            function=self.function,
            name="escalation-tick",
            payload=ESCALATE_INPUT,
            rate=SCHEDULE_RATE,
            description=f"Runs the escalation function with {ESCALATE_INPUT}",
        )
        self.lag_alarm = self._build_lag_alarm()
        self._build_dashboard()

    def grant_sms(self, function: PulseFunction) -> None:
        """Let ``function`` send text messages (``sns:Publish`` to a phone number, never to a topic)."""
        # Its own statement (a Sid is never merged), so no other action shares its Resource '*'.
        function.role.add_to_policy(iam.PolicyStatement(sid="SendSms", actions=["sns:Publish"], resources=["*"]))
        acknowledge_wildcard(
            default_policy(function.role),
            "Resource::*",
            "SNS direct SMS publishes to a phone number, which has no ARN to name; the function holds no "
            "topic, and sns:Publish is the only SNS action granted.",
        )

    def _build_function(self, stream: StreamConstruct) -> PulseFunction:
        function = PulseFunction(
            self,
            "Escalation",
            name="escalation",
            defaults=self._defaults,
            description="Escalation tick: due steps and reminders of every alert's policy, then their deliveries",
            memory_size=512,
            timeout=Duration.seconds(55),  # inside the one-minute schedule: ticks do not overlap
            environment=stream.database_environment("pulse_ingest"),
        )
        stream.grant_database_read(function)
        return function

    def _build_lag_alarm(self) -> cloudwatch.Alarm:
        alarm = self.function.metric(ESCALATION_LAG_METRIC, "Maximum").create_alarm(
            self,
            "EscalationLagAlarm",
            alarm_name=self._config.name("escalation-lag"),
            alarm_description=(
                f"Escalation steps ran more than {ESCALATION_LAG_THRESHOLD_S} s after they were due for 3 minutes: "
                "people are paged late. Check the escalation function's duration and errors."
            ),
            threshold=ESCALATION_LAG_THRESHOLD_S,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_dashboard(self) -> None:
        minute = Duration.minutes(1)
        function = self.function.function
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="Escalation",
                left=[self.function.metric(name, "Sum") for name in ESCALATION_METRICS],
                right=[self.function.metric(ESCALATION_LAG_METRIC, "Maximum")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Escalation function",
                left=[function.metric_errors(period=minute)],
                right=[function.metric_duration(period=minute, statistic="Maximum")],
                width=12,
            ),
        )
