"""State plane: device twin requests, command acks and presence events from IoT Core into the twin
Lambda, and its scheduled tasks (convergence check, command expiry, connectivity sweep)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse_cdk import iot_rules
from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.nag import acknowledge_wildcard, default_policy
from pulse_cdk.schedules import invoke_on_schedule
from pulse_cdk.stream import StreamConstruct

TWIN_TOPIC_FILTER = "tenant/+/device/+/twin/+"
# Only device requests (twin/update, twin/get); the replies Pulse publishes on twin/... must not loop.
TWIN_RULE_SQL = (
    "SELECT encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id, "
    "principal() AS principal, timestamp() AS received_at "
    f"FROM '{TWIN_TOPIC_FILTER}' WHERE topic(6) = 'update' OR topic(6) = 'get'"
)
COMMAND_ACK_RULE_SQL = (
    "SELECT encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id, "
    "principal() AS principal, timestamp() AS received_at FROM 'tenant/+/device/+/commands/+/ack'"
)
TWIN_PUBLISH_TOPICS = "tenant/*/device/*/twin/*"
# Publishing commands and portal deltas is the API function's: it needs iot:Publish on
# tenant/*/device/*/commands and tenant/*/device/*/twin/delta (granted in ApiConstruct).
CONVERGENCE_RATE = Duration.minutes(1)
CONVERGENCE_INPUT = {"task": "find_unconverged"}
COMMAND_EXPIRY_INPUT = {"task": "expire_commands"}
CONNECTIVITY_SWEEP_INPUT = {"task": "sweep_connectivity"}
# AWS IoT lifecycle events: $aws/events/presence/{connected|disconnected}/{clientId}. The event is
# forwarded as IoT Core publishes it (JSON, not base64: IoT Core writes it, not a device).
PRESENCE_TOPIC_FILTER = "$aws/events/presence/+/+"
PRESENCE_RULE_SQL = f"SELECT *, timestamp() AS received_at FROM '{PRESENCE_TOPIC_FILTER}'"


class TwinConstruct(Construct):
    """IoT rules ``.../twin/{update,get}``, ``.../commands/+/ack`` and presence -> ``twin`` Lambda.

    The device rules forward the raw payload base64-encoded with the broker's client id, so the
    function answers malformed JSON with ``rejected`` 400 and re-checks the client against the
    device. The function may publish only on twin topics (its replies). Invocations a rule cannot
    make land in ``iot_error_queue``. EventBridge Scheduler runs the convergence check, command
    expiry and the connectivity sweep every minute.

    Presence contract (``presence_rule``, ``$aws/events/presence/+/+``): the function receives the
    AWS IoT lifecycle event as IoT Core publishes it, plus the rule's arrival time::

        {"clientId": "<thing name>", "timestamp": <ms since epoch>,
         "eventType": "connected" | "disconnected", "sessionIdentifier": "...",
         "principalIdentifier": "...", "versionNumber": <int>,
         "disconnectReason": "...",   # disconnected only
         "received_at": <ms since epoch>}   # other fields AWS adds pass through unchanged

    ``eventType`` tells it apart from the device rules (``payload_b64``) and the schedules
    (``task``). Events may arrive late, twice or out of order: a disconnect carries the
    ``versionNumber`` of the connect it ends and a later connection of the same client id a higher
    one, so (``versionNumber``, connected before disconnected) orders them. ministack 1.5.33
    publishes these events and runs rules on them as AWS does (measured: connect, clean disconnect,
    dropped socket -> ``CONNECTION_LOST``), so the local stack needs no stand-in.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        stream: StreamConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self.function = self._build_function(stream)
        self.iot_error_queue = self._build_iot_error_queue()
        self.iot_role = self._build_iot_role()
        self.iot_errors_alarm = self._build_iot_errors_alarm()
        self.topic_rule = self._build_rule(
            "TwinRequestsRule", "twin_requests", TWIN_RULE_SQL, "Device twin/update and get"
        )
        self.command_ack_rule = self._build_rule(
            "CommandAcksRule", "command_acks", COMMAND_ACK_RULE_SQL, "Command acks"
        )
        self.presence_rule = self._build_rule(
            "PresenceRule", "device_presence", PRESENCE_RULE_SQL, "IoT lifecycle connected/disconnected events"
        )
        self.convergence_schedule = self._build_schedule(
            stream.scheduler_role,
            "ConvergenceSchedule",
            "twin-convergence",
            CONVERGENCE_INPUT,
            "Raises TwinNotConverged for desired changes past their deadline",
        )
        self.command_expiry_schedule = self._build_schedule(
            stream.scheduler_role,
            "CommandExpirySchedule",
            "command-expiry",
            COMMAND_EXPIRY_INPUT,
            "Ends open commands past their TTL as expired (CommandExpired)",
        )
        self.connectivity_sweep_schedule = self._build_schedule(
            stream.scheduler_role,
            "ConnectivitySweepSchedule",
            "connectivity-sweep",
            CONNECTIVITY_SWEEP_INPUT,
            "Reconciles device connectivity that presence events missed",
        )

    def _build_function(self, stream: StreamConstruct) -> PulseFunction:
        twin = PulseFunction(
            self,
            "Twin",
            name="twin",
            defaults=self._defaults,
            description="Device twin, command acks and presence; scheduled convergence, expiry, connectivity",
            memory_size=512,
            timeout=Duration.seconds(30),
            environment=stream.database_environment("pulse_app"),
        )
        stream.grant_database_read(twin)
        stack = Stack.of(self)
        topics = stack.format_arn(service="iot", resource="topic", resource_name=TWIN_PUBLISH_TOPICS)
        twin.role.add_to_policy(iam.PolicyStatement(actions=["iot:Publish"], resources=[topics]))
        # Its own statement (a Sid is never merged), so no other action shares its Resource '*'.
        twin.role.add_to_policy(
            iam.PolicyStatement(sid="DescribeIotDataEndpoint", actions=["iot:DescribeEndpoint"], resources=["*"])
        )
        acknowledge_wildcard(
            default_policy(twin.role),
            f"Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/{TWIN_PUBLISH_TOPICS}",
            "Replies go to the requesting device's own twin topics; tenant and device are only known per "
            "message, so the grant spans every device's twin topics and nothing else.",
        )
        acknowledge_wildcard(
            default_policy(twin.role),
            "Resource::*",
            "iot:DescribeEndpoint has no resource type; it only reveals the account's data endpoint.",
        )
        return twin

    def _build_iot_error_queue(self) -> sqs.Queue:
        return iot_rules.error_queue(
            self,
            "IotErrorQueue",
            config=self._config,
            name="twin-iot-errors",
            reason="This queue is the twin rules' errorAction target, i.e. already the dead-letter "
            "destination of the twin path; an operator inspects and redrives it.",
        )

    def _build_iot_role(self) -> iam.Role:
        return iot_rules.rule_role(
            self,
            "IotRuleRole",
            description="Lets the Pulse twin rules report failed invocations into their error queue",
            queues=(self.iot_error_queue,),
        )

    def _build_iot_errors_alarm(self) -> cloudwatch.Alarm:
        name = self._config.name("twin-iot-errors")
        alarm = self.iot_error_queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        ).create_alarm(
            self,
            "IotRuleErrorsAlarm",
            alarm_name=f"{name}-depth",
            alarm_description=f"Messages waiting in {name}: a twin, ack or presence rule could not invoke "
            "the twin function. Inspect, fix, redrive.",
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_rule(self, construct_id: str, name: str, sql: str, what: str) -> iot.CfnTopicRule:
        return iot_rules.topic_rule(
            self,
            construct_id,
            rule_name=self._config.name(name, separator="_"),
            sql=sql,
            description=f"{what} into the Pulse twin function",
            target=self.function.function,
            errors=self.iot_error_queue,
            role=self.iot_role,
        )

    def _build_schedule(
        self, role: iam.Role, construct_id: str, name: str, payload: dict[str, str], description: str
    ) -> scheduler.Schedule:
        # Each due item is claimed once; a missed minute is caught up by the next run.
        return invoke_on_schedule(
            self,
            construct_id,
            config=self._config,
            role=role,
            function=self.function,
            name=name,
            payload=payload,
            rate=CONVERGENCE_RATE,
            description=description,
        )
