"""The IoT policy document attached to every device certificate.

A certificate may act only as its own thing and only on its own topics. The tenant and device
come from the thing's attributes (set at provisioning), never from what the device sends, so a
stolen certificate cannot publish as another device or read another tenant's commands. The
ingest path re-checks topic against principal as a second line.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from constructs import Construct

THING_NAME = "${iot:Connection.Thing.ThingName}"
TENANT_ID = "${iot:Connection.Thing.Attributes[tenant_id]}"
DEVICE_ID = "${iot:Connection.Thing.Attributes[device_id]}"
# Everything under the device's own prefix: telemetry, heartbeat, event, twin/*, commands/*.
DEVICE_TOPICS = f"tenant/{TENANT_ID}/device/{DEVICE_ID}/*"


def device_policy_document(scope: Construct) -> dict[str, Any]:
    """Policy statements for ``AWS::IoT::Policy``; ARNs are in the stack's partition, region, account."""

    def iot_arn(resource: str, resource_name: str) -> str:
        return Stack.of(scope).format_arn(
            service="iot",
            resource=resource,
            resource_name=resource_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsOwnThing",
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": iot_arn("client", THING_NAME),
                # The certificate must be attached to the thing named by the client id; without
                # this, thing policy variables would not be bound.
                "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            },
            {
                "Sid": "PublishOwnTopics",
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": iot_arn("topic", DEVICE_TOPICS),
            },
            {
                "Sid": "SubscribeOwnTopics",
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": iot_arn("topicfilter", DEVICE_TOPICS),
            },
            {
                "Sid": "ReceiveOwnTopics",
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": iot_arn("topic", DEVICE_TOPICS),
            },
        ],
    }
