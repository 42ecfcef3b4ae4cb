"""Twin requests and command acks from IoT rules: admit the sender as ingest does, then act on them.

The rule (``SELECT encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id,
principal() AS principal, timestamp() AS received_at FROM 'tenant/+/device/+/twin/+'``) invokes the
twin Lambda with one message. A payload that is not JSON still arrives (base64) and is answered with
``rejected`` 400. The sender is re-checked with the Connect plane's sender record: the device exists,
is active, its tenant accepts messages and the MQTT client id is the device's thing name (the IoT
policy should make any other case impossible). A refused sender gets no reply: it is logged and
counted (``TwinMessageRefused``), never answered on another device's topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from pulse.commands.models import CommandAck
from pulse.commands.service import acknowledge
from pulse.connect.inbound import InboundMessage, RecordError, inbound_from_rule_record
from pulse.connect.quarantine import QuarantineReason
from pulse.connect.store import ACCEPTING_TENANT_STATUSES, lock_senders
from pulse.connect.topics import Topic, TopicError, TopicKind, parse_topic
from pulse.db import Database, tenant_transaction
from pulse.observability import logger, metrics
from pulse.twin.protocol import OutgoingMessage, handle_device_message
from pulse.twin.publishing import TwinPublisher
from pulse.twin.request import TwinLimits

TWIN_REQUEST_KINDS = frozenset({TopicKind.TWIN_UPDATE, TopicKind.TWIN_GET})
DEVICE_REQUEST_KINDS = TWIN_REQUEST_KINDS | {TopicKind.COMMAND_ACK}


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: QuarantineReason
    detail: str


def admit(db: Database, message: InboundMessage) -> Topic | Refusal:
    """The topic of an admitted twin request, or why its sender may not make it."""
    try:
        topic = parse_topic(message.topic)
    except TopicError as exc:
        return Refusal(QuarantineReason.UNKNOWN_TOPIC, str(exc))
    if topic.kind not in DEVICE_REQUEST_KINDS:
        return Refusal(QuarantineReason.UNKNOWN_TOPIC, f"{topic.kind.value} is not a twin or command ack topic")
    with tenant_transaction(db, topic.tenant_id) as conn:
        sender = lock_senders(conn, [(topic.tenant_id, topic.device_id)]).get((topic.tenant_id, topic.device_id))
    if sender is None:
        return Refusal(QuarantineReason.UNKNOWN_DEVICE, f"no device {topic.device_id!r} in {topic.tenant_id!r}")
    if sender.device_status != "active":
        return Refusal(QuarantineReason.REVOKED_DEVICE, f"device is {sender.device_status}")
    if sender.thing_name is None or message.client_id != sender.thing_name:
        return Refusal(QuarantineReason.TOPIC_MISMATCH, f"client {message.client_id!r} may not use this twin")
    if sender.tenant_status not in ACCEPTING_TENANT_STATUSES:
        return Refusal(QuarantineReason.INACTIVE_TENANT, f"tenant subscription is {sender.tenant_status}")
    return topic


def handle_rule_event(
    db: Database,
    event: dict[str, Any],
    publisher: TwinPublisher,
    *,
    request_id: str = "",
    now: datetime | None = None,
    limits: TwinLimits | None = None,
) -> list[OutgoingMessage]:
    """Answer one rule event; returns what was published. Database failures propagate (retry)."""
    at = now if now is not None else datetime.now(UTC)
    try:
        message = inbound_from_rule_record(request_id, orjson.dumps(event).decode(), fallback_received_at=at)
    except RecordError as exc:
        _refused(Refusal(QuarantineReason.SCHEMA_VIOLATION, str(exc)), str(event.get("topic", "")))
        return []
    admitted = admit(db, message)
    if isinstance(admitted, Refusal):
        _refused(admitted, message.topic)
        return []
    if admitted.kind is TopicKind.COMMAND_ACK:
        _acknowledge(db, admitted, message.payload, at)
        return []
    replies = handle_device_message(db, admitted, message.payload, now=at, limits=limits)
    publisher.publish(replies)
    logger.info(
        "twin request answered",
        extra={"topic": message.topic, "replies": [r.kind for r in replies]},
    )
    return replies


def _acknowledge(db: Database, topic: Topic, payload: bytes, at: datetime) -> None:
    try:
        ack = CommandAck.model_validate_json(payload)
    except ValidationError as exc:
        _refused(Refusal(QuarantineReason.SCHEMA_VIOLATION, str(exc)[:300]), str(topic))
        return
    acknowledge(db, topic, ack, now=at)


def _refused(refusal: Refusal, topic: str) -> None:
    metrics.add_metric(name="TwinMessageRefused", unit=MetricUnit.Count, value=1)
    logger.warning(
        "twin message refused", extra={"topic": topic[:200], "reason": refusal.reason.value, "detail": refusal.detail}
    )
