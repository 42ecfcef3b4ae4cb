"""Messages as they arrive, before validation: from the IoT rule through SQS, or over HTTP."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson

Source = Literal["mqtt", "http"]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One device message and what the transport says about its sender."""

    message_id: str  # SQS message id, or the index within an HTTP request
    topic: str
    payload: bytes
    source: Source
    received_at: datetime
    client_id: str | None = None  # MQTT client id; the IoT policy makes it the thing name
    token: str | None = None  # HTTP bearer device token


class RecordError(ValueError):
    """An SQS record that the IoT rule did not shape (misconfiguration, or a hand-sent message)."""


def inbound_from_rule_record(message_id: str, body: str, *, fallback_received_at: datetime) -> InboundMessage:
    """Decodes the body the IoT topic rule writes to SQS.

    The rule selects ``encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id,
    principal() AS principal, timestamp() AS received_at`` so that a payload that is not JSON still
    arrives intact and can be quarantined as malformed.
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"SQS body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("topic"), str):
        raise RecordError("SQS body lacks the topic the IoT rule adds")
    encoded = doc.get("payload_b64")
    if not isinstance(encoded, str):
        raise RecordError("SQS body lacks payload_b64")
    try:
        payload = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordError(f"payload_b64 is not base64: {exc}") from None
    received_ms = doc.get("received_at")
    received_at = (
        datetime.fromtimestamp(received_ms / 1000, tz=UTC)
        if isinstance(received_ms, int | float) and not isinstance(received_ms, bool)
        else fallback_received_at
    )
    client_id = doc.get("client_id")
    return InboundMessage(
        message_id=message_id,
        topic=doc["topic"],
        payload=payload,
        source="mqtt",
        received_at=received_at,
        client_id=client_id if isinstance(client_id, str) else None,
    )
