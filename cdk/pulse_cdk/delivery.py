"""Actions plane: the delivery workflow, a Step Functions state machine started by Alert* events."""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from pulse.notify import workflow
from pulse.settings import Settings
from pulse_cdk import iot_rules
from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.identity import portal_origin
from pulse_cdk.nag import acknowledge_wildcard, default_policy
from pulse_cdk.rules import RulesConstruct
from pulse_cdk.stream import StreamConstruct

STATE_MACHINE_ENVIRONMENT = "PULSE_DELIVERY_STATE_MACHINE_ARN"  # Settings.delivery_state_machine_arn
SEALING_ENVIRONMENT = "PULSE_NOTIFY_SEALING"  # Settings.notify_sealing
SEALING_KEY_ENVIRONMENT = "PULSE_NOTIFY_KMS_KEY_ID"  # Settings.notify_kms_key_id
# Settings the senders read (pulse.settings.Settings.notify_*, portal_origin for links in messages).
EMAIL_TRANSPORT_ENVIRONMENT = "PULSE_NOTIFY_EMAIL_TRANSPORT"
EMAIL_FROM_ENVIRONMENT = "PULSE_NOTIFY_EMAIL_FROM"
SES_CONFIGURATION_SET_ENVIRONMENT = "PULSE_NOTIFY_SES_CONFIGURATION_SET"
EGRESS_ALLOW_ENVIRONMENT = "PULSE_NOTIFY_EGRESS_ALLOW_CIDRS"
PORTAL_ORIGIN_ENVIRONMENT = "PULSE_PORTAL_ORIGIN"
# pulse.platform.aws.ses.SesMailer calls sesv2 SendEmail (raw content), authorized as ses:SendEmail.
SES_SEND_ACTION = "ses:SendEmail"
# MQTT channels publish on the tenant's outbound prefix only (pulse.notify.channels.models.MqttConfig).
MQTT_PUBLISH_TOPICS = "tenant/*/out/*"
ALERT_EVENT_PREFIX = "Alert"
EVENT_SOURCE = Settings.model_fields["event_source"].default  # what the outbox publisher puts as Source
NOTIFY_TIMEOUT = Duration.seconds(60)  # under the deliver task's TimeoutSeconds (workflow.DELIVER_TIMEOUT_S)
# EMF metrics (namespace Pulse, dimension service=pulse-notify) of the notify function.
DEAD_LETTERED_METRIC = "DeliveriesDeadLettered"
DELIVERY_METRICS = ("DeliveriesDelivered", "DeliveryAttemptsFailed", DEAD_LETTERED_METRIC)


class DeliveryConstruct(Construct):
    """State machine ``pulse-<stage>-deliver`` (Standard), its ``notify`` function and the Alert* rule.

    An EventBridge rule on the Pulse bus matches ``source`` = ``pulse.alerts`` and a
    ``detail-type`` starting with ``Alert`` and starts an execution with the whole event as input;
    events the rule cannot hand over (throttled, refused) land in ``start_dead_letter_queue``.
    The definition is ``pulse.notify.workflow.definition()``, rendered as-is, with the notify
    function substituted for the route, deliver and dead-letter task resources; the retry numbers
    exist only in ``pulse.notify.retry``. Executions log every event to CloudWatch Logs and are
    traced with X-Ray.

    Channel secrets are sealed with ``channel_secrets_key`` (KMS, rotated yearly): the notify
    function may decrypt, the API (``grant_channel_secrets(seal=True)``) also encrypt.

    Senders: email goes through SES as ``config.notify_email_from`` (``ses:SendEmail`` on that
    address's and its domain's identity, and on the configuration set when one is named; without a
    From address, on every identity of the account), MQTT channels publish through iot-data on
    ``tenant/*/out/*`` (the data endpoint is looked up with ``iot:DescribeEndpoint``), and on the
    local stage senders may reach loopback (``config.notify_egress_allow_cidrs``).

    Alarms: a failed execution (routing or dead-lettering itself broke, not a receiver), any
    delivery dead-lettered, events the rule could not start, and the function's errors.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        stream: StreamConstruct,
        rules: RulesConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self.channel_secrets_key = self._build_channel_secrets_key()
        self.notify = self._build_function(stream)
        self.grant_channel_secrets(self.notify, seal=False)
        self.log_group = self._build_log_group()
        self.state_machine = self._build_state_machine()
        self.start_dead_letter_queue = iot_rules.error_queue(
            self,
            "StartDeadLetterQueue",
            config=self._config,
            name="deliver-start-dlq",
            reason="This queue is the dead-letter destination of the Alert* rule's target: it holds events "
            "EventBridge could not start an execution for, is alarmed at depth > 0 and replayed by an operator.",
        )
        self.alert_rule = self._build_alert_rule(rules.bus)
        self.failed_alarm = self._build_failed_alarm()
        self.dead_letter_alarm = self._build_dead_letter_alarm()
        self.start_failed_alarm = self._build_start_failed_alarm()
        self._build_dashboard()

    def grant_redrive(self, function: PulseFunction) -> None:
        """Let ``function`` start executions (redrive) and tell it which state machine."""
        function.function.add_environment(STATE_MACHINE_ENVIRONMENT, self.state_machine.state_machine_arn)
        self.state_machine.grant_start_execution(function.role)

    def grant_channel_secrets(self, function: PulseFunction, *, seal: bool) -> None:
        """Let ``function`` open channel secrets (and seal them when ``seal``: the API's channel admin)."""
        function.function.add_environment(SEALING_ENVIRONMENT, "kms")
        function.function.add_environment(SEALING_KEY_ENVIRONMENT, self.channel_secrets_key.key_arn)
        # Sealing calls Encrypt and Decrypt directly (no data keys): grant exactly those.
        actions = ("kms:Encrypt", "kms:Decrypt") if seal else ("kms:Decrypt",)
        self.channel_secrets_key.grant(function.role, *actions)

    def _build_channel_secrets_key(self) -> kms.Key:
        # Sealed secrets are unreadable without it: it follows the stage's removal policy like the
        # data it protects, and a deletion waits the longest window KMS allows outside dev.
        return kms.Key(
            self,
            "ChannelSecretsKey",
            description=f"Seals Pulse {self._config.stage} channel secrets (webhook signing secrets, keys, tokens)",
            enable_key_rotation=True,
            removal_policy=self._config.removal_policy,
            pending_window=Duration.days(30) if self._config.is_prod else Duration.days(7),
        )

    def _build_function(self, stream: StreamConstruct) -> PulseFunction:
        function = PulseFunction(
            self,
            "Notify",
            name="notify",
            defaults=self._defaults,
            description="Delivery workflow tasks: route an alert event, deliver one delivery, dead-letter one",
            memory_size=512,
            timeout=NOTIFY_TIMEOUT,
            environment={**stream.database_environment("pulse_ingest"), **self._sender_environment()},
        )
        stream.grant_database_read(function)
        self._grant_email(function)
        self._grant_mqtt(function)
        return function

    def _sender_environment(self) -> dict[str, str]:
        config = self._config
        environment = {EMAIL_TRANSPORT_ENVIRONMENT: "ses", PORTAL_ORIGIN_ENVIRONMENT: portal_origin(self.node)}
        if config.notify_email_from:
            environment[EMAIL_FROM_ENVIRONMENT] = config.notify_email_from
        if config.ses_configuration_set:
            environment[SES_CONFIGURATION_SET_ENVIRONMENT] = config.ses_configuration_set
        if config.notify_egress_allow_cidrs:
            environment[EGRESS_ALLOW_ENVIRONMENT] = json.dumps(list(config.notify_egress_allow_cidrs))
        return environment

    def _grant_email(self, function: PulseFunction) -> None:
        stack, config = Stack.of(self), self._config
        address = config.notify_email_address
        # SES authorizes against the verified identity: the address itself or its domain.
        names = [address, address.partition("@")[2]] if address else ["*"]
        resources = [stack.format_arn(service="ses", resource="identity", resource_name=name) for name in names]
        if config.ses_configuration_set:
            resources.append(
                stack.format_arn(
                    service="ses", resource="configuration-set", resource_name=config.ses_configuration_set
                )
            )
        function.role.add_to_policy(iam.PolicyStatement(actions=[SES_SEND_ACTION], resources=resources))
        if not address:
            acknowledge_wildcard(
                default_policy(function.role),
                "Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",
                "No From address is configured for this stage (-c pulse:notify_email_from), so the function may "
                "send as any SES identity of this account and region; SES refuses identities that are not verified.",
            )

    def _grant_mqtt(self, function: PulseFunction) -> None:
        topics = Stack.of(self).format_arn(service="iot", resource="topic", resource_name=MQTT_PUBLISH_TOPICS)
        function.role.add_to_policy(iam.PolicyStatement(actions=["iot:Publish"], resources=[topics]))
        # Its own statement (a Sid is never merged), so no other action shares its Resource '*'.
        function.role.add_to_policy(
            iam.PolicyStatement(sid="DescribeIotDataEndpoint", actions=["iot:DescribeEndpoint"], resources=["*"])
        )
        policy = default_policy(function.role)
        acknowledge_wildcard(
            policy,
            f"Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/{MQTT_PUBLISH_TOPICS}",
            "MQTT channels publish on their tenant's outbound prefix tenant/<tenant>/out/...; the tenant is only "
            "known per delivery, so the grant spans every tenant's out topics and no device topic.",
        )
        acknowledge_wildcard(
            policy,
            "Resource::*",
            "iot:DescribeEndpoint has no resource type; it only reveals the account's data endpoint "
            "(its own statement: no other action is granted on Resource '*' here).",
        )

    def _build_log_group(self) -> logs.LogGroup:
        # /aws/vendedlogs/ keeps the log group's resource policy small when CloudWatch Logs delivers to it.
        return logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{self._config.name('deliver')}",
            retention=self._config.log_retention,
            removal_policy=self._config.removal_policy,
        )

    def _build_state_machine(self) -> sfn.StateMachine:
        arn = self.notify.function.function_arn
        state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self._config.name("deliver"),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(workflow.definition_json()),
            definition_substitutions=dict.fromkeys(workflow.PLACEHOLDERS, arn),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        # The unqualified ARN only (grant_invoke would add "<arn>:*" for versions and aliases).
        state_machine.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[arn]))
        policy = state_machine.role.node.find_child("DefaultPolicy")
        acknowledge_wildcard(
            policy,
            "Resource::*",
            "Execution logging needs logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, "
            "ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups, and X-Ray "
            "tracing needs xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets; "
            "none of these supports resource-level permissions.",
        )
        return state_machine

    def _build_alert_rule(self, bus: events.IEventBus) -> events.Rule:
        rule = events.Rule(
            self,
            "AlertRule",
            rule_name=self._config.name("alert-deliveries"),
            description="Alert* events from the outbox start the delivery workflow",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=events.Match.prefix(ALERT_EVENT_PREFIX)
            ),
        )
        rule.add_target(
            events_targets.SfnStateMachine(
                self.state_machine,
                dead_letter_queue=self.start_dead_letter_queue,
                retry_attempts=185,  # EventBridge's maximum: StartExecution throttling is transient
                max_event_age=Duration.hours(24),
            )
        )
        return rule

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, name: str, description: str) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_name=self._config.name(name),
            alarm_description=description,
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_failed_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "ExecutionsFailedAlarm",
            self.state_machine.metric_failed(period=Duration.minutes(1), statistic="Sum"),
            "deliver-executions-failed",
            "A delivery execution failed: routing or dead-lettering broke after its retries (receivers failing "
            "end in dead letter, not here). Alert notifications of that event may be missing; see the execution.",
        )

    def _build_dead_letter_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "DeadLetteredAlarm",
            self.notify.metric(DEAD_LETTERED_METRIC),
            "deliveries-dead-lettered",
            "A delivery was dead-lettered (receiver refused it, bad channel configuration, or 5 attempts failed). "
            "The deliveries table keeps the error; redrive from the portal or the API once the receiver is fixed.",
        )

    def _build_start_failed_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "StartDeadLetterAlarm",
            self.start_dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            "deliver-start-dlq-depth",
            "Alert events EventBridge could not hand to the delivery workflow wait in the start dead-letter "
            "queue: no notification went out for them. Replay them onto the bus.",
        )

    def _build_dashboard(self) -> None:
        minute = Duration.minutes(1)
        machine = self.state_machine
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="Delivery executions",
                left=[
                    machine.metric_started(period=minute, statistic="Sum"),
                    machine.metric_succeeded(period=minute, statistic="Sum"),
                    machine.metric_failed(period=minute, statistic="Sum"),
                ],
                right=[machine.metric_time(period=minute, statistic="p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Deliveries",
                left=[self.notify.metric(name) for name in DELIVERY_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Notify function",
                left=[self.notify.function.metric_errors(period=minute)],
                right=[
                    self.notify.function.metric_duration(period=minute, statistic="p99"),
                    self.start_dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=minute, statistic="Maximum"
                    ),
                ],
                width=8,
            ),
        )
