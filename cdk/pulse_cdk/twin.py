"""State plane: device twin messages from IoT Core into the twin Lambda, and the convergence check."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.nag import acknowledge, acknowledge_wildcard, default_policy
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


class TwinConstruct(Construct):
    """IoT rules ``.../twin/{update,get}`` and ``.../commands/+/ack`` -> ``twin`` Lambda.

    The rules forward the raw payload base64-encoded with the broker's client id, so the function
    answers malformed JSON with ``rejected`` 400 and re-checks the client against the device. The
    function may publish only on twin topics (its replies). Invocations a rule cannot make land in
    ``iot_error_queue``. EventBridge Scheduler runs the convergence check and command expiry every
    minute.
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
        self.topic_rule = self._build_rule("TwinRequestsRule", "twin_requests", TWIN_RULE_SQL, "twin/update and get")
        self.command_ack_rule = self._build_rule(
            "CommandAcksRule", "command_acks", COMMAND_ACK_RULE_SQL, "command acks"
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
        self._acknowledge_scheduler(stream.scheduler_role)

    def _build_function(self, stream: StreamConstruct) -> PulseFunction:
        twin = PulseFunction(
            self,
            "Twin",
            name="twin",
            defaults=self._defaults,
            description="Answers device twin/update and twin/get; raises TwinNotConverged on schedule",
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
        queue = sqs.Queue(
            self,
            "IotErrorQueue",
            queue_name=self._config.name("twin-iot-errors"),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=self._config.removal_policy,
            retention_period=Duration.days(14),
        )
        acknowledge(
            queue.node.default_child,
            "AwsSolutions-SQS3",
            "This queue is the twin rule's errorAction target, i.e. already the dead-letter destination "
            "of the twin path; an operator inspects and redrives it.",
        )
        return queue

    def _build_iot_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "IotRuleRole",
            assumed_by=iam.ServicePrincipal("iot.amazonaws.com"),
            description="Lets the Pulse twin rule report failed invocations into its error queue",
        )
        self.iot_error_queue.grant_send_messages(role)
        return role

    def _build_rule(self, construct_id: str, name: str, sql: str, what: str) -> iot.CfnTopicRule:
        rule = iot.CfnTopicRule(
            self,
            construct_id,
            rule_name=self._config.name(name, separator="_"),
            topic_rule_payload=iot.CfnTopicRule.TopicRulePayloadProperty(
                sql=sql,
                aws_iot_sql_version="2016-03-23",
                description=f"Device {what} into the Pulse twin function",
                rule_disabled=False,
                actions=[
                    iot.CfnTopicRule.ActionProperty(
                        lambda_=iot.CfnTopicRule.LambdaActionProperty(function_arn=self.function.function.function_arn)
                    )
                ],
                error_action=iot.CfnTopicRule.ActionProperty(
                    sqs=iot.CfnTopicRule.SqsActionProperty(
                        queue_url=self.iot_error_queue.queue_url, role_arn=self.iot_role.role_arn, use_base64=False
                    )
                ),
            ),
        )
        rule.node.add_dependency(self.iot_role)
        self.function.function.add_permission(
            f"InvokeFrom{construct_id}",
            principal=iam.ServicePrincipal("iot.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=rule.attr_arn,
            source_account=Stack.of(self).account,
        )
        return rule

    def _build_schedule(
        self, role: iam.Role, construct_id: str, name: str, payload: dict[str, str], description: str
    ) -> scheduler.Schedule:
        return scheduler.Schedule(
            self,
            construct_id,
            schedule_name=self._config.name(name),
            description=description,
            schedule=scheduler.ScheduleExpression.rate(CONVERGENCE_RATE),
            target=scheduler_targets.LambdaInvoke(
                self.function.function,
                input=scheduler.ScheduleTargetInput.from_object(payload),
                # Each due item is claimed once; a missed minute is caught up by the next run.
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
                role=role,
            ),
        )

    def _acknowledge_scheduler(self, role: iam.Role) -> None:
        function_id = Stack.of(self).get_logical_id(cast(CfnElement, self.function.function.node.default_child))
        acknowledge_wildcard(
            default_policy(role),
            f"Resource::<{function_id}.Arn>:*",
            "grant_invoke also allows the function's qualified ARNs (versions, aliases); the wildcard "
            "only spans qualifiers of this one function.",
        )
