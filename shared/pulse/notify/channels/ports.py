"""What senders need from the outside world, injectable; ``SenderPorts.from_settings`` gives production.

- ``http_client(timeout_s)``: an ``httpx.Client``; the default follows no redirects and ignores proxy
  variables (a proxy would connect by name and defeat the address pinning of ``ssrf``).
- ``resolver``: host -> addresses (the system resolver); ``egress_allow``: networks the operator admits.
- ``mailer``: SES (AWS) or SMTP (self-hosting); ``mqtt``: the IoT data plane publisher.
- ``clock``: now, aware; ``portal_url``: where links in messages point.

AWS clients are built on first use, so a function that never sends email does not pay for SES.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

import httpx

from pulse.notify.channels.egress import http_client as default_http_client
from pulse.notify.channels.ssrf import IPNetwork, Resolver, parse_allow_list, resolve_host
from pulse.settings import Settings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Raises ``EmailRejected`` (permanent) or ``EmailUnavailable`` (retryable)."""


class SmsSender(Protocol):
    def send_sms(self, phone_number: str, text: str) -> str:
        """Raises ``SmsRejected`` (permanent) or ``SmsUnavailable`` (retryable); returns a message id."""


class MqttPublisher(Protocol):
    def publish_payload(self, topic: str, payload: bytes, *, qos: int) -> None:
        """Raises ``IotDataError`` (``retryable`` tells whether a later attempt may succeed)."""


def _now() -> datetime:
    return datetime.now(UTC)


class _LazyMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mailer: Mailer | None = None

    def send(self, message: EmailMessage) -> None:
        if self._mailer is None:
            self._mailer = build_mailer(self._settings)
        self._mailer.send(message)


class _LazyMqtt:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._publisher: MqttPublisher | None = None

    def publish_payload(self, topic: str, payload: bytes, *, qos: int) -> None:
        if self._publisher is None:
            self._publisher = build_mqtt_publisher(self._settings)
        self._publisher.publish_payload(topic, payload, qos=qos)


class _LazySms:
    """SNS, built on the first text message (a function that never sends one never makes the client)."""

    def __init__(self) -> None:
        self._sender: SmsSender | None = None

    def send_sms(self, phone_number: str, text: str) -> str:
        if self._sender is None:
            import boto3  # the adapter's SDK, imported only when SMS is used

            from pulse.platform.aws.sns import SnsSmsPublisher

            self._sender = SnsSmsPublisher(boto3.client("sns"), sender_id="Pulse")
        return self._sender.send_sms(phone_number, text)


def build_mailer(settings: Settings) -> Mailer:
    if settings.notify_email_transport == "smtp":
        from pulse.notify.channels.senders.smtp import SmtpMailer, SmtpSettings

        return SmtpMailer(SmtpSettings.from_settings(settings))
    import boto3  # the adapter's SDK, imported only when SES is used

    from pulse.platform.aws.ses import SesMailer

    return SesMailer(boto3.client("sesv2"), configuration_set=settings.notify_ses_configuration_set or None)


def build_mqtt_publisher(settings: Settings) -> MqttPublisher:
    import boto3  # the adapter's SDK, imported only when MQTT channels are used

    from pulse.platform.aws.iot_data import IotDataPublisher

    data_url = settings.iot_data_url
    if not data_url:
        host = (
            settings.iot_endpoint
            or boto3.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        )
        data_url = f"https://{host}"
    return IotDataPublisher(boto3.client("iot-data", endpoint_url=data_url))


@dataclass(frozen=True, slots=True)
class SenderPorts:
    mailer: Mailer
    mqtt: MqttPublisher
    email_from: str
    http_client: Callable[[float], httpx.Client] = default_http_client
    resolver: Resolver = resolve_host
    egress_allow: Sequence[IPNetwork] = field(default_factory=tuple)
    clock: Callable[[], datetime] = _now
    portal_url: str = ""
    sms: SmsSender = field(default_factory=_LazySms)

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderPorts:
        return cls(
            mailer=_LazyMailer(settings),
            mqtt=_LazyMqtt(settings),
            email_from=settings.notify_email_from,
            egress_allow=parse_allow_list(settings.notify_egress_allow_cidrs),
            portal_url=settings.portal_origin,
        )
