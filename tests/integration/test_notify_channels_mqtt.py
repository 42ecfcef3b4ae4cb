"""MQTT channel: the event JSON published through the IoT data plane (moto iot-data records what was
published), only under the channel owner's tenant/{tenant}/out/ prefix, with the configured QoS."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto.backends import get_backend

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, SenderPorts, send
from pulse.platform.aws.iot_data import IotDataPublisher
from tests.notify_receivers import alert_event_detail

SECRETS = CHANNEL_SECRETS.validate_python({"type": "mqtt"})


def ports(publisher: Any) -> SenderPorts:
    return SenderPorts(mailer=None, mqtt=publisher, email_from="")  # type: ignore[arg-type]


def opened(tenant_id: str = "acme") -> Notification:
    return Notification.from_event(alert_event_detail(tenant_id=tenant_id), "ch-mqtt")


def test_event_is_published_under_the_tenant_out_prefix(aws: None) -> None:
    client = boto3.client("iot-data", region_name="eu-west-1")
    config = CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": "tenant/acme/out/alerts", "qos": 1})

    result = send(config, SECRETS, opened(), ports=ports(IotDataPublisher(client)))

    assert result.status == "delivered"
    [(topic, payload)] = get_backend("iot-data")["123456789012"]["eu-west-1"].published_payloads
    assert topic == "tenant/acme/out/alerts"
    document = json.loads(payload)
    assert (document["type"], document["idempotency_key"], document["alert"]["device_id"]) == (
        "AlertOpened",
        "42:ch-mqtt",
        "dev-1",
    )


def test_publish_carries_the_configured_qos() -> None:
    client = boto3.client("iot-data", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    config = CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": "tenant/acme/out/noc", "qos": 0})
    with Stubber(client) as stub:
        stub.add_response(
            "publish",
            {},
            {"topic": "tenant/acme/out/noc", "qos": 0, "payload": ANY, "contentType": "application/json"},
        )
        result = send(config, SECRETS, opened(), ports=ports(IotDataPublisher(client)))
        stub.assert_no_pending_responses()

    assert result.status == "delivered"


def test_topic_of_another_tenant_is_refused_without_publishing(aws: None) -> None:
    client = boto3.client("iot-data", region_name="eu-west-1")
    config = CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": "tenant/globex/out/alerts"})

    result = send(config, SECRETS, opened("acme"), ports=ports(IotDataPublisher(client)))

    assert (result.status, result.error) == ("permanent", "MQTT topic must start with tenant/acme/out/")
    assert get_backend("iot-data")["123456789012"]["eu-west-1"].published_payloads == []


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", "retryable"), ("UnauthorizedException", "permanent")]
)
def test_data_plane_refusals_are_classified(code: str, status: str) -> None:
    client = boto3.client("iot-data", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    config = CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": "tenant/acme/out/alerts"})
    with Stubber(client) as stub:
        stub.add_client_error("publish", service_error_code=code, http_status_code=429 if "Thrott" in code else 401)
        result = send(config, SECRETS, opened(), ports=ports(IotDataPublisher(client)))

    assert result.status == status
    assert code in result.error


def test_wildcards_and_foreign_prefixes_are_refused_at_configuration() -> None:
    for topic, message in [
        ("tenant/acme/out/+", "wildcards"),
        ("tenant/acme/device/dev-1/commands", "tenant/{tenant_id}/out/"),
        ("tenant/acme/out", "tenant/{tenant_id}/out/"),
        ("tenant/acme/out/a/b/c/d/e/f", "at most 7"),
    ]:
        with pytest.raises(ValueError, match=message.replace("+", r"\+").replace("{", r"\{").replace("}", r"\}")):
            CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": topic})
    with pytest.raises(ValueError, match="qos"):
        CHANNEL_CONFIG.validate_python({"type": "mqtt", "topic": "tenant/acme/out/a", "qos": 2})
