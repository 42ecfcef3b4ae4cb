"""Webhook: the event as JSON, signed so the receiver can check origin, integrity and freshness.

Headers: ``X-Pulse-Timestamp`` (unix seconds), ``X-Pulse-Signature`` = ``v1=<hex>`` with
``HMAC-SHA256(secret, f"{timestamp}.{body}")`` (during a secret rotation a second ``v1=`` value
made with the previous secret follows, comma-separated), ``Idempotency-Key`` and
``X-Pulse-Event``. Receivers accept a request when any ``v1`` value matches a secret they hold,
refuse timestamps older than five minutes and remember (timestamp, signature) pairs they saw.
"""

from __future__ import annotations

import hashlib
import hmac

import orjson

from pulse.notify.channels.egress import post_json
from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import WebhookConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult
from pulse.notify.channels.secrets import WebhookSecrets

SIGNATURE_HEADER = "X-Pulse-Signature"
TIMESTAMP_HEADER = "X-Pulse-Timestamp"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 over ``{timestamp}.{body}``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(
    secrets: WebhookSecrets, body: bytes, notification: Notification, ports: SenderPorts
) -> dict[str, str]:
    now = ports.clock()
    timestamp = int(now.timestamp())
    signatures = [signature(key, timestamp, body) for key in secrets.signing_keys(now)]
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: ",".join(signatures),
        "Idempotency-Key": notification.idempotency_key,
        "X-Pulse-Event": notification.event_name,
    }


def send_webhook(
    config: WebhookConfig, secrets: WebhookSecrets, notification: Notification, ports: SenderPorts
) -> SendResult:
    body = orjson.dumps(notification.body(ports.portal_url))
    headers = signed_headers(secrets, body, notification, ports)
    return post_json(config.url, body, headers=headers, timeout_s=config.timeout_s, ports=ports)
