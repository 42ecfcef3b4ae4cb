"""Rules plane: the scheduled evaluator, the events bus and the outbox publisher that feeds it."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.schedules import invoke_on_schedule
from pulse_cdk.stream import StreamConstruct

SCHEDULE_RATE = Duration.minutes(1)
EVALUATE_INPUT = {"task": "evaluate"}
OUTBOX_INPUT = {"task": "sweep"}
BUS_ENVIRONMENT = "PULSE_EVENT_BUS_NAME"  # Settings.event_bus_name
OUTBOX_FUNCTION_ENVIRONMENT = "PULSE_OUTBOX_FUNCTION_NAME"  # Settings.outbox_function_name
# EMF metrics (namespace Pulse, dimension service) the alarms and the dashboard read.
EVALUATION_LAG_METRIC = "EvaluationLagSeconds"  # evaluator: how far behind its clock the oldest due timer ran
EVALUATION_LAG_THRESHOLD_S = 180
EVALUATOR_METRICS = ("RulesEvaluated", "AlertTransitions")
OUTBOX_METRICS = ("OutboxPublished", "OutboxPublishFailed")
OUTBOX_FAILED_METRIC = "OutboxPublishFailed"
OUTBOX_FAILING_MINUTES = 5


class RulesConstruct(Construct):
    """EventBridge bus ``pulse-<stage>``, the ``evaluator`` and ``outbox`` functions and their schedules.

    Every minute EventBridge Scheduler runs the evaluator with ``{"task": "evaluate"}`` (absence,
    ``for`` promotion, windows and schedules of every tenant's rules, as ``pulse_ingest``) and the
    outbox function with ``{"task": "sweep"}`` (alert time sweeps, then every pending
    ``events_outbox`` row onto the bus). Only the outbox function may put events on the bus.
    Functions that commit outbox rows invoke it right after their commit (asynchronously), so an
    event leaves in well under a second; ``grant_publish`` gives them its name and the invoke
    permission, nothing more.

    Alarms: errors of both functions (``PulseFunction``), evaluation lag over
    ``EVALUATION_LAG_THRESHOLD_S`` for three minutes, and events the bus keeps rejecting.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, defaults: FunctionDefaults, stream: StreamConstruct
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self.bus = self._build_bus()
        self.evaluator = self._build_function(
            stream, "Evaluator", "evaluator", "Scheduled rule evaluation: absence, for-duration, windows, schedules"
        )
        self.outbox = self._build_function(
            stream, "Outbox", "outbox", "Moves committed outbox events (Alert*) onto the Pulse event bus"
        )
        self.outbox.function.add_environment(BUS_ENVIRONMENT, self.bus.event_bus_name)
        self.bus.grant_put_events_to(self.outbox.function)
        self.grant_publish(self.evaluator)
        # Both runs pick up whatever is due or pending; a missed minute is caught up by the next.
        self.evaluator_schedule = invoke_on_schedule(
            self,
            "EvaluatorSchedule",
            config=self._config,
            role=stream.scheduler_role,
            function=self.evaluator,
            name="rules-evaluate",
            payload=EVALUATE_INPUT,
            rate=SCHEDULE_RATE,
            description=f"Runs the evaluator function with {EVALUATE_INPUT}",
        )
        self.outbox_schedule = invoke_on_schedule(
            self,
            "OutboxSchedule",
            config=self._config,
            role=stream.scheduler_role,
            function=self.outbox,
            name="outbox-publish",
            payload=OUTBOX_INPUT,
            rate=SCHEDULE_RATE,
            description=f"Runs the outbox function with {OUTBOX_INPUT}",
        )
        self.lag_alarm = self._build_lag_alarm()
        self.outbox_failing_alarm = self._build_outbox_failing_alarm()
        self._build_dashboard()

    def grant_publish(self, function: PulseFunction) -> None:
        """Let ``function`` start the outbox function after a commit that wrote outbox rows."""
        function.function.add_environment(OUTBOX_FUNCTION_ENVIRONMENT, self.outbox.function.function_name)
        # The unqualified ARN only: grant_invoke would add "<arn>:*" (every version and alias), a
        # wildcard each caller's policy would have to acknowledge for nothing it uses.
        function.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.outbox.function.function_arn])
        )

    def _build_bus(self) -> events.EventBus:
        return events.EventBus(
            self,
            "Bus",
            event_bus_name=f"pulse-{self._config.stage}",
            description="Pulse domain events (AlertOpened, AlertResolved, ...) from the transactional outbox",
        )

    def _build_function(self, stream: StreamConstruct, construct_id: str, name: str, description: str) -> PulseFunction:
        function = PulseFunction(
            self,
            construct_id,
            name=name,
            defaults=self._defaults,
            description=description,
            memory_size=1024 if name == "evaluator" else 256,
            timeout=Duration.seconds(55),  # inside the one-minute schedule: runs do not overlap
            environment=stream.database_environment("pulse_ingest"),
        )
        stream.grant_database_read(function)
        return function

    def _build_lag_alarm(self) -> cloudwatch.Alarm:
        alarm = self.evaluator.metric(EVALUATION_LAG_METRIC, "Maximum").create_alarm(
            self,
            "EvaluationLagAlarm",
            alarm_name=self._config.name("rules-evaluation-lag"),
            alarm_description=(
                f"The scheduled evaluator ran timers more than {EVALUATION_LAG_THRESHOLD_S} s after they were due "
                "for 3 minutes: absence and for-duration alerts open late. Check its duration and errors."
            ),
            threshold=EVALUATION_LAG_THRESHOLD_S,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_outbox_failing_alarm(self) -> cloudwatch.Alarm:
        alarm = self.outbox.metric(OUTBOX_FAILED_METRIC, "Sum").create_alarm(
            self,
            "OutboxFailingAlarm",
            alarm_name=self._config.name("outbox-publish-failing"),
            alarm_description=(
                f"EventBridge rejected outbox events in each of the last {OUTBOX_FAILING_MINUTES} minutes: "
                "alert notifications are delayed. The rows keep their last error (events_outbox.last_error)."
            ),
            threshold=0,
            evaluation_periods=OUTBOX_FAILING_MINUTES,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_dashboard(self) -> None:
        minute = Duration.minutes(1)
        evaluator, outbox = self.evaluator.function, self.outbox.function
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="Rule evaluation",
                left=[self.evaluator.metric(name, "Sum") for name in EVALUATOR_METRICS],
                right=[self.evaluator.metric(EVALUATION_LAG_METRIC, "Maximum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Evaluator function",
                left=[evaluator.metric_errors(period=minute), outbox.metric_errors(period=minute)],
                right=[evaluator.metric_duration(period=minute, statistic="Maximum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Events outbox",
                left=[self.outbox.metric(name, "Sum") for name in OUTBOX_METRICS],
                right=[outbox.metric_duration(period=minute, statistic="Maximum")],
                width=8,
            ),
        )
