"""``PulseStack``: one stack per stage, composed of one construct per plane."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from pulse_cdk.api import ApiConstruct
from pulse_cdk.config import StageConfig
from pulse_cdk.connect import ConnectConstruct
from pulse_cdk.delivery import DeliveryConstruct
from pulse_cdk.escalation import EscalationConstruct
from pulse_cdk.function import FunctionDefaults
from pulse_cdk.identity import IdentityConstruct, portal_origin
from pulse_cdk.oncall import OncallConstruct
from pulse_cdk.ops import OpsConstruct
from pulse_cdk.packaging import LambdaPackaging
from pulse_cdk.portal import PortalConstruct
from pulse_cdk.rules import RulesConstruct
from pulse_cdk.stream import StreamConstruct
from pulse_cdk.twin import TwinConstruct


class PulseStack(Stack):
    """Wires the planes together; resources themselves are built inside the constructs.

    Order matters only through dependencies: Ops first (everyone reports alarms to it), then
    the shared Lambda packaging, Stream (the database secret others are granted), Connect, Twin,
    Identity (the user pool the API's authorizer trusts), Api, Portal (CloudFront in front of the SPA and
    the API; the portal client accepts its domain as a callback), Rules (functions that commit alert
    events (ingest, the API, twin and on-call) may start its outbox publisher right after their commit), Delivery
    (its rule listens on the Rules bus; the API may start it for a redrive), Escalation (starts
    Delivery executions for its pages).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        Tags.of(self).add("project", "pulse")
        Tags.of(self).add("stage", config.stage)

        self.ops = OpsConstruct(self, "Ops", config=config)
        self.packaging = LambdaPackaging(self, "Packaging", config=config)
        defaults = FunctionDefaults(config=config, packaging=self.packaging, ops=self.ops)
        self.stream = StreamConstruct(self, "Stream", defaults=defaults)
        self.connect = ConnectConstruct(self, "Connect", defaults=defaults, stream=self.stream)
        self.twin = TwinConstruct(self, "Twin", defaults=defaults, stream=self.stream)
        self.identity = IdentityConstruct(self, "Identity", config=config, portal_origin=portal_origin(self.node))
        self.api = ApiConstruct(
            self,
            "Api",
            defaults=defaults,
            stream=self.stream,
            identity=self.identity,
            device_policy_name=self.connect.device_policy_name,
        )
        self.portal = PortalConstruct(
            self,
            "Portal",
            config=config,
            identity=self.identity,
            api=self.api,
            dist=config.repo_root / "frontend" / "dist",
        )
        self.rules = RulesConstruct(self, "Rules", defaults=defaults, stream=self.stream)
        self.oncall = OncallConstruct(self, "Oncall", defaults=defaults, stream=self.stream)
        for publisher in (
            self.connect.ingest,
            self.connect.http_ingest.function,
            self.api.function,
            self.twin.function,
            self.oncall.function,
        ):
            self.rules.grant_publish(publisher)
        self.delivery = DeliveryConstruct(self, "Delivery", defaults=defaults, stream=self.stream, rules=self.rules)
        self.delivery.grant_redrive(self.api.function)
        self.escalation = EscalationConstruct(
            self, "Escalation", defaults=defaults, stream=self.stream, delivery=self.delivery
        )
        self.escalation.grant_sms(self.api.function)  # contact-method send-tests
        self.rules.grant_publish(self.escalation.function)
        self.delivery.grant_channel_secrets(self.api.function, seal=True)
        self.ops.add_alarm_overview()

        self._build_outputs()

    def _build_outputs(self) -> None:
        """Values the local launcher, the simulator and DevOps look up after a deploy."""
        outputs = {
            "DevicePolicyName": self.connect.device_policy_name,
            "DeviceHttpApiUrl": self.connect.http_ingest.url,
            "IngestQueueUrl": self.connect.ingest_queue.queue_url,
            "DatabaseSecretArn": self.stream.database_secret.secret_arn,
            "AlarmTopicArn": self.ops.alarm_topic.topic_arn,
            "UserPoolId": self.identity.user_pool.user_pool_id,
            "UserPoolClientId": self.identity.portal_client.user_pool_client_id,
            "HostedUiDomain": self.identity.hosted_ui_url,
            "ApiUrl": self.api.url,
            "PortalUrl": self.portal.origin,
            "PortalBucketName": self.portal.bucket.bucket_name,
            "PortalDistributionId": self.portal.distribution.distribution_id,
            "EventBusName": self.rules.bus.event_bus_name,
            "DeliveryStateMachineArn": self.delivery.state_machine.state_machine_arn,
        }
        for output_id, value in outputs.items():
            CfnOutput(self, output_id, value=value)
