"""Connect plane: device messages from IoT Core (and HTTPS) into the batched ingest function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse_cdk import iot_rules
from pulse_cdk.device_policy import device_policy_document
from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.http_ingest import HttpIngestConstruct
from pulse_cdk.stream import StreamConstruct

INGEST_TIMEOUT = Duration.seconds(30)
INGEST_BATCH_SIZE = 1000  # one COPY per 1000 messages keeps DB connections and transactions few at 20k msg/s
INGEST_BATCH_WINDOW = Duration.seconds(1)
# Ceiling on concurrent ingest batches, hence on database connections held by ingest.
INGEST_MAX_CONCURRENCY = 10
INGEST_MAX_RECEIVE_COUNT = 5
DEVICE_TOPIC_FILTER = "tenant/+/device/+/+"
INGESTED_KINDS = ("telemetry", "heartbeat", "event")
# One equality per kind rather than IN: IoT SQL's IN takes an array operand, and plain OR is
# understood by every rules engine Pulse runs on, the local emulator included.
TOPIC_RULE_SQL = (
    "SELECT encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id, "
    "principal() AS principal, timestamp() AS received_at "
    f"FROM '{DEVICE_TOPIC_FILTER}' "
    "WHERE " + " OR ".join(f"topic(5) = '{kind}'" for kind in INGESTED_KINDS)
)
TELEMETRY_METRICS = ("TelemetryAccepted", "TelemetryQuarantined", "TelemetryDuplicate")


class ConnectConstruct(Construct):
    """IoT rule -> SQS ingest queue -> ``ingest`` Lambda, plus device policy and HTTPS ingest.

    The rule forwards the raw payload base64-encoded with the broker's view of topic, client id
    and principal, so the ingest function can quarantine malformed payloads with a reason and
    check topic against principal. Messages the rule cannot deliver land in ``iot_error_queue``;
    batches that keep failing land in ``dead_letter_queue``. Both are alarmed at depth > 0.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, defaults: FunctionDefaults, stream: StreamConstruct
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.ingest_queue = self._build_ingest_queue()
        self.iot_error_queue = self._build_iot_error_queue()
        self.iot_role = self._build_iot_role()
        self.topic_rule = self._build_topic_rule()
        self.ingest = self._build_ingest(stream)
        self.device_policy = self._build_device_policy()
        self.http_ingest = HttpIngestConstruct(
            self,
            "Http",
            defaults=defaults,
            database_secret=stream.database_secret,
            database_environment=stream.database_environment("pulse_ingest"),
        )
        self._build_alarms()
        self._build_dashboard_widgets()

    @property
    def device_policy_name(self) -> str:
        """Name of the IoT policy that provisioning attaches to every device certificate."""
        return self.device_policy.ref

    def _queue(
        self,
        construct_id: str,
        name: str,
        *,
        retention_period: Duration,
        visibility_timeout: Duration | None = None,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        """Every Connect queue: named per stage, SSE, TLS-only (a deny on aws:SecureTransport)."""
        return sqs.Queue(
            self,
            construct_id,
            queue_name=self._config.name(name),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=self._config.removal_policy,
            retention_period=retention_period,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=dead_letter_queue,
        )

    def _build_dead_letter_queue(self) -> sqs.Queue:
        return self._queue("IngestDeadLetterQueue", "ingest-dlq", retention_period=Duration.days(14))

    def _build_ingest_queue(self) -> sqs.Queue:
        return self._queue(
            "IngestQueue",
            "ingest",
            # AWS guidance for SQS event sources: at least six times the function timeout, so a
            # message is not redelivered while a retried batch is still running.
            visibility_timeout=Duration.seconds(6 * INGEST_TIMEOUT.to_seconds()),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=INGEST_MAX_RECEIVE_COUNT
            ),
        )

    def _build_iot_error_queue(self) -> sqs.Queue:
        return iot_rules.error_queue(
            self,
            "IotErrorQueue",
            config=self._config,
            name="iot-errors",
            reason="This queue is the IoT rule's errorAction target, i.e. already the dead-letter "
            "destination of the MQTT path; nothing consumes it automatically, it is alarmed at "
            "depth > 0 and redriven by an operator.",
        )

    def _build_iot_role(self) -> iam.Role:
        return iot_rules.rule_role(
            self,
            "IotRuleRole",
            description="Lets the Pulse device topic rule deliver into the ingest and error queues",
            queues=(self.ingest_queue, self.iot_error_queue),
        )

    def _build_topic_rule(self) -> iot.CfnTopicRule:
        return iot_rules.topic_rule(
            self,
            "DeviceMessagesRule",
            rule_name=self._config.name("device_messages", separator="_"),
            sql=TOPIC_RULE_SQL,
            description="Device telemetry, heartbeats and events into the Pulse ingest queue",
            target=self.ingest_queue,
            errors=self.iot_error_queue,
            role=self.iot_role,
        )

    def _build_ingest(self, stream: StreamConstruct) -> PulseFunction:
        ingest = PulseFunction(
            self,
            "Ingest",
            name="ingest",
            defaults=self._defaults,
            description="Validates, deduplicates and stores device telemetry batches",
            memory_size=512,
            timeout=INGEST_TIMEOUT,
            environment=stream.database_environment("pulse_ingest"),
        )
        stream.grant_database_read(ingest)
        ingest.function.add_event_source(
            event_sources.SqsEventSource(
                self.ingest_queue,
                batch_size=INGEST_BATCH_SIZE,
                max_batching_window=INGEST_BATCH_WINDOW,
                max_concurrency=INGEST_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        return ingest

    def _build_device_policy(self) -> iot.CfnPolicy:
        return iot.CfnPolicy(
            self,
            "DevicePolicy",
            policy_name=self._config.name("device"),
            policy_document=device_policy_document(self),
        )

    def _build_alarms(self) -> None:
        for queue, alarm_id, queue_name, what in (
            (self.dead_letter_queue, "IngestDeadLettersAlarm", "ingest-dlq", "ingest batches failed 5 times"),
            (
                self.iot_error_queue,
                "IotRuleErrorsAlarm",
                "iot-errors",
                "the IoT rule could not enqueue messages",
            ),
        ):
            name = self._config.name(queue_name)
            alarm = queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ).create_alarm(
                self,
                alarm_id,
                alarm_name=f"{name}-depth",
                alarm_description=f"Messages waiting in {name}: {what}. Inspect, fix, redrive.",
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            self._defaults.ops.add_alarm(alarm)

    def _build_dashboard_widgets(self) -> None:
        function = self.ingest.function
        minute = Duration.minutes(1)
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="Ingest invocations",
                left=[function.metric_invocations(period=minute), function.metric_throttles(period=minute)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Ingest errors",
                left=[
                    function.metric_errors(period=minute),
                    self.http_ingest.function.function.metric_errors(period=minute),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Ingest duration",
                left=[function.metric_duration(period=minute, statistic=stat) for stat in ("p50", "p99", "Maximum")],
                width=8,
            ),
        )
        telemetry = [self.ingest.metric(name) for name in TELEMETRY_METRICS]
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="Ingest queue depth",
                left=[self.ingest_queue.metric_approximate_number_of_messages_visible(period=minute)],
                right=[self.ingest_queue.metric_approximate_age_of_oldest_message(period=minute)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dead letters",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=minute, statistic="Maximum")
                    for queue in (self.dead_letter_queue, self.iot_error_queue)
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Telemetry (EMF)", left=telemetry, width=8),
        )
