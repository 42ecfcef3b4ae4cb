"""Ops plane: the operators' dashboard and the alarm topic every other construct reports to."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from pulse_cdk.config import StageConfig


class OpsConstruct(Construct):
    """CloudWatch dashboard ``Pulse-<stage>`` and the SNS topic operators subscribe to.

    Planes do not build their own dashboards or topics: they hand widgets to ``add_widgets`` and
    alarms to ``add_alarm``, so operators find everything in one place and every alarm pages
    through the same (encrypted, TLS-only) topic.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.alarms: list[cloudwatch.IAlarm] = []
        self.alarm_key = self._build_alarm_key()
        self.alarm_topic = self._build_alarm_topic()
        self.dashboard = self._build_dashboard()

    def add_widgets(self, *widgets: cloudwatch.IWidget) -> None:
        """Append one dashboard row."""
        self.dashboard.add_widgets(*widgets)

    def add_alarm(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Page operators when ``alarm`` fires and tell them when it clears."""
        action = cloudwatch_actions.SnsAction(self.alarm_topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)
        return alarm

    def add_alarm_overview(self) -> None:
        """Add one status row with every alarm registered so far; the stack calls it last."""
        if self.alarms:
            self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24))

    def _build_alarm_key(self) -> kms.Key:
        # A customer managed key because CloudWatch cannot publish to a topic encrypted with the
        # AWS managed SNS key: the key policy below is what lets alarms through.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the Pulse {self._config.stage} alarm topic",
            enable_key_rotation=True,
            removal_policy=self._config.removal_policy,
            pending_window=Duration.days(7) if not self._config.is_prod else Duration.days(30),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )
        return key

    def _build_alarm_topic(self) -> sns.Topic:
        return sns.Topic(
            self,
            "AlarmTopic",
            topic_name=self._config.name("alarms"),
            display_name=f"Pulse {self._config.stage} alarms",
            master_key=self.alarm_key,
            enforce_ssl=True,
        )

    def _build_dashboard(self) -> cloudwatch.Dashboard:
        return cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"Pulse-{self._config.stage}",
            default_interval=Duration.hours(3),
        )
