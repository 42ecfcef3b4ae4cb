"""MQTT: the event JSON published through the IoT data plane under the tenant's own ``out`` prefix."""

from __future__ import annotations

import time

import orjson

from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import MqttConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult, clip
from pulse.platform.aws.iot_data import IotDataError

MAX_PAYLOAD_BYTES = 128 * 1024  # IoT Core message size limit


def send_mqtt(config: MqttConfig, notification: Notification, ports: SenderPorts) -> SendResult:
    started = time.perf_counter()
    try:
        config.check_tenant(notification.tenant_id)
    except ValueError as exc:
        return SendResult("permanent", None, 0.0, str(exc))
    payload = orjson.dumps(notification.body(ports.portal_url))
    if len(payload) > MAX_PAYLOAD_BYTES:
        return SendResult("permanent", None, 0.0, f"message of {len(payload)} bytes exceeds the MQTT limit")
    try:
        ports.mqtt.publish_payload(config.topic, payload, qos=config.qos)
    except IotDataError as exc:
        return SendResult("retryable" if exc.retryable else "permanent", None, _ms(started), clip(exc.detail))
    return SendResult("delivered", None, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
