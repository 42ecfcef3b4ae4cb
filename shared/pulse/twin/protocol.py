"""The device side of the twin over MQTT (ARCHITECTURE §5 topics), as AWS's shadow topics work:

- ``twin/update``  -> ``twin/update/accepted`` (AWS ``/update/accepted`` body) and, when the update
  wrote desired and something is pending, ``twin/delta``; or ``twin/update/rejected`` with the AWS
  error body ``{"code", "message", "timestamp", "clientToken"}``.
- ``twin/get``     -> ``twin/get/accepted`` (the full document) or ``twin/get/rejected``.

Handling returns the outgoing messages; publishing them is the IoT data plane adapter's job
(``pulse.platform.aws.iot_data``). Infrastructure failures (database down) propagate so that the
message is retried; only the twin's own refusals become ``rejected`` replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pulse.connect.topics import Topic, TopicKind, build_topic
from pulse.db import Database
from pulse.twin.errors import TwinError, TwinInvalid
from pulse.twin.request import TwinLimits, client_token_of, parse_update
from pulse.twin.service import get_twin, update_twin

# Replies to twin/get follow AWS (get/accepted, get/rejected).
TWIN_GET_ACCEPTED = TopicKind.TWIN_GET_ACCEPTED.value
TWIN_GET_REJECTED = TopicKind.TWIN_GET_REJECTED.value


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One publication to a device: ``kind`` is the topic suffix, ``topic`` the full MQTT topic."""

    kind: str
    topic: str
    payload: dict[str, Any]


def _reply(topic: Topic, kind: str, payload: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(kind, build_topic(topic.tenant_id, topic.device_id, TopicKind(kind)), payload)


def rejection_body(error: TwinError, client_token: str | None, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.status, "message": error.detail, "timestamp": int(now.timestamp())}
    if client_token is not None:
        body["clientToken"] = client_token
    return body


def handle_device_message(
    db: Database, topic: Topic, payload: bytes, *, now: datetime | None = None, limits: TwinLimits | None = None
) -> list[OutgoingMessage]:
    """Answer one ``twin/update`` or ``twin/get`` message published by ``topic``'s device."""
    at = now if now is not None else datetime.now(UTC)
    if topic.kind is TopicKind.TWIN_UPDATE:
        return _handle_update(db, topic, payload, at, limits)
    if topic.kind is TopicKind.TWIN_GET:
        return _handle_get(db, topic, payload, at)
    raise ValueError(f"not a twin request topic: {topic.kind}")


def _handle_update(
    db: Database, topic: Topic, payload: bytes, at: datetime, limits: TwinLimits | None
) -> list[OutgoingMessage]:
    token = client_token_of(payload)
    try:
        change = update_twin(
            db,
            topic.tenant_id,
            topic.device_id,
            parse_update(payload, limits),
            source="device",
            actor=f"device:{topic.device_id}",
            now=at,
            limits=limits,
        )
    except TwinError as exc:
        return [_reply(topic, TopicKind.TWIN_UPDATE_REJECTED.value, rejection_body(exc, token, at))]
    out = [_reply(topic, TopicKind.TWIN_UPDATE_ACCEPTED.value, change.accepted_message())]
    delta = change.delta_message()
    if delta is not None:
        out.append(_reply(topic, TopicKind.TWIN_DELTA.value, delta))
    return out


def _handle_get(db: Database, topic: Topic, payload: bytes, at: datetime) -> list[OutgoingMessage]:
    """A get body is empty or a JSON object (AWS accepts ``{"clientToken": ...}``)."""
    token = client_token_of(payload) if payload.strip() else None
    try:
        if payload.strip():
            try:
                body = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise TwinInvalid("body: Invalid JSON") from None
            if not isinstance(body, dict):
                raise TwinInvalid("body: must be a JSON object")
        document = get_twin(db, topic.tenant_id, topic.device_id)
    except TwinError as exc:
        return [_reply(topic, TWIN_GET_REJECTED, rejection_body(exc, token, at))]
    return [_reply(topic, TWIN_GET_ACCEPTED, document.to_response(token))]
