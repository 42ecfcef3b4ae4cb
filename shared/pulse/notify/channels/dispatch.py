"""``send``: one delivery attempt of one notification over one channel, classified.

The delivery service calls this for every attempt and decides from ``SendResult.status`` whether to
retry (``retryable``), dead-letter (``permanent``) or record success (``delivered``). ``send`` never
raises for a receiver's failure or a bad configuration; it does raise for programming errors.
"""

from __future__ import annotations

from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import (
    ChannelConfig,
    EmailConfig,
    MqttConfig,
    PagerDutyConfig,
    SlackConfig,
    SmsConfig,
    SnmpConfig,
    TeamsConfig,
    WebhookConfig,
)
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult
from pulse.notify.channels.secrets import (
    ChannelSecrets,
    PagerDutySecrets,
    SlackSecrets,
    SnmpSecrets,
    TeamsSecrets,
    WebhookSecrets,
)
from pulse.notify.channels.senders.chat import send_slack, send_teams
from pulse.notify.channels.senders.email import send_email
from pulse.notify.channels.senders.mqtt import send_mqtt
from pulse.notify.channels.senders.pagerduty import send_pagerduty
from pulse.notify.channels.senders.sms import send_sms
from pulse.notify.channels.senders.webhook import send_webhook
from pulse.observability import logger


def send(
    channel_type_config: ChannelConfig,
    secrets: ChannelSecrets,
    notification: Notification,
    *,
    ports: SenderPorts,
) -> SendResult:
    config = channel_type_config
    if config.type != secrets.type:
        return SendResult(
            "permanent", None, 0.0, f"secrets of a {secrets.type} channel do not fit a {config.type} channel"
        )
    result = _send(config, secrets, notification, ports)
    logger.info(
        "notification attempt",
        extra={
            "channel_type": config.type.value,
            "channel_id": notification.channel_id,
            "event_id": notification.event_id,
            "status": result.status,
            "response_code": result.response_code,
            "latency_ms": result.latency_ms,
        },
    )
    return result


def _send(config: ChannelConfig, secrets: ChannelSecrets, notification: Notification, ports: SenderPorts) -> SendResult:
    if isinstance(config, WebhookConfig) and isinstance(secrets, WebhookSecrets):
        return send_webhook(config, secrets, notification, ports)
    if isinstance(config, EmailConfig):
        return send_email(config, notification, ports)
    if isinstance(config, SnmpConfig) and isinstance(secrets, SnmpSecrets):
        from pulse.notify.channels.senders.snmp import send_snmp  # pysnmp loads only for SNMP channels

        return send_snmp(config, secrets, notification, ports)
    if isinstance(config, MqttConfig):
        return send_mqtt(config, notification, ports)
    if isinstance(config, SlackConfig) and isinstance(secrets, SlackSecrets):
        return send_slack(config, secrets, notification, ports)
    if isinstance(config, TeamsConfig) and isinstance(secrets, TeamsSecrets):
        return send_teams(config, secrets, notification, ports)
    if isinstance(config, PagerDutyConfig) and isinstance(secrets, PagerDutySecrets):
        return send_pagerduty(config, secrets, notification, ports)
    if isinstance(config, SmsConfig):
        return send_sms(config, notification, ports)
    raise TypeError(f"no sender for {type(config).__name__} with {type(secrets).__name__}")
